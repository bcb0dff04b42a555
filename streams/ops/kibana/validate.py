"""The offline validator: every problem of a set of saved objects (references, nested JSON, dashboard grid, Lens
layers and columns, saved searches, filters and queries), each field checked against the index mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from streams.ops.kibana.mappings import AGGREGATABLE_TYPES, DATE_TYPES, KEYWORD_TYPES, NUMERIC_TYPES, default_mappings
from streams.ops.kibana.objects import KibanaObjectsError, _label, load_objects, nested_json

GRID_COLUMNS = 48  # Kibana's dashboard grid

#: Lens operation -> the field types it accepts.
LENS_OPERATION_TYPES: dict[str, frozenset[str]] = {
    "terms": KEYWORD_TYPES | {"ip", "boolean"},
    "date_histogram": DATE_TYPES,
    "average": NUMERIC_TYPES,
    "sum": NUMERIC_TYPES,
    "min": NUMERIC_TYPES | DATE_TYPES,
    "max": NUMERIC_TYPES | DATE_TYPES,
    "median": NUMERIC_TYPES,
    "percentile": NUMERIC_TYPES,
    "percentile_rank": NUMERIC_TYPES,
    "standard_deviation": NUMERIC_TYPES,
    "range": NUMERIC_TYPES,
    "unique_count": AGGREGATABLE_TYPES,
    "count": AGGREGATABLE_TYPES,
    "last_value": AGGREGATABLE_TYPES,
}
#: Lens column ``dataType`` -> the field types behind it.
LENS_DATA_TYPES: dict[str, frozenset[str]] = {
    "string": KEYWORD_TYPES,
    "number": NUMERIC_TYPES,
    "date": DATE_TYPES,
    "ip": frozenset({"ip"}),
    "boolean": frozenset({"boolean"}),
}
RECORDS = "___records___"  # Lens' pseudo-field of count()

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# ``field : value`` and KQL's ranges ``field <= value`` (``<``, ``<=``, ``>``, ``>=``)
_KQL_FIELD = re.compile(r"(?<![\w.@*])([A-Za-z_@][\w.@]*)\s*(?::|<=?|>=?)")


def kql_fields(query: str) -> list[str]:
    """Field names a KQL (or simple Lucene) query names as ``field : value`` or ``field <= value`` (quoted values ignored)."""
    return _KQL_FIELD.findall(_QUOTED.sub('""', query or ""))


#: Lens formula functions that take a field as their first argument.
_FORMULA_FIELD_FUNCTIONS = frozenset(LENS_OPERATION_TYPES) - {"count", "terms", "date_histogram", "range"}
_FORMULA_KQL = re.compile(r"""kql\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")
_FORMULA_CALL = re.compile(r"\b([a-z_]+)\(\s*([A-Za-z_@][\w.@]*)\s*[,)]")
#: Value formats Lens offers (format_selector.tsx), and the duration format's units.
LENS_FORMATS = frozenset({"number", "percent", "bytes", "bits", "duration", "custom"})
DURATION_FROM_UNITS = frozenset({"picoseconds", "nanoseconds", "microseconds", "milliseconds", "seconds", "minutes",
                                 "hours", "days", "weeks", "months", "years"})
DURATION_TO_UNITS = frozenset({"humanize", "humanizePrecise", "asMilliseconds", "asSeconds", "asMinutes", "asHours",
                               "asDays", "asWeeks", "asMonths", "asYears"})
TERMS_ORDER_TYPES = frozenset({"alphabetical", "rare", "significant", "column", "custom"})


def formula_fields(formula: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The KQL filters (``kql='...'``) of a Lens formula, and its ``(function, field)`` calls such as
    ``median(response_time_s)``; functions without a field (``count()``, ``count(kql=...)``) give none."""
    queries = [single or double for single, double in _FORMULA_KQL.findall(formula)]
    without_kql = _FORMULA_KQL.sub("kql=''", formula)
    calls = [(name, field) for name, field in _FORMULA_CALL.findall(without_kql) if name in _FORMULA_FIELD_FUNCTIONS]
    return queries, calls


@dataclass
class Check:
    """The state of one validation run: the objects by (type, id), and the problems found."""

    objects: dict[tuple[str, str], dict[str, Any]]
    mappings: Mapping[str, Mapping[str, str]]
    problems: list[str] = field(default_factory=list)

    def problem(self, obj: Mapping[str, Any], message: str) -> None:
        self.problems.append(f"{_label(obj)}: {message}")

    def data_view_fields(self, data_view_id: str) -> Mapping[str, str] | None:
        dv = self.objects.get(("index-pattern", data_view_id))
        if dv is None:
            return None
        return self.mappings.get(dv["attributes"].get("title", ""))

    def reference(self, obj: Mapping[str, Any], name: str, want_type: str | None = None) -> dict[str, Any] | None:
        for ref in obj.get("references", []):
            if ref.get("name") == name:
                if want_type and ref.get("type") != want_type:
                    self.problem(obj, f"reference {name!r} has type {ref.get('type')!r}, expected {want_type!r}")
                return ref
        self.problem(obj, f"no reference named {name!r}")
        return None

    def field_use(self, obj: Mapping[str, Any], fields: Mapping[str, str] | None, name: str, allowed: Iterable[str] | None, use: str) -> str | None:
        """Check that ``name`` is in the mapping with a type in ``allowed`` (any type when None)."""
        if fields is None:
            return None
        kind = fields.get(name)
        if kind is None:
            self.problem(obj, f"{use}: field {name!r} is not in the index mapping")
            return None
        if allowed is not None and kind not in allowed:
            self.problem(obj, f"{use}: field {name!r} is of type {kind!r}; this needs one of {', '.join(sorted(allowed))}")
        return kind


def check_objects(objects: list[dict[str, Any]], mappings: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """Every problem of a set of saved objects, as ``type/id: what is wrong`` lines (empty when fine)."""
    mappings = default_mappings() if mappings is None else mappings
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    check = Check(by_key, mappings)
    for obj in objects:
        key = (str(obj.get("type")), str(obj.get("id")))
        if key in by_key:
            check.problem(obj, "appears twice")
        by_key[key] = obj

    for obj in objects:
        try:
            parsed = nested_json(obj)
        except KibanaObjectsError as exc:
            check.problems.append(str(exc))
            continue
        _check_references(check, obj)
        kind = obj.get("type")
        if kind == "index-pattern":
            _check_data_view(check, obj, parsed)
        elif kind == "lens":
            _check_lens(check, obj, parsed)
        elif kind == "search":
            _check_search(check, obj, parsed)
        elif kind == "dashboard":
            _check_dashboard(check, obj, parsed)
        elif kind == "visualization":
            _check_legacy_visualization(check, obj, parsed)
    return check.problems


def _check_references(check: Check, obj: Mapping[str, Any]) -> None:
    names: set[str] = set()
    for ref in obj.get("references", []):
        if not isinstance(ref, Mapping) or not all(isinstance(ref.get(k), str) and ref.get(k) for k in ("name", "type", "id")):
            check.problem(obj, f"reference {ref!r} needs a name, a type and an id")
            continue
        if ref["name"] in names:
            check.problem(obj, f"reference name {ref['name']!r} is used twice")
        names.add(ref["name"])
        if (ref["type"], ref["id"]) not in check.objects:
            what = "data view" if ref["type"] == "index-pattern" else ref["type"]
            check.problem(obj, f"reference {ref['name']!r} points to {what} {ref['id']!r}, which is not in the file")


def _check_data_view(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
    attributes = obj["attributes"]
    title = attributes.get("title")
    if not title:
        check.problem(obj, "a data view needs a title (its index pattern)")
        return
    fields = check.mappings.get(title)
    if fields is None:
        check.problem(obj, f"no index mapping is known for the data view title {title!r} (known: {', '.join(sorted(check.mappings))})")
        return
    time_field = attributes.get("timeFieldName")
    if time_field:
        check.field_use(obj, fields, time_field, DATE_TYPES, "time field")
    for name in parsed.get("fieldFormatMap", {}) or {}:
        check.field_use(obj, fields, name, None, "field format")


def _check_filters(check: Check, obj: Mapping[str, Any], filters: Any, default_fields: Mapping[str, str] | None, where: str) -> None:
    if not isinstance(filters, list):
        check.problem(obj, f"{where}: filters must be a list")
        return
    for number, item in enumerate(filters):
        meta = item.get("meta", {}) if isinstance(item, Mapping) else {}
        fields = default_fields
        ref_name = meta.get("indexRefName")
        if ref_name:
            ref = check.reference(obj, ref_name, "index-pattern")
            fields = check.data_view_fields(ref["id"]) if ref else None
        elif meta.get("index"):
            check.problem(obj, f"{where}: filter {number} names its data view by id ({meta['index']!r}) instead of a reference (meta.indexRefName)")
        if meta.get("key"):
            check.field_use(obj, fields, meta["key"], None, f"{where} filter {number}")
        query = item.get("query", {}) if isinstance(item, Mapping) else {}
        for clause in ("match_phrase", "match", "term", "terms"):
            for name in (query.get(clause) or {}) if isinstance(query, Mapping) else {}:
                check.field_use(obj, fields, name, KEYWORD_TYPES | NUMERIC_TYPES | DATE_TYPES | {"boolean", "ip"}, f"{where} filter {number} ({clause})")


def _check_query(check: Check, obj: Mapping[str, Any], query: Any, fields: Mapping[str, str] | None, where: str) -> None:
    if isinstance(query, Mapping) and isinstance(query.get("query"), str):
        for name in kql_fields(query["query"]):
            check.field_use(obj, fields, name, None, f"{where} query")


def _check_lens(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
    state = parsed.get("state", obj["attributes"].get("state"))
    if not isinstance(state, Mapping):
        check.problem(obj, "a Lens visualisation needs attributes.state")
        return
    if not obj["attributes"].get("visualizationType"):
        check.problem(obj, "a Lens visualisation needs attributes.visualizationType")
    datasources = state.get("datasourceStates", {})
    if "indexpattern" in datasources and datasources["indexpattern"].get("layers"):
        check.problem(obj, "uses the pre-8.6 'indexpattern' datasource; Kibana 8.19 saves 'formBased'")
    layers = (datasources.get("formBased") or {}).get("layers") or {}
    if not layers:
        check.problem(obj, "has no formBased layer")
    columns_all: set[str] = set()
    layer_fields: dict[str, Mapping[str, str] | None] = {}
    for layer_id, layer in layers.items():
        ref = check.reference(obj, f"indexpattern-datasource-layer-{layer_id}", "index-pattern")
        fields = check.data_view_fields(ref["id"]) if ref else None
        layer_fields[layer_id] = fields
        columns = layer.get("columns") or {}
        columns_all.update(columns)
        order = layer.get("columnOrder") or []
        if sorted(order) != sorted(columns):
            check.problem(obj, f"layer {layer_id}: columnOrder does not list exactly the layer's columns")
        for column_id, column in columns.items():
            _check_lens_column(check, obj, fields, columns, column_id, column)
    first_fields = next(iter(layer_fields.values()), None)
    _check_query(check, obj, state.get("query"), first_fields, "Lens")
    _check_filters(check, obj, state.get("filters", []), first_fields, "Lens")
    for column_id in _visualization_column_ids(state.get("visualization") or {}):
        if column_id not in columns_all:
            check.problem(obj, f"the visualisation uses column {column_id!r}, which no layer has")
    for layer_id in _visualization_layer_ids(state.get("visualization") or {}):
        if layer_id not in layers:
            check.problem(obj, f"the visualisation uses layer {layer_id!r}, which the datasource does not have")


def _check_lens_column(check: Check, obj, fields, columns, column_id: str, column: Mapping[str, Any]) -> None:
    operation = column.get("operationType")
    source = column.get("sourceField")
    where = f"column {column.get('label', column_id)!r} ({operation})"
    if source and source != RECORDS:
        allowed = LENS_OPERATION_TYPES.get(operation)
        kind = check.field_use(obj, fields, source, allowed, where)
        data_type = column.get("dataType")
        if kind is not None and data_type in LENS_DATA_TYPES and operation not in ("count", "unique_count"):
            if kind not in LENS_DATA_TYPES[data_type]:
                check.problem(obj, f"{where}: dataType {data_type!r} does not match field {source!r} of type {kind!r}")
    elif operation in LENS_OPERATION_TYPES and operation != "count":
        check.problem(obj, f"{where}: needs a sourceField")
    params = column.get("params") or {}
    order_by = params.get("orderBy") or {}
    if order_by.get("type") == "column" and order_by.get("columnId") not in columns:
        check.problem(obj, f"{where}: orders by column {order_by.get('columnId')!r}, which the layer does not have")
    for referenced in column.get("references") or []:
        if referenced not in columns:
            check.problem(obj, f"{where}: references column {referenced!r}, which the layer does not have")
    if isinstance(column.get("filter"), Mapping):
        _check_query(check, obj, column["filter"], fields, where)
    _check_column_params(check, obj, fields, columns, where, column)


def _check_column_params(check: Check, obj, fields, columns, where: str, column: Mapping[str, Any]) -> None:
    """What each operation needs in ``params`` (Lens drops or breaks a column that lacks it)."""
    operation = column.get("operationType")
    params = column.get("params") or {}
    if operation == "terms":
        _check_terms_order(check, obj, fields, where, column, params)
    elif operation == "percentile":
        value = params.get("percentile")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 100:
            check.problem(obj, f"{where}: params.percentile must be a number in (0, 100], not {value!r}")
    elif operation == "last_value":
        if not params.get("sortField"):
            check.problem(obj, f"{where}: params.sortField must name the date field that decides the last value")
        else:
            check.field_use(obj, fields, params["sortField"], DATE_TYPES, f"{where} sortField")
    elif operation == "formula":
        _check_formula(check, obj, fields, columns, where, column, params)
    elif operation == "math":
        _check_math(check, obj, columns, where, column, params)
    if isinstance(params.get("format"), Mapping):
        _check_format(check, obj, where, params["format"])


def _check_terms_order(check: Check, obj, fields, where: str, column: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    order_type = (params.get("orderBy") or {}).get("type")
    if order_type not in TERMS_ORDER_TYPES:
        check.problem(obj, f"{where}: params.orderBy.type {order_type!r} is none of {', '.join(sorted(TERMS_ORDER_TYPES))}")
    if order_type in ("rare", "significant") and params.get("secondaryFields"):
        check.problem(obj, f"{where}: ranking by {order_type} takes one field; remove params.secondaryFields")
    if order_type == "significant" and fields is not None:
        # Lens offers significance for keyword fields only (supportsSignificantRanking) and resets others
        check.field_use(obj, fields, column.get("sourceField", ""), frozenset({"keyword"}), f"{where} ranked by significance")
    if order_type == "rare" and not isinstance((params.get("orderBy") or {}).get("maxDocCount"), int):
        check.problem(obj, f"{where}: ranking by rarity needs params.orderBy.maxDocCount (an integer)")


def _check_formula(check: Check, obj, fields, columns, where: str, column: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """A formula runs through its managed columns (``references``); its text must still name real fields,
    or the editor shows it broken on the first edit."""
    formula = params.get("formula")
    if not isinstance(formula, str) or not formula.strip():
        check.problem(obj, f"{where}: params.formula must be the formula text")
        return
    if params.get("isFormulaBroken"):
        check.problem(obj, f"{where}: params.isFormulaBroken is true: fix the formula in Lens and save it again")
    references = column.get("references") or []
    if len(references) != 1:
        check.problem(obj, f"{where}: a formula references exactly one column (its last managed column), not {references!r}")
    queries, calls = formula_fields(formula)
    for query in queries:
        _check_query(check, obj, {"query": query}, fields, f"{where} kql")
    for function, name in calls:
        check.field_use(obj, fields, name, LENS_OPERATION_TYPES.get(function), f"{where} {function}()")


def _check_math(check: Check, obj, columns, where: str, column: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    ast = params.get("tinymathAst")
    if not isinstance(ast, (Mapping, str, int, float)) or ast == "":
        check.problem(obj, f"{where}: params.tinymathAst is missing (the formula's arithmetic)")
        return
    for name in _math_variables(ast):
        if name not in columns:
            check.problem(obj, f"{where}: the arithmetic uses column {name!r}, which the layer does not have")
        elif name not in (column.get("references") or []):
            check.problem(obj, f"{where}: the arithmetic uses column {name!r} but references does not list it")


def _math_variables(node: Any) -> list[str]:
    """Column ids in a tinymath AST: string arguments, or ``{"type": "variable", "value": id}``."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, Mapping):
        if node.get("type") == "variable":
            return [str(node.get("value"))]
        return [name for arg in node.get("args") or [] for name in _math_variables(arg)]
    return []


def _check_format(check: Check, obj, where: str, format_: Mapping[str, Any]) -> None:
    format_id = format_.get("id")
    if format_id not in LENS_FORMATS:
        check.problem(obj, f"{where}: value format {format_id!r} is none of {', '.join(sorted(LENS_FORMATS))}")
    if format_id == "duration":
        fmt_params = format_.get("params") or {}
        for key, allowed in (("fromUnit", DURATION_FROM_UNITS), ("toUnit", DURATION_TO_UNITS)):
            if fmt_params.get(key) not in allowed:
                check.problem(obj, f"{where}: duration format {key} {fmt_params.get(key)!r} is none of {', '.join(sorted(allowed))}")


_COLUMN_KEYS = ("accessors", "xAccessor", "splitAccessor", "metricAccessor", "maxAccessor", "breakdownByAccessor",
                "secondaryMetricAccessor", "primaryGroups", "secondaryGroups", "metrics", "metric", "valueAccessor",
                "columnId", "sizeAccessor")


def _visualization_column_ids(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in _COLUMN_KEYS:
                found.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
            elif key not in ("palette", "colorMapping", "annotations"):
                found.extend(_visualization_column_ids(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_visualization_column_ids(item))
    return found


def _visualization_layer_ids(visualization: Mapping[str, Any]) -> list[str]:
    ids = [layer.get("layerId") for layer in visualization.get("layers", []) if isinstance(layer, Mapping) and layer.get("layerType", "data") == "data"]
    if visualization.get("layerId"):
        ids.append(visualization["layerId"])
    return [i for i in ids if i]


def _search_source(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> tuple[dict[str, Any], Mapping[str, str] | None]:
    source = parsed.get("kibanaSavedObjectMeta.searchSourceJSON")
    if source is None:
        return {}, None
    if not isinstance(source, dict):
        check.problem(obj, "searchSourceJSON must be a JSON object")
        return {}, None
    fields = None
    if source.get("indexRefName"):
        ref = check.reference(obj, source["indexRefName"], "index-pattern")
        fields = check.data_view_fields(ref["id"]) if ref else None
    elif source.get("index"):
        check.problem(obj, f"searchSourceJSON names its data view by id ({source['index']!r}) instead of a reference (indexRefName)")
    return source, fields


def _check_search(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
    source, fields = _search_source(check, obj, parsed)
    if fields is None and not source.get("indexRefName"):
        check.problem(obj, "a saved search needs a data view (searchSourceJSON.indexRefName)")
    attributes = obj["attributes"]
    for name in attributes.get("columns", []):
        check.field_use(obj, fields, name, None, "column")
    for item in attributes.get("sort", []):
        if isinstance(item, list) and item:
            check.field_use(obj, fields, item[0], AGGREGATABLE_TYPES, "sort")
            if len(item) > 1 and item[1] not in ("asc", "desc"):
                check.problem(obj, f"sort direction {item[1]!r} is neither asc nor desc")
    _check_query(check, obj, source.get("query"), fields, "search")
    _check_filters(check, obj, source.get("filter", []), fields, "search")


def _check_dashboard(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
    panels = parsed.get("panelsJSON")
    if not isinstance(panels, list):
        check.problem(obj, "panelsJSON must be a JSON list")
        return
    used_refs: set[str] = set()
    seen: set[str] = set()
    cells: dict[tuple[int, int], str] = {}
    for number, panel in enumerate(panels):
        index = str(panel.get("panelIndex", ""))
        if not index:
            check.problem(obj, f"panel {number} has no panelIndex")
            continue
        if index in seen:
            check.problem(obj, f"panelIndex {index!r} is used twice")
        seen.add(index)
        grid = panel.get("gridData") or {}
        if str(grid.get("i")) != index:
            check.problem(obj, f"panel {index}: gridData.i {grid.get('i')!r} differs from its panelIndex")
        x, y, w, h = (grid.get(k) for k in ("x", "y", "w", "h"))
        if not all(isinstance(v, int) for v in (x, y, w, h)) or w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > GRID_COLUMNS:
            check.problem(obj, f"panel {index}: gridData {grid} does not fit the {GRID_COLUMNS}-column grid")
        else:
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    other = cells.setdefault((cx, cy), index)
                    if other != index:
                        check.problem(obj, f"panel {index} overlaps panel {other}")
                        break
                else:
                    continue
                break
        ref_name = panel.get("panelRefName")
        if ref_name:
            full = f"{index}:{ref_name}"
            used_refs.add(full)
            ref = check.reference(obj, full)
            if ref and panel.get("type") and ref.get("type") != panel["type"]:
                check.problem(obj, f"panel {index} is of type {panel['type']!r} but its reference points to a {ref.get('type')!r}")
        elif isinstance((panel.get("embeddableConfig") or {}).get("attributes"), Mapping):
            pass  # a by-value panel: its references live in the dashboard under "<panelIndex>:<name>"
        else:
            check.problem(obj, f"panel {index} has neither a panelRefName nor by-value attributes")
    for ref in obj.get("references", []):
        name = ref.get("name", "")
        if ":panel_" in name and name not in used_refs:
            check.problem(obj, f"reference {name!r} belongs to no panel")
    source, fields = _search_source(check, obj, parsed)
    _check_query(check, obj, source.get("query"), fields, "dashboard")
    _check_filters(check, obj, source.get("filter", []), fields, "dashboard")


def _check_legacy_visualization(check: Check, obj: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
    """Aggregation-based visualisations: each agg's ``params.field`` against the mapping."""
    _, fields = _search_source(check, obj, parsed)
    vis = parsed.get("visState")
    if not isinstance(vis, Mapping):
        return
    agg_types = {"terms": LENS_OPERATION_TYPES["terms"], "date_histogram": DATE_TYPES, "avg": NUMERIC_TYPES, "sum": NUMERIC_TYPES,
                 "max": NUMERIC_TYPES | DATE_TYPES, "min": NUMERIC_TYPES | DATE_TYPES, "cardinality": AGGREGATABLE_TYPES,
                 "histogram": NUMERIC_TYPES, "median": NUMERIC_TYPES, "top_hits": None}
    for agg in vis.get("aggs", []):
        name = (agg.get("params") or {}).get("field")
        if name:
            check.field_use(obj, fields, name, agg_types.get(agg.get("type")), f"{agg.get('type')} aggregation")


def validate_file(path: Path | str, mappings: Mapping[str, Mapping[str, str]] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Load and check a file: (objects, problems). A file that does not parse gives no objects and its error."""
    try:
        objects = load_objects(path)
    except KibanaObjectsError as exc:
        return [], [str(exc)]
    return objects, check_objects(objects, mappings)
