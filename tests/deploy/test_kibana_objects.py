"""Offline checks of the Kibana saved objects in deploy/kibana/lytter.ndjson.

The checks here walk the file themselves (their own mapping flattening and type rules), so they do not
merely trust ``streams.ops.kibana``'s validator; the validator is then tested on the shipped file and on
broken copies of it.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from streams.ops.kibana import KibanaObjectsError, check_objects, default_mappings, flatten_mapping, kql_fields, parse_ndjson
from streams.sinks.elasticsearch import alert_mappings, mention_mappings

REPO = Path(__file__).resolve().parents[2]
NDJSON = REPO / "deploy" / "kibana" / "lytter.ndjson"
BUILDER = REPO / "deploy" / "kibana" / "build_objects.py"

NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
OPERATION_FIELD_TYPES = {
    "terms": {"keyword"},
    "date_histogram": {"date"},
    "average": NUMERIC,
    "sum": NUMERIC,
    "max": NUMERIC | {"date"},  # Lens: the newest / oldest date too
    "min": NUMERIC | {"date"},
    "median": NUMERIC,
    "percentile": NUMERIC,
    "unique_count": {"keyword", "date", "boolean"} | NUMERIC,
    "last_value": {"keyword", "date", "boolean"} | NUMERIC,
    "count": None,  # count() of records; any aggregatable field otherwise
    "formula": None,  # no field: it runs through its managed columns
    "math": None,
}
FIELDLESS = {"formula", "math"}
#: The Lens dataType of a column on a field of each mapping type (count and unique_count are numbers)
DATA_TYPE_OF_FIELD = {"keyword": "string", "date": "date", "boolean": "boolean", **{kind: "number" for kind in NUMERIC}}


# ------------------------------------------------------------------------------------------------
# helpers (independent of streams.ops.kibana)
# ------------------------------------------------------------------------------------------------


def _lines() -> list[str]:
    return [line for line in NDJSON.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines()]


def _by_key(objects):
    return {(o["type"], o["id"]): o for o in objects}


def _flatten(mapping: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in mapping.get("properties", {}).items():
        path = prefix + name
        if spec.get("enabled") is False:
            continue
        if "properties" in spec:
            out.update(_flatten(spec, path + "."))
            continue
        out[path] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec["type"]
    return out


MENTION_FIELDS = _flatten(mention_mappings(language_fields=False))
ALERT_FIELDS = _flatten(alert_mappings())


def _fields_of_data_view(objects, data_view_id: str) -> dict[str, str]:
    title = _by_key(objects)[("index-pattern", data_view_id)]["attributes"]["title"]
    if title.startswith("lytter-mentions"):
        return MENTION_FIELDS
    if title == "lytter-alerts":
        return ALERT_FIELDS
    raise AssertionError(f"no mapping for data view title {title!r}")


def _lens_state(obj) -> dict:
    state = obj["attributes"]["state"]
    return json.loads(state) if isinstance(state, str) else state


def _layers(obj) -> Iterator[tuple[str, dict]]:
    yield from _lens_state(obj)["datasourceStates"]["formBased"]["layers"].items()


def _ref(obj, name: str) -> dict:
    matches = [r for r in obj["references"] if r["name"] == name]
    assert len(matches) == 1, f"{obj['type']}/{obj['id']}: expected one reference named {name!r}, found {len(matches)}"
    return matches[0]


def _search_source(obj) -> dict:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def _strings_that_hold_json(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string attribute Kibana keeps as JSON: keys ending in JSON, and the data-view string attributes."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, str) and (key.endswith("JSON") or key in ("fieldFormatMap", "fieldAttrs", "fields", "runtimeFieldMap", "typeMeta", "visState", "state")):
                yield here, value
            else:
                yield from _strings_that_hold_json(value, here)


def _kql_fields(query: str) -> list[str]:
    return re.findall(r"([A-Za-z_][\w.]*)\s*:", re.sub(r'"[^"]*"', '""', query))


# ------------------------------------------------------------------------------------------------
# the file itself
# ------------------------------------------------------------------------------------------------


def test_every_line_is_a_saved_object():
    lines = _lines()
    assert lines, "the file is empty"
    keys = set()
    for number, line in enumerate(lines, start=1):
        obj = json.loads(line)  # raises with the position when a line is not JSON
        assert isinstance(obj, dict), f"line {number}"
        for key in ("id", "type", "attributes", "references", "coreMigrationVersion", "typeMigrationVersion"):
            assert key in obj, f"line {number}: {key} missing"
        assert obj["type"] in ("index-pattern", "lens", "search", "dashboard"), obj["type"]
        assert (obj["type"], obj["id"]) not in keys, f"line {number}: {obj['type']}/{obj['id']} twice"
        keys.add((obj["type"], obj["id"]))
        # 8.x migration versions: never newer than a Kibana 8.19 knows
        major = int(obj["typeMigrationVersion"].split(".")[0])
        assert major == 8 or obj["type"] == "search" and obj["typeMigrationVersion"] == "7.9.3"
        assert obj["coreMigrationVersion"] == "8.8.0"


def test_file_is_what_the_builder_writes():
    spec = importlib.util.spec_from_file_location("lytter_kibana_builder", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(module.build()) == NDJSON.read_text(encoding="utf-8"), (
        "deploy/kibana/lytter.ndjson is out of date: run .venv/bin/python deploy/kibana/build_objects.py"
    )


def test_nested_json_strings_parse(objects):
    seen = set()
    for obj in objects:
        for path, raw in _strings_that_hold_json(obj["attributes"]):
            try:
                json.loads(raw)
            except json.JSONDecodeError as exc:  # pragma: no cover - the failure message is the point
                pytest.fail(f"{obj['type']}/{obj['id']}: attributes.{path} is not JSON: {exc}")
            seen.add(path.split(".")[-1])
    assert {"panelsJSON", "optionsJSON", "searchSourceJSON", "fieldFormatMap"} <= seen


def test_charts_nest_terms_outside_the_date_histogram(objects):
    # Kibana's editor order: "top 10 brands" over the whole range, not per time bucket
    for obj in objects:
        if obj["type"] != "lens":
            continue
        for layer in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values():
            ops = [layer["columns"][c]["operationType"] for c in layer["columnOrder"] if layer["columns"][c]["isBucketed"]]
            if "terms" in ops and "date_histogram" in ops:
                assert ops.index("terms") < ops.index("date_histogram"), obj["id"]


def test_an_axis_and_its_time_filter_agree(objects):
    views = {o["id"]: o["attributes"] for o in objects if o["type"] == "index-pattern"}
    for obj in objects:
        if obj["type"] != "lens":
            continue
        [ref] = [r for r in obj["references"] if r["type"] == "index-pattern"]
        for layer in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values():
            for col in layer["columns"].values():
                if col["operationType"] == "date_histogram":
                    assert col["sourceField"] == views[ref["id"]]["timeFieldName"], obj["id"]


def test_data_views(objects):
    views = {o["id"]: o["attributes"] for o in objects if o["type"] == "index-pattern"}
    assert set(views) == {"lytter-mentions", "lytter-alerts", "lytter-alerts-opened-at"}
    assert views["lytter-alerts-opened-at"]["timeFieldName"] == "opened_at"  # the time filter of the opened_at chart
    mentions, alerts = views["lytter-mentions"], views["lytter-alerts"]
    # the pattern covers the alias lytter-mentions and its indices lytter-mentions-000001, ...
    assert mentions["title"] == "lytter-mentions*"
    assert re.fullmatch(mentions["title"].replace("*", ".*"), "lytter-mentions")
    assert re.fullmatch(mentions["title"].replace("*", ".*"), "lytter-mentions-000001")
    assert mentions["timeFieldName"] == "published_at" and MENTION_FIELDS["published_at"] == "date"
    assert alerts["title"] == "lytter-alerts"
    assert alerts["timeFieldName"] == "updated_at" and ALERT_FIELDS["updated_at"] == "date"
    for name in json.loads(mentions["fieldFormatMap"]):
        assert name in MENTION_FIELDS


def test_every_reference_resolves(objects):
    keys = set(_by_key(objects))
    data_views = {o["id"] for o in objects if o["type"] == "index-pattern"}
    for obj in objects:
        names = [r["name"] for r in obj["references"]]
        assert len(names) == len(set(names)), f"{obj['id']}: duplicate reference names"
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in keys, f"{obj['type']}/{obj['id']}: reference {ref} is not in the file"
            if ref["type"] == "index-pattern":
                assert ref["id"] in data_views


def test_dashboard_panels_and_references_match(objects):
    by_key = _by_key(objects)
    dashboards = [o for o in objects if o["type"] == "dashboard"]
    assert len(dashboards) == 6
    for dash in dashboards:
        panels = json.loads(dash["attributes"]["panelsJSON"])
        assert panels, dash["id"]
        panel_refs = {f"{p['panelIndex']}:{p['panelRefName']}": p for p in panels}
        dash_panel_refs = {r["name"]: r for r in dash["references"] if ":panel_" in r["name"]}
        assert set(panel_refs) == set(dash_panel_refs), dash["id"]
        for name, panel in panel_refs.items():
            ref = dash_panel_refs[name]
            assert ref["type"] == panel["type"]
            assert (ref["type"], ref["id"]) in by_key
            assert panel["gridData"]["i"] == panel["panelIndex"]
            assert 0 <= panel["gridData"]["x"] and panel["gridData"]["x"] + panel["gridData"]["w"] <= 48
        # no two panels cover the same cell
        cells = {}
        for panel in panels:
            g = panel["gridData"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{dash['id']}: panels {cells.get((x, y))} and {panel['panelIndex']} overlap"
                    cells[(x, y)] = panel["panelIndex"]
        json.loads(dash["attributes"]["optionsJSON"])
        source = _search_source(dash)
        for item in source.get("filter", []):
            ref = _ref(dash, item["meta"]["indexRefName"])
            assert ref["type"] == "index-pattern"


def test_lens_layers_reference_their_data_view(objects):
    data_views = {o["id"] for o in objects if o["type"] == "index-pattern"}
    lenses = [o for o in objects if o["type"] == "lens"]
    assert lenses
    for lens in lenses:
        state = _lens_state(lens)
        assert "indexpattern" not in state["datasourceStates"], "8.19 Lens uses the formBased datasource"
        for layer_id, layer in _layers(lens):
            ref = _ref(lens, f"indexpattern-datasource-layer-{layer_id}")
            assert ref["type"] == "index-pattern" and ref["id"] in data_views
            assert sorted(layer["columnOrder"]) == sorted(layer["columns"])
        vis = state["visualization"]
        layer_ids = {layer_id for layer_id, _ in _layers(lens)}
        columns = {c for _, layer in _layers(lens) for c in layer["columns"]}
        vis_layers = [layer["layerId"] for layer in vis.get("layers", [])] or [vis["layerId"]]
        assert set(vis_layers) <= layer_ids
        used = []
        for layer in vis.get("layers", [vis]):
            for key in ("accessors", "metrics", "primaryGroups"):
                used += layer.get(key, [])
            for key in ("xAccessor", "splitAccessor", "metricAccessor", "secondaryMetricAccessor"):
                if layer.get(key):
                    used.append(layer[key])
            used += [c["columnId"] for c in layer.get("columns", [])]
        if "sorting" in vis:
            used.append(vis["sorting"]["columnId"])
        assert used and set(used) <= columns, lens["id"]


def test_every_field_exists_with_a_compatible_type(objects):
    checked = 0
    for obj in objects:
        if obj["type"] == "lens":
            for layer_id, layer in _layers(obj):
                fields = _fields_of_data_view(objects, _ref(obj, f"indexpattern-datasource-layer-{layer_id}")["id"])
                for column in layer["columns"].values():
                    op, source = column["operationType"], column.get("sourceField")
                    assert op in OPERATION_FIELD_TYPES, f"{obj['id']}: operation {op} not covered by this test"
                    if source == "___records___":
                        assert op == "count"
                    elif op in FIELDLESS:
                        assert source is None, f"{obj['id']}: {op} column with a sourceField"
                    else:
                        assert source in fields, f"{obj['id']}: {source!r} is not in the mapping"
                        assert fields[source] in OPERATION_FIELD_TYPES[op], f"{obj['id']}: {op} on {source} ({fields[source]})"
                        expected = "number" if op == "unique_count" else DATA_TYPE_OF_FIELD[fields[source]]
                        assert column["dataType"] == expected, f"{obj['id']}: {op} on {source}"
                        checked += 1
                    if "filter" in column:
                        for name in _kql_fields(column["filter"]["query"]):
                            assert name in fields
                    order = column.get("params", {}).get("orderBy", {})
                    if order.get("type") == "column":
                        assert order["columnId"] in layer["columns"]
                for name in _kql_fields(_lens_state(obj)["query"]["query"]):
                    assert name in fields, f"{obj['id']}: query field {name}"
                    checked += 1
        elif obj["type"] == "search":
            source = _search_source(obj)
            fields = _fields_of_data_view(objects, _ref(obj, source["indexRefName"])["id"])
            for name in obj["attributes"]["columns"]:
                assert name in fields, f"{obj['id']}: column {name}"
                checked += 1
            for name, direction in obj["attributes"]["sort"]:
                assert fields[name] != "text" and direction in ("asc", "desc")
            for item in source["filter"]:
                filter_fields = _fields_of_data_view(objects, _ref(obj, item["meta"]["indexRefName"])["id"])
                assert filter_fields[item["meta"]["key"]] == "keyword"
                for name in item["query"]["match_phrase"]:
                    assert filter_fields[name] == "keyword"
        elif obj["type"] == "dashboard":
            for item in _search_source(obj)["filter"]:
                filter_fields = _fields_of_data_view(objects, _ref(obj, item["meta"]["indexRefName"])["id"])
                assert filter_fields[item["meta"]["key"]] == "keyword"
    assert checked > 40


def test_fields_also_exist_on_a_full_cluster(objects):
    """The full-cluster mapping (language sub-fields) is a superset: nothing the panels use disappears."""
    full = _flatten(mention_mappings(language_fields=True))
    assert set(MENTION_FIELDS) <= set(full)
    assert all(full[name] == kind for name, kind in MENTION_FIELDS.items())


def test_the_dashboards_analysts_asked_for(objects):
    by_key = _by_key(objects)
    titles = {o["attributes"]["title"] for o in objects if o["type"] == "dashboard"}
    assert titles == {"Lytter: share of voice", "Lytter: sentiment", "Lytter: authors and influence", "Lytter: alerts",
                      "Lytter: crisis view", "Lytter: answers"}

    def lens_fields(dashboard_id: str) -> set[tuple[str, str]]:
        dash = by_key[("dashboard", dashboard_id)]
        used = set()
        for ref in dash["references"]:
            if ref["type"] == "lens":
                for _, layer in _layers(by_key[("lens", ref["id"])]):
                    used |= {(c["operationType"], c.get("sourceField")) for c in layer["columns"].values()}
        return used

    assert {("terms", "brands"), ("date_histogram", "published_at")} <= lens_fields("lytter-overview")
    assert {("terms", "sentiment.label"), ("terms", "lang"), ("average", "sentiment.score")} <= lens_fields("lytter-sentiment")
    assert {("terms", "author.handle"), ("max", "influence"), ("sum", "impact")} <= lens_fields("lytter-authors")
    assert {("date_histogram", "updated_at"), ("terms", "brand"), ("terms", "rule"), ("terms", "severity"), ("terms", "status")} <= lens_fields("lytter-alerts")
    alert_refs = {r["id"] for r in by_key[("dashboard", "lytter-alerts")]["references"]}
    assert "lytter-alerts-latest" in alert_refs
    # the crisis view: the last hours, negative mentions, the farthest-reaching first
    crisis = by_key[("dashboard", "lytter-crisis")]
    assert re.fullmatch(r"now-\d+h", crisis["attributes"]["timeFrom"])
    dash_filter = _search_source(crisis)["filter"][0]
    assert dash_filter["query"] == {"match_phrase": {"sentiment.label": "negative"}} and not dash_filter["meta"]["negate"]
    search = by_key[("search", "lytter-crisis-negative-by-reach")]
    assert search["attributes"]["sort"][0] == ["reach", "desc"]
    assert _search_source(search)["filter"][0]["query"] == {"match_phrase": {"sentiment.label": "negative"}}
    assert "lytter-crisis-negative-by-reach" in {r["id"] for r in crisis["references"]}


def _columns(obj) -> dict[str, dict]:
    return {cid: col for _, layer in _layers(obj) for cid, col in layer["columns"].items()}


def _ops(obj) -> set[tuple[str, str | None]]:
    return {(c["operationType"], c.get("sourceField")) for c in _columns(obj).values()}


def _panel_ids(objects, dashboard_id: str) -> set[str]:
    return {r["id"] for r in _by_key(objects)[("dashboard", dashboard_id)]["references"] if ":panel_" in r["name"]}


def test_stories_panels(objects):
    by_key = _by_key(objects)
    chart = by_key[("lens", "lytter-stories-over-time")]
    columns = _columns(chart)
    [brand] = [c for c in columns.values() if c["operationType"] == "terms"]
    assert brand["sourceField"] == "brands" and brand["params"]["size"] == 10
    assert columns[brand["params"]["orderBy"]["columnId"]]["operationType"] == "count"
    layer = _lens_state(chart)["visualization"]["layers"][0]
    assert {columns[a]["operationType"] for a in layer["accessors"]} == {"count", "unique_count"}
    assert ("unique_count", "story_id") in _ops(chart) and ("date_histogram", "published_at") in _ops(chart)

    largest = by_key[("lens", "lytter-largest-stories")]
    columns = _columns(largest)
    [story] = [c for c in columns.values() if c["operationType"] == "terms"]
    assert story["sourceField"] == "story_id" and columns[story["params"]["orderBy"]["columnId"]]["operationType"] == "count"
    assert {("unique_count", "author.handle"), ("sum", "reach"), ("last_value", "title.keyword")} <= _ops(largest)
    assert all(c["params"]["sortField"] == "published_at" for c in columns.values() if c["operationType"] == "last_value")

    pair = by_key[("lens", "lytter-story-count")]
    vis, columns = _lens_state(pair)["visualization"], _columns(pair)
    assert columns[vis["metricAccessor"]]["sourceField"] == "story_id"
    assert columns[vis["secondaryMetricAccessor"]]["operationType"] == "count"
    for dashboard_id in ("lytter-overview", "lytter-crisis"):
        assert {"lytter-stories-over-time", "lytter-largest-stories", "lytter-emerging-terms"} <= _panel_ids(objects, dashboard_id)
    assert "lytter-story-count" in _panel_ids(objects, "lytter-overview")


def test_campaign_alerts_match_the_alert_titles(objects):
    from streams.alerting.rules import CAMPAIGN_NOTE

    by_key = _by_key(objects)
    search = by_key[("search", "lytter-campaign-alerts")]
    count_lens = by_key[("lens", "lytter-campaign-count")]
    queries = [_search_source(search)["query"]["query"], _lens_state(count_lens)["query"]["query"]]
    for query in queries:
        [phrase] = re.findall(r'title\s*:\s*"([^"]+)"', query)  # a phrase query on the analysed title
        assert phrase in CAMPAIGN_NOTE and "coordinated campaign" in phrase
    assert ALERT_FIELDS["title"] == "text"
    assert _ref(search, "kibanaSavedObjectMeta.searchSourceJSON.index")["id"] == "lytter-alerts"
    # on the alerts dashboard: the crisis view's sentiment filter would hide every alert
    assert {"lytter-campaign-alerts", "lytter-campaign-count"} <= _panel_ids(objects, "lytter-alerts")
    assert not {"lytter-campaign-alerts", "lytter-campaign-count"} & _panel_ids(objects, "lytter-crisis")


def test_emerging_terms_rank_keywords_by_significance_per_brand(objects):
    lens = _by_key(objects)[("lens", "lytter-emerging-terms")]
    [(_, layer)] = list(_layers(lens))
    buckets = [layer["columns"][c] for c in layer["columnOrder"] if layer["columns"][c]["isBucketed"]]
    assert [b["sourceField"] for b in buckets] == ["brands", "keywords"]  # per brand, then its terms
    term = buckets[1]
    assert term["params"]["orderBy"] == {"type": "significant"} and term["params"]["orderDirection"] == "desc"
    assert MENTION_FIELDS["keywords"] == "keyword"  # Lens ranks by significance on keyword fields only
    assert not term["params"]["otherBucket"] and not term["params"].get("secondaryFields")


def _formula_columns(obj) -> list[tuple[dict, dict]]:
    columns = _columns(obj)
    return [(col, columns) for col in columns.values() if col["operationType"] == "formula"]


def test_formulas_are_saved_with_managed_columns_that_match_their_text(objects):
    checked = 0
    for obj in objects:
        if obj["type"] != "lens":
            continue
        for formula, columns in _formula_columns(obj):
            text = formula["params"]["formula"]
            assert not formula["params"]["isFormulaBroken"]
            [math_id] = formula["references"]
            math = columns[math_id]
            assert math["operationType"] == "math" and math["params"]["tinymathAst"]["text"] == text
            assert math["params"]["tinymathAst"]["name"] == "divide"
            parts = [columns[c] for c in math["params"]["tinymathAst"]["args"]]
            assert math["references"] == math["params"]["tinymathAst"]["args"]
            # the counts Lens runs are the ones the formula's text names, in order
            assert [p["filter"]["query"] for p in parts] == re.findall(r"kql='([^']*)'", text)
            assert all(p["operationType"] == "count" for p in parts)
            for part in parts:
                for name in _kql_fields(part["filter"]["query"]) + re.findall(r"([A-Za-z_][\w.]*)\s*[<>]=?", part["filter"]["query"]):
                    assert name in MENTION_FIELDS, f"{obj['id']}: formula field {name}"
            checked += 1
    assert checked >= 2


def _answers(objects, id_: str) -> dict:
    return _by_key(objects)[("lens", id_)]


def test_answers_dashboard(objects):
    from streams.answer.unanswered import RULE

    panels = _panel_ids(objects, "lytter-answers")
    assert {"lytter-response-time-table", "lytter-response-time-by-brand", "lytter-answered-within-target",
            "lytter-open-queue-over-time", "lytter-intents-by-brand", "lytter-open-queue", "lytter-unanswered-alerts"} <= panels
    for id_ in ("lytter-response-time-table", "lytter-response-time-by-brand"):
        columns = _columns(_answers(objects, id_))
        percentiles = sorted(c["params"]["percentile"] for c in columns.values() if c["operationType"] == "percentile")
        assert percentiles == [50, 90]
        for col in columns.values():
            if col.get("sourceField") == "response_time_s":  # seconds in the index, minutes on screen
                assert col["params"]["format"]["params"]["fromUnit"] == "seconds"
                assert col["params"]["format"]["params"]["toUnit"] == "asMinutes"
        assert ("terms", "addressed_to") in _ops(_answers(objects, id_))
    assert ("terms", "source") in _ops(_answers(objects, "lytter-response-time-table"))

    share = _answers(objects, "lytter-answered-within-target")
    [(formula, _)] = _formula_columns(share)
    # each mention against its own brand's target, which the reply tracker records as answered_within_target
    assert formula["params"]["formula"] == "count(kql='needs_reply:true and answered_within_target:true') / count(kql='needs_reply:true')"
    assert formula["params"]["format"]["id"] == "percent"
    assert "own brand's reply target" in share["attributes"]["description"] and "default 60 minutes" in share["attributes"]["description"]

    open_queue = "needs_reply : true and not answered_at : *"
    assert _lens_state(_answers(objects, "lytter-open-queue-over-time"))["query"]["query"] == open_queue
    assert ("date_histogram", "published_at") in _ops(_answers(objects, "lytter-open-queue-over-time"))
    assert {("terms", "intent"), ("terms", "brands")} <= _ops(_answers(objects, "lytter-intents-by-brand"))
    queue = _by_key(objects)[("search", "lytter-open-queue")]
    assert _search_source(queue)["query"]["query"] == open_queue
    assert queue["attributes"]["sort"][0][0] == "published_at"
    unanswered = _by_key(objects)[("search", "lytter-unanswered-alerts")]
    assert _search_source(unanswered)["filter"][0]["query"] == {"match_phrase": {"rule": RULE}}


# ------------------------------------------------------------------------------------------------
# streams.ops.kibana: loading and the validator
# ------------------------------------------------------------------------------------------------


def test_validator_passes_the_shipped_file(objects):
    assert check_objects(objects) == []


def test_flatten_mapping_matches_the_template():
    flat = flatten_mapping(mention_mappings(language_fields=True))
    assert flat["title.keyword"] == "keyword" and flat["author.display_name.keyword"] == "keyword"
    assert flat["text.da"] == "text" and flat["sentiment.probabilities.negative"] == "float"
    assert "raw" not in flat and not any(name.startswith("raw.") for name in flat)  # enabled: false
    assert flatten_mapping(alert_mappings())["title.keyword"] == "keyword"
    assert "evidence" not in flatten_mapping(alert_mappings())
    assert set(default_mappings()) == {"lytter-mentions*", "lytter-mentions", "lytter-alerts"}


def test_kql_fields():
    assert kql_fields('sentiment.label : "negative" and not lang:da') == ["sentiment.label", "lang"]
    assert kql_fields('text : "a: b"') == ["text"]
    assert kql_fields("") == []
    assert kql_fields("needs_reply:true and response_time_s <= 3600 or reach>10") == ["needs_reply", "response_time_s", "reach"]
    assert kql_fields('title : "a <= b"') == ["title"]


def test_formula_fields():
    from streams.ops.kibana import formula_fields

    queries, calls = formula_fields("count(kql='a:1 and b <= 2') / count(kql=\"c:3\") + percentile(reach, percentile=90) - count()")
    assert queries == ["a:1 and b <= 2", "c:3"]
    assert calls == [("percentile", "reach")]


def _find(objects, type_, id_):
    return next(o for o in objects if o["type"] == type_ and o["id"] == id_)


def _first_column(obj, operation):
    for _, layer in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].items():
        for column in layer["columns"].values():
            if column["operationType"] == operation:
                return column
    raise AssertionError(operation)


def _mutate_unknown_field(objs):
    _first_column(_find(objs, "lens", "lytter-volume-by-brand"), "terms")["sourceField"] = "brand_names"
    return "'brand_names' is not in the index mapping"


def _mutate_terms_on_number(objs):
    _first_column(_find(objs, "lens", "lytter-volume-by-brand"), "terms")["sourceField"] = "reach"
    return "'reach' is of type 'float'"


def _mutate_average_on_keyword(objs):
    _first_column(_find(objs, "lens", "lytter-sentiment-score-by-language"), "average")["sourceField"] = "lang"
    return "'lang' is of type 'keyword'"


def _mutate_histogram_on_keyword(objs):
    _first_column(_find(objs, "lens", "lytter-sentiment-over-time"), "date_histogram")["sourceField"] = "source"
    return "'source' is of type 'keyword'"


def _mutate_text_field_terms(objs):
    column = _first_column(_find(objs, "lens", "lytter-top-authors"), "terms")
    column["sourceField"] = "title"  # text: not aggregatable; title.keyword would be
    return "'title' is of type 'text'"


def _mutate_alert_field_on_mentions(objs):
    _first_column(_find(objs, "lens", "lytter-alerts-timeline"), "terms")["sourceField"] = "sentiment.label"
    return "'sentiment.label' is not in the index mapping"


def _mutate_missing_layer_reference(objs):
    _find(objs, "lens", "lytter-share-of-voice")["references"].clear()
    return "no reference named 'indexpattern-datasource-layer-"


def _mutate_dangling_data_view(objs):
    _find(objs, "lens", "lytter-share-of-voice")["references"][0]["id"] = "logs-*"
    return "points to data view 'logs-*', which is not in the file"


def _mutate_panel_ref_name(objs):
    dash = _find(objs, "dashboard", "lytter-overview")
    panels = json.loads(dash["attributes"]["panelsJSON"])
    panels[0]["panelRefName"] = "panel_nope"
    dash["attributes"]["panelsJSON"] = json.dumps(panels)
    return "no reference named 'p1:panel_nope'"


def _mutate_panel_points_to_missing_object(objs):
    _find(objs, "dashboard", "lytter-sentiment")["references"][0]["id"] = "gone"
    return "which is not in the file"


def _mutate_broken_panels_json(objs):
    _find(objs, "dashboard", "lytter-alerts")["attributes"]["panelsJSON"] = '[{"panelIndex": "p1",'
    return "attributes.panelsJSON is not valid JSON"


def _mutate_overlap(objs):
    dash = _find(objs, "dashboard", "lytter-crisis")
    panels = json.loads(dash["attributes"]["panelsJSON"])
    panels[1]["gridData"].update(x=0, y=0)
    dash["attributes"]["panelsJSON"] = json.dumps(panels)
    return "overlaps panel"


def _mutate_sort_on_text(objs):
    _find(objs, "search", "lytter-crisis-negative-by-reach")["attributes"]["sort"] = [["text", "desc"]]
    return "sort: field 'text' is of type 'text'"


def _mutate_search_filter_field(objs):
    search = _find(objs, "search", "lytter-crisis-negative-by-reach")
    source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    source["filter"][0]["meta"]["key"] = "sentiment.labels"
    search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"] = json.dumps(source)
    return "'sentiment.labels' is not in the index mapping"


def _mutate_time_field(objs):
    _find(objs, "index-pattern", "lytter-alerts")["attributes"]["timeFieldName"] = "severity"
    return "time field: field 'severity' is of type 'keyword'"


def _mutate_query_field(objs):
    _find(objs, "lens", "lytter-crisis-negative-count")["attributes"]["state"]["query"]["query"] = 'sentimnet.label : "negative"'
    return "'sentimnet.label' is not in the index mapping"


def _mutate_visualization_column(objs):
    _find(objs, "lens", "lytter-mention-count")["attributes"]["state"]["visualization"]["metricAccessor"] = "nope"
    return "uses column 'nope'"


def _column_where(obj, predicate):
    for _, layer in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].items():
        for column in layer["columns"].values():
            if predicate(column):
                return column
    raise AssertionError("no such column")


def _mutate_significant_on_boolean(objs):
    lens = _find(objs, "lens", "lytter-emerging-terms")
    _column_where(lens, lambda c: c.get("sourceField") == "keywords")["sourceField"] = "needs_reply"  # terms may, significance may not
    return "ranked by significance: field 'needs_reply' is of type 'boolean'"


def _mutate_unknown_order_type(objs):
    lens = _find(objs, "lens", "lytter-emerging-terms")
    _column_where(lens, lambda c: c.get("sourceField") == "keywords")["params"]["orderBy"] = {"type": "significance"}
    return "params.orderBy.type 'significance' is none of"


def _mutate_formula_kql_field(objs):
    formula = _column_where(_find(objs, "lens", "lytter-answered-within-target"), lambda c: c["operationType"] == "formula")
    formula["params"]["formula"] = formula["params"]["formula"].replace("answered_within_target", "answered_in_time")
    return "kql query: field 'answered_in_time' is not in the index mapping"


def _mutate_formula_function_field(objs):
    formula = _column_where(_find(objs, "lens", "lytter-answered-within-target"), lambda c: c["operationType"] == "formula")
    formula["params"]["formula"] = "median(intent) / 60"
    return "median(): field 'intent' is of type 'keyword'"


def _mutate_formula_broken(objs):
    formula = _column_where(_find(objs, "lens", "lytter-answered-within-target"), lambda c: c["operationType"] == "formula")
    formula["params"]["isFormulaBroken"] = True
    return "isFormulaBroken is true"


def _mutate_math_missing_column(objs):
    math = _column_where(_find(objs, "lens", "lytter-answered-within-target"), lambda c: c["operationType"] == "math")
    math["params"]["tinymathAst"]["args"][1] = "gone"
    return "the arithmetic uses column 'gone', which the layer does not have"


def _mutate_range_query_field(objs):
    helper = _column_where(_find(objs, "lens", "lytter-answered-within-target"), lambda c: "answered_within_target" in (c.get("filter") or {}).get("query", ""))
    helper["filter"]["query"] = "needs_reply:true and respnse_time_s <= 3600"
    return "field 'respnse_time_s' is not in the index mapping"


def _mutate_percentile_value(objs):
    _column_where(_find(objs, "lens", "lytter-response-time-by-brand"), lambda c: c["operationType"] == "percentile")["params"]["percentile"] = 900
    return "params.percentile must be a number in (0, 100]"


def _mutate_duration_unit(objs):
    column = _column_where(_find(objs, "lens", "lytter-response-time-by-brand"), lambda c: c["operationType"] == "percentile")
    column["params"]["format"]["params"]["toUnit"] = "minutes"  # an input unit, not an output method
    return "duration format toUnit 'minutes' is none of"


def _mutate_last_value_sort(objs):
    _column_where(_find(objs, "lens", "lytter-largest-stories"), lambda c: c["operationType"] == "last_value")["params"]["sortField"] = "story_id"
    return "sortField: field 'story_id' is of type 'keyword'"


def _mutate_duplicate(objs):
    objs.append(copy.deepcopy(objs[0]))
    return "appears twice"


@pytest.mark.parametrize(
    "mutate",
    [
        _mutate_unknown_field, _mutate_terms_on_number, _mutate_average_on_keyword, _mutate_histogram_on_keyword,
        _mutate_text_field_terms, _mutate_alert_field_on_mentions, _mutate_missing_layer_reference,
        _mutate_dangling_data_view, _mutate_panel_ref_name, _mutate_panel_points_to_missing_object,
        _mutate_broken_panels_json, _mutate_overlap, _mutate_sort_on_text, _mutate_search_filter_field,
        _mutate_time_field, _mutate_query_field, _mutate_visualization_column, _mutate_duplicate,
        _mutate_significant_on_boolean, _mutate_unknown_order_type, _mutate_formula_kql_field, _mutate_formula_function_field,
        _mutate_formula_broken, _mutate_math_missing_column, _mutate_range_query_field, _mutate_percentile_value,
        _mutate_duration_unit, _mutate_last_value_sort,
    ],
    ids=lambda f: f.__name__.removeprefix("_mutate_"),
)
def test_validator_catches(objects, mutate):
    broken = copy.deepcopy(objects)
    expected = mutate(broken)
    problems = check_objects(broken)
    assert any(expected in p for p in problems), problems


def test_parse_ndjson_names_the_bad_line():
    good = _lines()[0]
    with pytest.raises(KibanaObjectsError, match=r"x\.ndjson:2: not JSON"):
        parse_ndjson(good + "\n{not json}\n", "x.ndjson")
    with pytest.raises(KibanaObjectsError, match=r":1: saved object without id"):
        parse_ndjson('{"type": "lens", "attributes": {}}')
    with pytest.raises(KibanaObjectsError, match="no saved objects"):
        parse_ndjson("\n\n")
    # an export's summary line is not an object
    summary = json.dumps({"exportedCount": 1, "missingRefCount": 0, "missingReferences": []})
    assert len(parse_ndjson(good + "\n" + summary + "\n")) == 1


def test_cli_validate(tmp_path):
    from streams.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["kibana", "validate"])
    assert result.exit_code == 0, result.output
    # 29 before issues 17/18; + 3 story, 2 campaign, 1 emerging-terms, 3 response-time, 5 queue objects, 1 dashboard
    assert "44 objects" in result.output

    broken = tmp_path / "broken.ndjson"
    objs = [json.loads(line) for line in _lines()]
    _mutate_unknown_field(objs)
    broken.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    result = runner.invoke(app, ["kibana", "validate", "--file", str(broken)])
    assert result.exit_code == 1
    assert "brand_names" in result.output
