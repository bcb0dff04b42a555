"""The mention index's template and mapping, the alias and its first index, and the alerts index's mapping.

Index layout: time-ordered indices ``<prefix>-000001``, ``-000002``, ... behind the alias ``<prefix>``,
which is both the write alias (``is_write_index``) and what searches and dashboards read. A template
for ``<prefix>-*`` carries the mapping, so a rolled-over index gets it too.

Language-aware analysis is chosen by what the cluster offers. A complete Elasticsearch has the
``danish``, ``norwegian``, ``swedish`` and ``english`` analyzers (module analysis-common): then
``title`` and ``text`` get one sub-field per language (``text.da``, ``text.no``, ``text.sv``,
``text.en``) with stemming and stop words, next to the ``standard``-analysed main field. The minimal
test distribution that runs locally lacks that module: then only the ``standard`` analyzer is used
(Unicode word splitting and lower-casing; no stemming). ``lytter es setup`` probes with ``_analyze``
and says which mode it chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions

from streams.settings import Settings
from streams.sinks.elasticsearch.client import sync_client

#: sub-field name -> Elasticsearch language analyzer (Bokmål and Nynorsk share the Norwegian one).
LANGUAGE_ANALYZERS = {"da": "danish", "no": "norwegian", "sv": "swedish", "en": "english"}

TEMPLATE_VERSION = 4


def _text_field(language_fields: bool) -> dict[str, Any]:
    mapping: dict[str, Any] = {"type": "text", "analyzer": "standard"}
    if language_fields:
        mapping["fields"] = {sub: {"type": "text", "analyzer": analyzer} for sub, analyzer in LANGUAGE_ANALYZERS.items()}
    return mapping


def _inbox_mapping(keyword: dict[str, Any]) -> dict[str, Any]:
    """The team's actions (lytter inbox / lytter web), written with optimistic concurrency."""
    return {
        "properties": {
            "status": keyword,
            "assignee": keyword,
            "snoozed_until": {"type": "date"},
            "updated_at": {"type": "date"},
            "updated_by": keyword,
            "notes": {"properties": {"by": keyword, "at": {"type": "date"}, "text": {"type": "text"}}},
            "audit": {"properties": {"by": keyword, "at": {"type": "date"}, "action": keyword, "detail": {"type": "text"}}},
        }
    }


def mention_mappings(language_fields: bool) -> dict[str, Any]:
    """The mapping of an enriched mention document (see ``EnrichedMention.to_document``)."""
    keyword = {"type": "keyword", "ignore_above": 1024}
    text = _text_field(language_fields)
    title = dict(_text_field(language_fields))
    title["fields"] = {**title.get("fields", {}), "keyword": {"type": "keyword", "ignore_above": 512}}
    return {
        "dynamic": "strict",
        "_meta": {"lytter_template_version": TEMPLATE_VERSION, "language_fields": language_fields},
        "properties": {
            "id": keyword,
            "source": keyword,
            "url": {"type": "keyword", "ignore_above": 4096},
            "title": title,
            "text": text,
            "kind": keyword,
            "parent_id": keyword,
            "published_at": {"type": "date"},
            "author": {
                "properties": {
                    "handle": keyword,
                    "display_name": {"type": "text", "fields": {"keyword": keyword}},
                    "followers": {"type": "long"},
                    "profile_url": {"type": "keyword", "ignore_above": 4096},
                }
            },
            "engagement": {
                "properties": {name: {"type": "long"} for name in ("likes", "shares", "replies", "views", "quotes")}
            },
            "edited_at": {"type": "date"},
            # a deletion keeps an anonymous tombstone: counts stay right, text and author are gone
            "deleted": {"type": "boolean"},
            "deleted_at": {"type": "date"},
            # The source's payload is kept for audit, not searched: not indexed, any shape accepted.
            "raw": {"type": "object", "enabled": False},
            "lang": keyword,
            "lang_confidence": {"type": "float"},
            "lang_candidates": keyword,
            "declared_lang": keyword,
            "sentiment": {
                "properties": {
                    "label": keyword,
                    "score": {"type": "float"},
                    "probabilities": {
                        "properties": {name: {"type": "float"} for name in ("negative", "neutral", "positive")}
                    },
                    "model_version": keyword,
                }
            },
            "brands": keyword,
            "brand_sentiment": {
                "properties": {"brand": keyword, "label": keyword, "score": {"type": "float"}, "brand_label": keyword}
            },
            "influence": {"type": "float"},
            "reach": {"type": "float"},
            "impact": {"type": "float"},
            "ingested_at": {"type": "date"},
            "indexed_at": {"type": "date"},
            # stories: near-duplicates (reposts, copy-paste) share one story id (streams/stories)
            "story_id": keyword,
            # content words (streams/processing/keywords.py): emerging terms by significant_terms, in Kibana too
            "keywords": keyword,
            # the answer loop (streams/answer): what the writer wants, whether a brand owes a reply, the reply
            "intent": keyword,
            "intent_confidence": {"type": "float"},
            "owned_by": keyword,  # the brand whose own account wrote it
            "addressed_to": keyword,  # the brands it is addressed to
            "needs_reply": {"type": "boolean"},
            "reply_due_at": {"type": "date"},
            "answered_at": {"type": "date"},
            "answered_by": keyword,
            "response_time_s": {"type": "float"},
            "answered_within_target": {"type": "boolean"},
            # the team's actions (lytter inbox / lytter web), written with optimistic concurrency
            "inbox": _inbox_mapping(keyword),
        },
    }


def mention_index_template(settings: Settings, language_fields: bool) -> dict[str, Any]:
    prefix = settings.es_index_prefix
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 200,
        "version": TEMPLATE_VERSION,
        "_meta": {"managed_by": "lytter"},
        "template": {
            "settings": {
                "number_of_shards": settings.es_shards,
                "number_of_replicas": settings.es_replicas,
                "refresh_interval": "1s",
            },
            "mappings": mention_mappings(language_fields),
        },
    }


def first_index_name(prefix: str) -> str:
    return f"{prefix}-000001"


def cluster_has_language_analyzers(client: Elasticsearch) -> bool:
    """True when the cluster has the language analyzers (module analysis-common)."""
    try:
        client.indices.analyze(analyzer="danish", text="bilerne")
        return True
    except es_exceptions.BadRequestError:
        return False


@dataclass
class SetupReport:
    alias: str
    template: str
    created_index: str | None
    language_fields: bool


def setup_indices(settings: Settings, client: Elasticsearch | None = None) -> SetupReport:
    """Create (or update) the template and, if missing, the first index behind the write alias."""
    own = client is None
    client = client or sync_client(settings)
    try:
        language_fields = cluster_has_language_analyzers(client)
        prefix = settings.es_index_prefix
        template_name = f"{prefix}-template"
        client.indices.put_index_template(name=template_name, **mention_index_template(settings, language_fields))
        created = None
        if client.indices.exists_alias(name=prefix):
            # Indices made by an older template get the fields added since (additive, so allowed);
            # their strict mapping would otherwise refuse documents with the new fields.
            client.indices.put_mapping(index=prefix, properties=mention_mappings(language_fields)["properties"])
        else:
            index = first_index_name(prefix)
            try:
                client.indices.create(index=index, aliases={prefix: {"is_write_index": True}})
                created = index
            except es_exceptions.BadRequestError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise
        return SetupReport(prefix, template_name, created, language_fields)
    finally:
        if own:
            client.close()


def alert_mappings() -> dict[str, Any]:
    keyword = {"type": "keyword", "ignore_above": 1024}
    return {
        "dynamic": False,
        "properties": {
            "alert_id": keyword,
            "brand": keyword,
            "rule": keyword,
            "severity": keyword,
            "status": keyword,
            "action": keyword,
            "title": {"type": "text", "fields": {"keyword": keyword}},
            "opened_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "updates": {"type": "integer"},
            # Evidence differs per rule; it is kept whole for the alert view, and not indexed field by
            # field (its shapes would conflict across rules).
            "evidence": {"type": "object", "enabled": False},
        },
    }
