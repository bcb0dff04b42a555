"""Write ``lytter.ndjson``: Lytter's Kibana 8.19 saved objects (data views, Lens visualisations, saved
searches, dashboards) in the format of Kibana's saved-objects export/import API.

The NDJSON is the artefact users import (``lytter kibana import``); this script is its source, because
Kibana keeps much of an object as JSON *strings* inside JSON (``panelsJSON``, ``searchSourceJSON``, ...)
that nobody should edit by hand. Change the objects here, then regenerate and check:

    .venv/bin/python deploy/kibana/build_objects.py          # rewrites deploy/kibana/lytter.ndjson
    .venv/bin/lytter kibana validate                          # references, fields vs. the index mapping
    .venv/bin/python -m pytest tests/deploy -q                # includes "the file is up to date"

Only the standard library is used; ids are stable (readable ids for the objects, uuid5-derived ids for
Lens layers and columns), so regenerating an unchanged script gives a byte-identical file and a
re-import overwrites the same objects instead of creating copies.

Versions: ``coreMigrationVersion`` 8.8.0 and each type's ``typeMigrationVersion`` are the ones Kibana's
own 8.x sample data ships with (index-pattern 8.0.0, lens 8.9.0, search 7.9.3, dashboard 8.7.0), so a
Kibana 8.19 imports them and runs only the newer (model-version) migrations on them.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "lytter.ndjson"

MENTIONS_PREFIX = "lytter-mentions"  # setting es_index_prefix (alias lytter-mentions, indices lytter-mentions-000001, ...)
ALERTS_INDEX = "lytter-alerts"  # setting es_alerts_index

MENTIONS_DV = "lytter-mentions"
ALERTS_DV = "lytter-alerts"
# The alerts index again, with opened_at as its time field: a panel that plots when incidents were opened
# must be filtered by that time too, not by updated_at.
ALERTS_OPENED_DV = "lytter-alerts-opened-at"

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "lens": "8.9.0", "search": "7.9.3", "dashboard": "8.7.0"}
PANEL_VERSION = "8.11.0"

_NS = uuid.UUID("6c7974f3-7465-4b69-6261-6e612d6c7974")  # "lytter-kibana-lyt" namespace for uuid5 ids


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _json(value: Any) -> str:
    """Kibana's nested JSON strings: compact, key order kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _saved_object(type_: str, id_: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": id_,
        "managed": False,
        "references": references,
        "type": type_,
        "typeMigrationVersion": TYPE_MIGRATION_VERSION[type_],
    }


# ------------------------------------------------------------------------------------------------
# data views
# ------------------------------------------------------------------------------------------------


def data_view(id_: str, title: str, name: str, time_field: str, formats: dict[str, Any] | None = None) -> dict[str, Any]:
    return _saved_object(
        "index-pattern",
        id_,
        {
            "fieldAttrs": "{}",
            "fieldFormatMap": _json(formats or {}),
            "fields": "[]",  # Kibana reads the field list from the cluster
            "name": name,
            "runtimeFieldMap": "{}",
            "timeFieldName": time_field,
            "title": title,
            "typeMeta": "{}",
        },
        [],
    )


# ------------------------------------------------------------------------------------------------
# Lens building blocks (formBased datasource)
# ------------------------------------------------------------------------------------------------


def count(label: str = "Mentions") -> dict[str, Any]:
    return {
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "operationType": "count",
        "params": {"emptyAsNull": True},
        "scale": "ratio",
        "sourceField": "___records___",
    }


def metric(operation: str, field: str, label: str, decimals: int = 1) -> dict[str, Any]:
    return {
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "operationType": operation,
        "params": {"emptyAsNull": True, "format": {"id": "number", "params": {"decimals": decimals}}},
        "scale": "ratio",
        "sourceField": field,
    }


def date_histogram(field: str, interval: str = "auto") -> dict[str, Any]:
    return {
        "dataType": "date",
        "isBucketed": True,
        "label": field,
        "operationType": "date_histogram",
        "params": {"dropPartials": False, "includeEmptyRows": True, "interval": interval},
        "scale": "interval",
        "sourceField": field,
    }


def unique_count(field: str, label: str) -> dict[str, Any]:
    """Distinct values of a field (Elasticsearch cardinality: approximate above 3,000 values)."""
    return {
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "operationType": "unique_count",
        "params": {"emptyAsNull": True, "format": {"id": "number", "params": {"decimals": 0}}},
        "scale": "ratio",
        "sourceField": field,
    }


#: Seconds shown as minutes: Kibana's duration format (input unit ``fromUnit``, output method ``toUnit``).
MINUTES_FROM_SECONDS = {"id": "duration", "params": {"decimals": 1, "fromUnit": "seconds", "toUnit": "asMinutes", "suffix": " min"}}


def percentile(field: str, label: str, percent: int, format_: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``percent``-th percentile (50 is the median) of a numeric field."""
    params: dict[str, Any] = {"percentile": percent}
    if format_:
        params["format"] = format_
    return {
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "operationType": "percentile",
        "params": params,
        "scale": "ratio",
        "sourceField": field,
    }


def last_value(field: str, label: str, data_type: str, sort_field: str = "published_at") -> dict[str, Any]:
    """The field's value in the newest document (by ``sort_field``) that has one."""
    return {
        "customLabel": True,
        "dataType": data_type,
        "filter": {"language": "kuery", "query": f"{field} : *"},  # skip documents without the field, as Lens does
        "isBucketed": False,
        "label": label,
        "operationType": "last_value",
        "params": {"showArrayValues": True, "sortField": sort_field},
        "scale": "ordinal" if data_type == "string" else "ratio",
        "sourceField": field,
    }


def significant_terms(field: str, label: str, size: int) -> dict[str, Any]:
    """Terms ranked by significance (Elasticsearch significant_terms): unusually frequent in the documents
    shown compared with the whole index. Lens offers it for keyword fields only, without an other bucket."""
    column = terms(field, label, size, None, other=False)
    column["params"].update(orderBy={"type": "significant"}, orderDirection="desc")
    return column


def terms(field: str, label: str, size: int, order_by: str | None, other: bool = True) -> dict[str, Any]:
    """Top values of a keyword field, ordered by the column ``order_by`` (descending) or alphabetically."""
    order = {"columnId": order_by, "type": "column"} if order_by else {"fallback": False, "type": "alphabetical"}
    return {
        "customLabel": True,
        "dataType": "string",
        "isBucketed": True,
        "label": label,
        "operationType": "terms",
        "params": {
            "exclude": [],
            "excludeIsRegex": False,
            "include": [],
            "includeIsRegex": False,
            "missingBucket": False,
            "orderBy": order,
            "orderDirection": "desc" if order_by else "asc",
            "otherBucket": other,
            "parentFormat": {"id": "terms"},
            "size": size,
        },
        "scale": "ordinal",
        "sourceField": field,
    }


class Lens:
    """One Lens visualisation with a single formBased layer on one data view."""

    def __init__(self, id_: str, title: str, description: str, data_view_id: str, query: str = "") -> None:
        self.id = id_
        self.title = title
        self.description = description
        self.data_view_id = data_view_id
        self.query = query
        self.layer_id = _uid(id_, "layer")
        self.columns: dict[str, dict[str, Any]] = {}
        self.managed: set[str] = set()  # a formula's helper columns: in the layer, never shown

    def col(self, name: str, column: dict[str, Any]) -> str:
        column_id = _uid(self.id, "column", name)
        self.columns[column_id] = column
        return column_id

    def ratio_formula(self, name: str, label: str, numerator_kql: str, denominator_kql: str, format_: dict[str, Any]) -> str:
        """A Lens formula ``count(kql=numerator) / count(kql=denominator)``, saved the way Lens saves one:
        the formula column plus its managed columns ``<id>X0`` and ``<id>X1`` (the two counts) and
        ``<id>X2`` (the division); Lens runs the managed columns, the formula text is for its editor."""
        formula_id = _uid(self.id, "column", name)
        text = f"count(kql='{numerator_kql}') / count(kql='{denominator_kql}')"
        part = f"Part of {label}"
        self.columns[formula_id] = {
            "customLabel": True,
            "dataType": "number",
            "isBucketed": False,
            "label": label,
            "operationType": "formula",
            "params": {"format": format_, "formula": text, "isFormulaBroken": False},
            "references": [f"{formula_id}X2"],
            "scale": "ratio",
        }
        for index, kql in enumerate((numerator_kql, denominator_kql)):
            helper = count(part)
            helper.update(filter={"language": "kuery", "query": kql}, params={"emptyAsNull": False})
            self.columns[f"{formula_id}X{index}"] = helper
        self.managed |= {f"{formula_id}X0", f"{formula_id}X1", f"{formula_id}X2"}
        self.columns[f"{formula_id}X2"] = {
            "customLabel": True,
            "dataType": "number",
            "isBucketed": False,
            "label": part,
            "operationType": "math",
            "params": {
                "tinymathAst": {
                    "args": [f"{formula_id}X0", f"{formula_id}X1"],
                    "location": {"max": len(text), "min": 0},
                    "name": "divide",
                    "text": text,
                    "type": "function",
                }
            },
            "references": [f"{formula_id}X0", f"{formula_id}X1"],
            "scale": "ratio",
        }
        return formula_id

    def column_order(self) -> list[str]:
        """Buckets first, then metrics, with terms before date histograms: the order Lens's editor keeps.
        The order is the aggregation nesting: date first would pick a chart's "top 10" per time bucket."""
        buckets = [c for c, col in self.columns.items() if col["isBucketed"]]
        buckets.sort(key=lambda c: self.columns[c]["operationType"] == "date_histogram")
        return buckets + [c for c, col in self.columns.items() if not col["isBucketed"]]

    def saved_object(self, visualization_type: str, visualization: dict[str, Any]) -> dict[str, Any]:
        order = self.column_order()
        state = {
            "adHocDataViews": {},
            "datasourceStates": {
                "formBased": {
                    "layers": {
                        self.layer_id: {"columnOrder": order, "columns": self.columns, "incompleteColumns": {}}
                    }
                }
            },
            "filters": [],
            "internalReferences": [],
            "query": {"language": "kuery", "query": self.query},
            "visualization": visualization,
        }
        return _saved_object(
            "lens",
            self.id,
            {"description": self.description, "state": state, "title": self.title, "visualizationType": visualization_type},
            [{"id": self.data_view_id, "name": f"indexpattern-datasource-layer-{self.layer_id}", "type": "index-pattern"}],
        )


_AXES = {
    "axisTitlesVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
    "fittingFunction": "None",
    "gridlinesVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
    "labelsOrientation": {"x": 0, "yLeft": 0, "yRight": 0},
    "tickLabelsVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
    "valueLabels": "hide",
    "yLeftExtent": {"mode": "full"},
    "yRightExtent": {"mode": "full"},
}


def xy(lens: Lens, series: str, x: str, accessors: list[str], split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "accessors": accessors,
        "layerId": lens.layer_id,
        "layerType": "data",
        "position": "top",
        "seriesType": series,
        "showGridlines": False,
        "xAccessor": x,
    }
    if split:
        layer["splitAccessor"] = split
    return lens.saved_object(
        "lnsXY",
        {**_AXES, "layers": [layer], "legend": {"isVisible": True, "position": "right"}, "preferredSeriesType": series},
    )


def donut(lens: Lens, group: str, value: str) -> dict[str, Any]:
    return lens.saved_object(
        "lnsPie",
        {
            "layers": [
                {
                    "categoryDisplay": "default",
                    "layerId": lens.layer_id,
                    "layerType": "data",
                    "legendDisplay": "default",
                    "metrics": [value],
                    "nestedLegend": False,
                    "numberDisplay": "percent",
                    "primaryGroups": [group],
                }
            ],
            "shape": "donut",
        },
    )


def big_number(lens: Lens, value: str, secondary: str | None = None) -> dict[str, Any]:
    visualization = {"layerId": lens.layer_id, "layerType": "data", "metricAccessor": value}
    if secondary:
        visualization["secondaryMetricAccessor"] = secondary
    return lens.saved_object("lnsMetric", visualization)


def table(lens: Lens, sort_by: str | None = None) -> dict[str, Any]:
    visualization: dict[str, Any] = {
        "columns": [{"columnId": c, "isTransposed": False} for c in lens.column_order() if c not in lens.managed],
        "layerId": lens.layer_id,
        "layerType": "data",
        "rowHeight": "single",
        "rowHeightLines": 1,
    }
    if sort_by:
        visualization["sorting"] = {"columnId": sort_by, "direction": "desc"}
    return lens.saved_object("lnsDatatable", visualization)


# ------------------------------------------------------------------------------------------------
# saved searches and dashboards
# ------------------------------------------------------------------------------------------------


def phrase_filter(field: str, value: str, index: int, ref_prefix: str = "kibanaSavedObjectMeta.searchSourceJSON") -> dict[str, Any]:
    return {
        "$state": {"store": "appState"},
        "meta": {
            "alias": None,
            "disabled": False,
            "indexRefName": f"{ref_prefix}.filter[{index}].meta.index",
            "key": field,
            "negate": False,
            "params": {"query": value},
            "type": "phrase",
        },
        "query": {"match_phrase": {field: value}},
    }


def saved_search(
    id_: str, title: str, description: str, data_view_id: str, columns: list[str], sort: list[list[str]],
    query: str = "", filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    filters = filters or []
    source = {
        "filter": filters,
        "highlightAll": True,
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        "query": {"language": "kuery", "query": query},
        "version": True,
    }
    references = [{"id": data_view_id, "name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern"}]
    references += [{"id": data_view_id, "name": f["meta"]["indexRefName"], "type": "index-pattern"} for f in filters]
    return _saved_object(
        "search",
        id_,
        {
            "columns": columns,
            "description": description,
            "grid": {},
            "hideChart": False,
            "isTextBasedQuery": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _json(source)},
            "sort": sort,
            "title": title,
        },
        references,
    )


def dashboard(
    id_: str, title: str, description: str, panels: list[tuple[dict[str, Any], int, int, int, int]], *,
    time_from: str, refresh_ms: int | None = None, filters: list[tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """``panels``: (saved object, x, y, w, h) on Kibana's 48-column grid; ``filters``: (data view id, filter)."""
    panel_list = []
    references = []
    for number, (obj, x, y, w, h) in enumerate(panels, start=1):
        index = f"p{number}"
        panel_list.append(
            {
                "embeddableConfig": {"enhancements": {}},
                "gridData": {"h": h, "i": index, "w": w, "x": x, "y": y},
                "panelIndex": index,
                "panelRefName": f"panel_{index}",
                "type": obj["type"],
                "version": PANEL_VERSION,
            }
        )
        references.append({"id": obj["id"], "name": f"{index}:panel_{index}", "type": obj["type"]})
    source_filters = [f for _, f in (filters or [])]
    references += [{"id": dv, "name": f["meta"]["indexRefName"], "type": "index-pattern"} for dv, f in (filters or [])]
    return _saved_object(
        "dashboard",
        id_,
        {
            "description": description,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _json({"filter": source_filters, "query": {"language": "kuery", "query": ""}})},
            "optionsJSON": _json({"hidePanelTitles": False, "syncColors": True, "syncCursor": True, "syncTooltips": True, "useMargins": True}),
            "panelsJSON": _json(panel_list),
            "refreshInterval": {"pause": refresh_ms is None, "value": refresh_ms or 60000},
            "timeFrom": time_from,
            "timeRestore": True,
            "timeTo": "now",
            "title": title,
            "version": 1,
        },
        references,
    )


# ------------------------------------------------------------------------------------------------
# stories, campaigns, emerging terms (issue 17)
# ------------------------------------------------------------------------------------------------


def story_objects() -> dict[str, dict[str, Any]]:
    """Stories: near-duplicates (reposts, copy-paste) share one ``story_id``."""
    lens = Lens("lytter-stories-over-time", "Mentions and stories over time by brand",
                "Mentions and distinct stories (story_id) per brand, top 10 brands: mentions far above stories "
                "mean the same text is being copied around.", MENTIONS_DV)
    n = lens.col("count", count())
    stories = lens.col("stories", unique_count("story_id", "Distinct stories"))
    over_time = xy(lens, "line", lens.col("time", date_histogram("published_at")), [n, stories],
                   split=lens.col("brand", terms("brands", "Brand", 10, n)))

    lens = Lens("lytter-largest-stories", "Largest stories",
                "Stories by mentions, with their distinct authors, total reach and newest title and link "
                "(text is a full-text field and cannot be aggregated; title.keyword and url can).", MENTIONS_DV)
    n = lens.col("count", count())
    lens.col("story", terms("story_id", "Story", 20, n, other=False))
    lens.col("authors", unique_count("author.handle", "Authors"))
    lens.col("reach", metric("sum", "reach", "Reach (sum)", 0))
    lens.col("first", {**metric("min", "published_at", "First seen"), "dataType": "date", "params": {"emptyAsNull": True}})
    lens.col("title", last_value("title.keyword", "Newest title", "string"))
    lens.col("url", last_value("url", "Newest link", "string"))
    largest = table(lens, sort_by=n)

    lens = Lens("lytter-story-count", "Stories", "Distinct stories (story_id) and mentions in the time range.", MENTIONS_DV)
    count_pair = big_number(lens, lens.col("stories", unique_count("story_id", "Distinct stories")), lens.col("count", count()))
    return {"over_time": over_time, "largest": largest, "count": count_pair}


CAMPAIGN_QUERY = 'title : "coordinated campaign"'  # the alert titles end with "(possible coordinated campaign)"


def campaign_objects() -> dict[str, dict[str, Any]]:
    search = saved_search(
        "lytter-campaign-alerts", "Possible coordinated campaigns",
        'Alerts whose title says "possible coordinated campaign": many accounts posting one story in a short time.',
        ALERTS_DV, ["brand", "rule", "severity", "status", "title", "opened_at", "updates"], [["updated_at", "desc"]],
        query=CAMPAIGN_QUERY,
    )
    lens = Lens("lytter-campaign-count", "Possible coordinated campaigns",
                'Alerts whose title contains "coordinated campaign", in the time range.', ALERTS_DV, CAMPAIGN_QUERY)
    return {"search": search, "count": big_number(lens, lens.col("count", count("Campaign alerts")))}


def emerging_terms() -> dict[str, Any]:
    lens = Lens("lytter-emerging-terms", "Emerging terms by brand",
                "Per brand (top 5), the keywords ranked by significance: unusually frequent in the mentions "
                "shown (time range, filters) compared with the whole index.", MENTIONS_DV)
    n = lens.col("count", count())
    lens.col("brand", terms("brands", "Brand", 5, n, other=False))
    lens.col("term", significant_terms("keywords", "Emerging term", 10))
    return table(lens)


# ------------------------------------------------------------------------------------------------
# the answer loop (issue 18)
# ------------------------------------------------------------------------------------------------

NEEDS_REPLY = "needs_reply : true"
OPEN_QUEUE = "needs_reply : true and not answered_at : *"
WITHIN_TARGET = ("needs_reply:true and answered_within_target:true", "needs_reply:true")
WITHIN_TARGET_NOTE = ("Each mention is measured against its own brand's reply target (the watch file's reply target for its "
                      "source and severity; default 60 minutes, setting reply_target_minutes): answered_within_target.")


def response_time_objects() -> dict[str, dict[str, Any]]:
    """First-response times (response_time_s, seconds; shown in minutes) and the share answered in time."""
    lens = Lens("lytter-response-time-table", "First response per brand and source",
                "Mentions that needed a reply, per brand they were addressed to (addressed_to) and source: how many "
                "were answered, the median and 90th percentile of the first-response time (response_time_s, "
                f"in minutes), and the share answered within the target. {WITHIN_TARGET_NOTE}", MENTIONS_DV, NEEDS_REPLY)
    n = lens.col("count", count("Needed a reply"))
    lens.col("brand", terms("addressed_to", "Brand", 20, n))
    lens.col("source", terms("source", "Source", 10, n))
    lens.col("answered", {**count("Answered"), "filter": {"language": "kuery", "query": "answered_at : *"}})
    lens.col("median", percentile("response_time_s", "Median first response", 50, MINUTES_FROM_SECONDS))
    lens.col("p90", percentile("response_time_s", "90th percentile first response", 90, MINUTES_FROM_SECONDS))
    lens.ratio_formula("within", "Answered within target", *WITHIN_TARGET, {"id": "percent", "params": {"decimals": 1}})
    by_source = table(lens, sort_by=n)

    lens = Lens("lytter-response-time-by-brand", "First-response time by brand",
                "Median and 90th percentile of response_time_s per brand addressed, in minutes.", MENTIONS_DV, "response_time_s : *")
    median = lens.col("median", percentile("response_time_s", "Median first response", 50, MINUTES_FROM_SECONDS))
    p90 = lens.col("p90", percentile("response_time_s", "90th percentile first response", 90, MINUTES_FROM_SECONDS))
    by_brand = xy(lens, "bar_horizontal", lens.col("brand", terms("addressed_to", "Brand", 15, p90, other=False)), [median, p90])

    lens = Lens("lytter-answered-within-target", "Answered within target",
                f"Share of the mentions that needed a reply whose first answer came within the target. {WITHIN_TARGET_NOTE}", MENTIONS_DV)
    share = big_number(lens, lens.ratio_formula("within", "Answered within target", *WITHIN_TARGET, {"id": "percent", "params": {"decimals": 1}}))
    return {"by_source": by_source, "by_brand": by_brand, "share": share}


def queue_objects() -> dict[str, dict[str, Any]]:
    """The open queue (needs a reply, no answer yet), intents, and the unanswered alerts."""
    lens = Lens("lytter-open-queue-over-time", "Open queue by brand",
                "Mentions that need a reply and have no answer yet, by when they were published and the brand "
                "they are addressed to.", MENTIONS_DV, OPEN_QUEUE)
    n = lens.col("count", count("Waiting for a reply"))
    over_time = xy(lens, "bar_stacked", lens.col("time", date_histogram("published_at")), [n],
                   split=lens.col("brand", terms("addressed_to", "Brand", 10, n)))

    lens = Lens("lytter-open-queue-count", "Waiting for a reply", "Mentions in the time range that need a reply and have none yet.",
                MENTIONS_DV, OPEN_QUEUE)
    queue_count = big_number(lens, lens.col("count", count("Waiting for a reply")))

    lens = Lens("lytter-intents-by-brand", "Intents by brand", "What the writers want (intent: question, request, "
                "complaint, praise, other), per brand.", MENTIONS_DV, "intent : *")
    n = lens.col("count", count())
    intents = xy(lens, "bar_horizontal_stacked", lens.col("brand", terms("brands", "Brand", 10, n)), [n],
                 split=lens.col("intent", terms("intent", "Intent", 5, n, other=False)))

    queue_list = saved_search(
        "lytter-open-queue", "Open queue (oldest first)", "Mentions that need a reply and have no answer yet, the longest waiting first.",
        MENTIONS_DV, ["addressed_to", "intent", "reply_due_at", "inbox.status", "inbox.assignee", "author.handle", "source",
                      "title", "text", "url"],
        [["published_at", "asc"]], query=OPEN_QUEUE,
    )
    unanswered = saved_search(
        "lytter-unanswered-alerts", "Unanswered alerts", "The unanswered alerts: mentions that waited past their reply target.",
        ALERTS_DV, ["brand", "severity", "status", "title", "opened_at", "updates"], [["updated_at", "desc"]],
        filters=[phrase_filter("rule", "unanswered", 0)],
    )
    return {"over_time": over_time, "count": queue_count, "intents": intents, "list": queue_list, "unanswered": unanswered}


# ------------------------------------------------------------------------------------------------
# Lytter's objects
# ------------------------------------------------------------------------------------------------


def build() -> list[dict[str, Any]]:
    mentions = data_view(
        MENTIONS_DV,
        f"{MENTIONS_PREFIX}*",
        "Lytter mentions",
        "published_at",
        {
            "influence": {"id": "number", "params": {"pattern": "0.0"}},
            "impact": {"id": "number", "params": {"pattern": "0.0"}},
            "reach": {"id": "number", "params": {"pattern": "0,0"}},
            "sentiment.score": {"id": "number", "params": {"pattern": "+0.00"}},
        },
    )
    alerts = data_view(ALERTS_DV, ALERTS_INDEX, "Lytter alerts", "updated_at")
    alerts_by_opening = data_view(ALERTS_OPENED_DV, ALERTS_INDEX, "Lytter alerts (by opening time)", "opened_at")

    # --- share of voice ----------------------------------------------------------------------
    lens = Lens("lytter-volume-by-brand", "Mentions over time by brand", "Mention volume per brand (share of voice over time).", MENTIONS_DV)
    n = lens.col("count", count())
    volume_by_brand = xy(lens, "bar_stacked", lens.col("time", date_histogram("published_at")), [n],
                         split=lens.col("brand", terms("brands", "Brand", 10, n)))

    lens = Lens("lytter-share-of-voice", "Share of voice", "Each brand's share of the mentions in the time range.", MENTIONS_DV)
    n = lens.col("count", count())
    share_of_voice = donut(lens, lens.col("brand", terms("brands", "Brand", 10, n)), n)

    lens = Lens("lytter-mention-count", "Mentions", "Mentions in the time range.", MENTIONS_DV)
    mention_count = big_number(lens, lens.col("count", count()))

    lens = Lens("lytter-volume-by-source", "Mentions by source", "Where the mentions come from.", MENTIONS_DV)
    n = lens.col("count", count())
    volume_by_source = xy(lens, "bar_horizontal_stacked", lens.col("source", terms("source", "Source", 10, n)), [n],
                          split=lens.col("kind", terms("kind", "Kind", 6, n)))

    # --- sentiment -----------------------------------------------------------------------------
    lens = Lens("lytter-sentiment-over-time", "Sentiment over time", "Share of negative, neutral and positive mentions.", MENTIONS_DV)
    n = lens.col("count", count())
    sentiment_over_time = xy(lens, "bar_percentage_stacked", lens.col("time", date_histogram("published_at")), [n],
                             split=lens.col("label", terms("sentiment.label", "Sentiment", 3, n, other=False)))

    lens = Lens("lytter-sentiment-by-language", "Sentiment by language", "Sentiment mix per language (da, nb, nn, sv, en, other).", MENTIONS_DV)
    n = lens.col("count", count())
    sentiment_by_language = xy(lens, "bar_horizontal_percentage_stacked", lens.col("lang", terms("lang", "Language", 6, n)), [n],
                               split=lens.col("label", terms("sentiment.label", "Sentiment", 3, n, other=False)))

    lens = Lens("lytter-sentiment-score-by-language", "Average sentiment score by language",
                "Mean of sentiment.score (p(positive) - p(negative), -1..1) over time, per language.", MENTIONS_DV)
    score = lens.col("score", metric("average", "sentiment.score", "Average sentiment score", 2))
    sentiment_score = xy(lens, "line", lens.col("time", date_histogram("published_at")), [score],
                         split=lens.col("lang", terms("lang", "Language", 6, score, other=False)))

    lens = Lens("lytter-sentiment-by-brand", "Sentiment by brand", "Mentions and average sentiment score per brand.", MENTIONS_DV)
    n = lens.col("count", count())
    lens.col("score", metric("average", "sentiment.score", "Average sentiment score", 2))
    lens.col("negative", {**count("Negative mentions"), "filter": {"language": "kuery", "query": 'sentiment.label : "negative"'}})
    lens.col("brand", terms("brands", "Brand", 20, n))
    sentiment_by_brand = table(lens, sort_by=n)

    lens = Lens("lytter-brand-stance", "Stance per brand",
                "Each brand's own sentiment (brand_sentiment): a mention praising one brand over another counts as "
                "positive for the one and negative for the other.", MENTIONS_DV)
    n = lens.col("count", count())
    lens.col("stance", terms("brand_sentiment.brand_label", "Brand:sentiment", 30, n, other=False))
    brand_stance = table(lens, sort_by=n)

    # --- authors -------------------------------------------------------------------------------
    lens = Lens("lytter-top-authors", "Top authors by influence", "Authors ranked by their highest influence score, with impact and reach.", MENTIONS_DV)
    influence = lens.col("influence", metric("max", "influence", "Influence (max)"))
    lens.col("handle", terms("author.handle", "Author", 25, influence, other=False))
    lens.col("impact", metric("sum", "impact", "Impact (sum)"))
    lens.col("reach", metric("sum", "reach", "Reach (sum)", 0))
    lens.col("followers", metric("max", "author.followers", "Followers", 0))
    lens.col("count", count())
    top_authors = table(lens, sort_by=influence)

    lens = Lens("lytter-top-authors-impact", "Top authors by impact", "The authors whose mentions had the most impact.", MENTIONS_DV)
    impact = lens.col("impact", metric("sum", "impact", "Impact (sum)"))
    top_authors_impact = xy(lens, "bar_horizontal", lens.col("handle", terms("author.handle", "Author", 15, impact, other=False)), [impact])

    lens = Lens("lytter-influence-over-time", "Influence and impact over time", "Average influence and total impact of the mentions over time.", MENTIONS_DV)
    x = lens.col("time", date_histogram("published_at"))
    influence_over_time = xy(lens, "line", x, [lens.col("influence", metric("average", "influence", "Influence (average)")),
                                              lens.col("impact", metric("sum", "impact", "Impact (sum)"))])

    # --- alerts --------------------------------------------------------------------------------
    lens = Lens("lytter-alerts-timeline", "Alerts over time by severity", "Alert updates over time (updated_at), by severity.", ALERTS_DV)
    n = lens.col("count", count("Alerts"))
    alerts_timeline = xy(lens, "bar_stacked", lens.col("time", date_histogram("updated_at")), [n],
                         split=lens.col("severity", terms("severity", "Severity", 5, n, other=False)))

    lens = Lens("lytter-alerts-opened", "Incidents opened over time by rule", "When incidents were opened (opened_at), by rule.", ALERTS_OPENED_DV)
    n = lens.col("count", count("Incidents"))
    alerts_opened = xy(lens, "bar_stacked", lens.col("time", date_histogram("opened_at")), [n],
                       split=lens.col("rule", terms("rule", "Rule", 10, n, other=False)))

    lens = Lens("lytter-alerts-by-brand", "Alerts by brand and rule", "Which brands alert, and why.", ALERTS_DV)
    n = lens.col("count", count("Alerts"))
    alerts_by_brand = xy(lens, "bar_horizontal_stacked", lens.col("brand", terms("brand", "Brand", 15, n)), [n],
                         split=lens.col("rule", terms("rule", "Rule", 10, n, other=False)))

    lens = Lens("lytter-alerts-status", "Alert status", "Open and closed incidents.", ALERTS_DV)
    n = lens.col("count", count("Alerts"))
    alerts_status = donut(lens, lens.col("status", terms("status", "Status", 5, n, other=False)), n)

    alert_list = saved_search(
        "lytter-alerts-latest", "Lytter alerts (latest first)", "Every alert with its brand, rule, severity and status.", ALERTS_DV,
        ["brand", "rule", "severity", "status", "title", "opened_at", "updates"], [["updated_at", "desc"]],
    )

    # --- crisis view ---------------------------------------------------------------------------
    negative = 'sentiment.label : "negative"'
    crisis_list = saved_search(
        "lytter-crisis-negative-by-reach", "Negative mentions by reach", "Negative mentions, the farthest-reaching first.", MENTIONS_DV,
        ["brands", "author.handle", "reach", "impact", "influence", "lang", "source", "title", "text", "url"],
        [["reach", "desc"], ["published_at", "desc"]],
        filters=[phrase_filter("sentiment.label", "negative", 0)],
    )

    lens = Lens("lytter-crisis-negative-volume", "Negative mentions by brand", "Negative mentions over time, per brand.", MENTIONS_DV, negative)
    n = lens.col("count", count("Negative mentions"))
    crisis_volume = xy(lens, "bar_stacked", lens.col("time", date_histogram("published_at")), [n],
                       split=lens.col("brand", terms("brands", "Brand", 10, n)))

    lens = Lens("lytter-crisis-negative-count", "Negative mentions", "Negative mentions in the time range.", MENTIONS_DV, negative)
    crisis_count = big_number(lens, lens.col("count", count("Negative mentions")))

    lens = Lens("lytter-crisis-reach-by-brand", "Negative reach by brand", "Total reach and impact of the negative mentions, per brand.", MENTIONS_DV, negative)
    reach = lens.col("reach", metric("sum", "reach", "Reach (sum)", 0))
    lens.col("brand", terms("brands", "Brand", 15, reach))
    lens.col("impact", metric("sum", "impact", "Impact (sum)"))
    lens.col("count", count("Negative mentions"))
    crisis_reach = table(lens, sort_by=reach)

    stories, campaigns, terms_by_brand = story_objects(), campaign_objects(), emerging_terms()
    answers, queue = response_time_objects(), queue_objects()

    # --- dashboards ----------------------------------------------------------------------------
    overview = dashboard(
        "lytter-overview", "Lytter: share of voice", "Mention volume and share of voice per brand, stories and emerging terms.",
        [(mention_count, 0, 0, 12, 8), (share_of_voice, 12, 0, 12, 16), (volume_by_source, 24, 0, 24, 16),
         (stories["count"], 0, 8, 12, 8), (volume_by_brand, 0, 16, 48, 16), (stories["over_time"], 0, 32, 48, 16),
         (stories["largest"], 0, 48, 28, 20), (terms_by_brand, 28, 48, 20, 20)],
        time_from="now-7d",
    )
    sentiment = dashboard(
        "lytter-sentiment", "Lytter: sentiment", "Sentiment over time, by language and by brand.",
        [(sentiment_over_time, 0, 0, 24, 15), (sentiment_by_language, 24, 0, 24, 15),
         (sentiment_score, 0, 15, 24, 15), (sentiment_by_brand, 24, 15, 24, 15), (brand_stance, 0, 30, 48, 15)],
        time_from="now-7d",
    )
    authors = dashboard(
        "lytter-authors", "Lytter: authors and influence", "Who is talking, how influential they are and how far it reaches.",
        [(top_authors, 0, 0, 28, 20), (top_authors_impact, 28, 0, 20, 20), (influence_over_time, 0, 20, 48, 14)],
        time_from="now-7d",
    )
    alerts_dash = dashboard(
        "lytter-alerts", "Lytter: alerts", "The alerts timeline: brand, rule, severity and status.",
        [(alerts_timeline, 0, 0, 24, 14), (alerts_opened, 24, 0, 24, 14), (alerts_by_brand, 0, 14, 32, 14),
         (alerts_status, 32, 14, 16, 14), (alert_list, 0, 28, 48, 18),
         (campaigns["count"], 0, 46, 12, 14), (campaigns["search"], 12, 46, 36, 14)],
        time_from="now-24h", refresh_ms=60_000,
    )
    # Stories and terms here are negative only (the dashboard's filter); campaign alerts live on the alerts
    # dashboard, since the alerts index has no sentiment.label and this filter would hide every alert.
    crisis = dashboard(
        "lytter-crisis", "Lytter: crisis view", "The last hours: negative mentions, the farthest-reaching first, their stories and terms.",
        [(crisis_count, 0, 0, 12, 14), (crisis_volume, 12, 0, 36, 14), (crisis_reach, 0, 14, 20, 24), (crisis_list, 20, 14, 28, 24),
         (stories["over_time"], 0, 38, 48, 14), (stories["largest"], 0, 52, 28, 20), (terms_by_brand, 28, 52, 20, 20)],
        time_from="now-6h", refresh_ms=30_000,
        filters=[(MENTIONS_DV, phrase_filter("sentiment.label", "negative", 0))],
    )
    answers_dash = dashboard(
        "lytter-answers", "Lytter: answers",
        "The answer loop: first-response times, the share answered within the target, the open queue, intents and the unanswered alerts.",
        [(answers["share"], 0, 0, 12, 12), (queue["count"], 12, 0, 12, 12), (answers["by_brand"], 24, 0, 24, 12),
         (answers["by_source"], 0, 12, 48, 16), (queue["over_time"], 0, 28, 24, 16), (queue["intents"], 24, 28, 24, 16),
         (queue["list"], 0, 44, 48, 18), (queue["unanswered"], 0, 62, 48, 14)],
        time_from="now-7d", refresh_ms=60_000,
    )

    return [
        mentions, alerts,
        volume_by_brand, share_of_voice, mention_count, volume_by_source,
        sentiment_over_time, sentiment_by_language, sentiment_score, sentiment_by_brand, brand_stance,
        top_authors, top_authors_impact, influence_over_time,
        alerts_by_opening, alerts_timeline, alerts_opened, alerts_by_brand, alerts_status, alert_list,
        crisis_list, crisis_volume, crisis_count, crisis_reach,
        *stories.values(), *campaigns.values(), terms_by_brand, *answers.values(), *queue.values(),
        overview, sentiment, authors, alerts_dash, crisis, answers_dash,
    ]


def render(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n" for obj in objects)


def main(argv: list[str]) -> int:
    text = render(build())
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(text.splitlines())} saved objects to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
