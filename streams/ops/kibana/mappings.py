"""The Elasticsearch side of the checks: field types, and the flattened mappings the data views read."""

from __future__ import annotations

from typing import Any, Mapping

NUMERIC_TYPES = frozenset(
    {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
)
DATE_TYPES = frozenset({"date", "date_nanos"})
KEYWORD_TYPES = frozenset({"keyword", "constant_keyword", "wildcard"})
#: Types Elasticsearch can aggregate and sort on (doc values); ``text`` is not among them.
AGGREGATABLE_TYPES = NUMERIC_TYPES | DATE_TYPES | KEYWORD_TYPES | {"ip", "boolean"}


def flatten_mapping(mapping: Mapping[str, Any]) -> dict[str, str]:
    """``{field path: type}`` of an index mapping, multi-fields included (``title.keyword``).

    Objects with ``enabled: false`` (kept, not indexed) are not fields one can query or aggregate, so
    they are left out; so are plain objects (only their leaves are fields).
    """
    fields: dict[str, str] = {}

    def walk(properties: Mapping[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            path = f"{prefix}{name}"
            if spec.get("enabled", True) is False:
                continue
            if "properties" in spec and spec.get("type", "object") in ("object", "nested"):
                walk(spec["properties"], f"{path}.")
                continue
            if "type" in spec:
                fields[path] = spec["type"]
            for sub, sub_spec in (spec.get("fields") or {}).items():
                if "type" in sub_spec:
                    fields[f"{path}.{sub}"] = sub_spec["type"]

    walk(mapping.get("properties", {}), "")
    return fields


def default_mappings(settings: Any = None) -> dict[str, dict[str, str]]:
    """Flattened mappings keyed by the data-view title that reads them.

    Mentions: ``<es_index_prefix>*`` (the alias ``<prefix>`` and its indices ``<prefix>-000001``, ...),
    with the template of a minimal cluster (``language_fields=False``: its fields are in every cluster's
    mapping). Alerts: ``<es_alerts_index>``. Without ``settings`` the settings' defaults are used.
    """
    from streams.sinks.elasticsearch import alert_mappings, mention_mappings
    from streams.settings import Settings

    def setting(name: str) -> str:
        return getattr(settings, name) if settings is not None else Settings.model_fields[name].default

    mentions = flatten_mapping(mention_mappings(language_fields=False))
    return {
        f"{setting('es_index_prefix')}*": mentions,
        setting("es_index_prefix"): mentions,
        setting("es_alerts_index"): flatten_mapping(alert_mappings()),
    }
