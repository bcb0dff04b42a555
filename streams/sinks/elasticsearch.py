"""The Elasticsearch sink: index template, alias, and batched indexing of enriched mentions.

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

The document ``_id`` is the mention id, so replaying the same mention overwrites instead of duplicating.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from elasticsearch import AsyncElasticsearch, Elasticsearch
from elasticsearch import exceptions as es_exceptions
from elasticsearch.helpers import async_bulk

from streams.settings import Settings

log = logging.getLogger(__name__)

#: sub-field name -> Elasticsearch language analyzer (Bokmål and Nynorsk share the Norwegian one).
LANGUAGE_ANALYZERS = {"da": "danish", "no": "norwegian", "sv": "swedish", "en": "english"}

TEMPLATE_VERSION = 4


def client_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"hosts": [settings.es_url], "request_timeout": settings.es_request_timeout}
    if settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    return options


def sync_client(settings: Settings) -> Elasticsearch:
    return Elasticsearch(**client_options(settings))


def async_client(settings: Settings) -> AsyncElasticsearch:
    return AsyncElasticsearch(**client_options(settings))


class ElasticsearchAccessError(RuntimeError):
    """The cluster answers but refuses us: missing or wrong credentials, or too few privileges."""


def access_problem(settings: Settings, exc: BaseException) -> str | None:
    """A message naming the setting to fix when ``exc`` is a refusal (401/403), else None."""
    if isinstance(exc, es_exceptions.AuthenticationException):
        if not settings.es_username or settings.es_password is None:
            return (
                f"Elasticsearch at {settings.es_url} requires a user and password (401): set LYTTER_ES_USERNAME and "
                "LYTTER_ES_PASSWORD (for the local services with --security the user is `elastic`)."
            )
        return (
            f"Elasticsearch at {settings.es_url} refused user {settings.es_username!r} (401): check LYTTER_ES_PASSWORD "
            "(and LYTTER_ES_USERNAME)."
        )
    if isinstance(exc, es_exceptions.AuthorizationException):
        return (
            f"Elasticsearch at {settings.es_url} refused user {settings.es_username!r} the request (403): give it "
            "privileges on the lytter-* indices and index templates, or use another user (LYTTER_ES_USERNAME)."
        )
    return None


def check_access(settings: Settings) -> str | None:
    """The cluster's version, or None when it cannot be reached now (the worker then retries as in any
    outage). Raises ElasticsearchAccessError when it answers with a refusal: retrying cannot fix that."""
    client = sync_client(settings)
    try:
        return str(client.info()["version"]["number"])
    except (es_exceptions.AuthenticationException, es_exceptions.AuthorizationException) as exc:
        raise ElasticsearchAccessError(access_problem(settings, exc)) from None
    except (es_exceptions.TransportError, es_exceptions.ApiError):
        return None
    finally:
        client.close()


def _text_field(language_fields: bool) -> dict[str, Any]:
    mapping: dict[str, Any] = {"type": "text", "analyzer": "standard"}
    if language_fields:
        mapping["fields"] = {sub: {"type": "text", "analyzer": analyzer} for sub, analyzer in LANGUAGE_ANALYZERS.items()}
    return mapping


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
            "inbox": {
                "properties": {
                    "status": keyword,
                    "assignee": keyword,
                    "snoozed_until": {"type": "date"},
                    "updated_at": {"type": "date"},
                    "updated_by": keyword,
                    "notes": {"properties": {"by": keyword, "at": {"type": "date"}, "text": {"type": "text"}}},
                    "audit": {"properties": {"by": keyword, "at": {"type": "date"}, "action": keyword, "detail": {"type": "text"}}},
                }
            },
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


@dataclass
class BulkResult:
    indexed: int = 0
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # (id, status, reason)
    retry: list[dict[str, Any]] = field(default_factory=list)  # documents to send again (429/5xx items)


# A tombstone (partial update) can meet a replayed write of the same document: Elasticsearch then answers
# 409 unless the update retries on the new version.
RETRY_ON_CONFLICT = 5
#: Bulk item statuses that say "not now" rather than "not this document": retried, never dead-lettered.
RETRY_ON_STATUS = (429, *range(500, 600))


def _field_update(alias: str, update: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in update.items() if k != "id"}
    return {"_op_type": "update", "_index": alias, "_id": update["id"], "doc": fields, "retry_on_conflict": RETRY_ON_CONFLICT}


def _actions(alias: str, documents: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    # One write per mention, by the stage that has all of it, as an upsert: a new mention is simply
    # created (nothing to read or merge), while a re-write of one already indexed (an edit, a replay) merges
    # into it, so what others added since stays: the team's inbox actions and audit trail, an answer's
    # answered_* fields, a tombstone. A whole-document index would silently wipe them.
    for doc in documents:
        yield {"_op_type": "update", "_index": alias, "_id": doc["id"], "doc": doc, "doc_as_upsert": True, "retry_on_conflict": RETRY_ON_CONFLICT}


def _error_reason(item: dict[str, Any]) -> tuple[str, int, str]:
    op = next(iter(item.values()))
    error = op.get("error", {})
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        caused = error.get("caused_by")
        if isinstance(caused, dict):
            reason += f" (caused by {caused.get('type')}: {caused.get('reason')})"
    else:
        reason = str(error)
    return str(op.get("_id")), int(op.get("status", 0)), reason


def is_retryable(exc: BaseException) -> bool:
    """True for errors that say the cluster is unreachable or overloaded, not that a document is bad."""
    if isinstance(exc, es_exceptions.TransportError):  # connection refused, timeouts, TLS
        return True
    if isinstance(exc, es_exceptions.ApiError):
        return exc.meta.status in (408, 429, 500, 502, 503, 504)
    return False


class MentionIndexer:
    """Indexes batches of documents; retries the whole batch while the cluster is unreachable.

    A document the cluster refuses (mapping conflict, too large, ...) is returned as failed with its
    reason, for the dead-letter topic. Retrying a batch is safe because ``_id`` is the mention id.
    """

    def __init__(self, settings: Settings, client: AsyncElasticsearch | None = None, on_retry=None) -> None:
        self.settings = settings
        self.client = client or async_client(settings)
        self.alias = settings.es_index_prefix
        self.max_backoff = 30.0
        self.outages = 0
        self.on_retry = on_retry or (lambda: None)

    async def index(self, documents: Sequence[dict[str, Any]]) -> BulkResult:
        """Index until every document is written or refused: an outage retries what is still pending;
        an item Elasticsearch rejects for load (429, 5xx) is retried by the client's helper
        (``retry_on_status``) and, if still rejected, re-sent alone with the others still pending, never
        the whole batch again."""
        result, pending, delay = BulkResult(), list(documents), 0.5
        while pending:
            try:
                once = await self._index_once(pending)
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                why = f"Elasticsearch unavailable ({exc})"
            else:
                result.indexed += once.indexed
                result.failed.extend(once.failed)
                pending = once.retry
                why = f"Elasticsearch overloaded: {len(pending)} items rejected with 429/5xx"
                if not pending:
                    break
            self.outages += 1
            self.on_retry()
            log.warning("%s; retrying %d documents in %.1fs", why, len(pending), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        return result

    async def _index_once(self, documents: Sequence[dict[str, Any]]) -> BulkResult:
        result = BulkResult()
        if not documents:
            return result
        success, errors = await async_bulk(
            self.client,
            _actions(self.alias, documents),
            chunk_size=self.settings.es_bulk_chunk,
            raise_on_error=False,
            raise_on_exception=True,
            max_retries=5,
            initial_backoff=0.5,
            retry_on_status=RETRY_ON_STATUS,
            refresh=False,
        )
        result.indexed = success
        by_id = {doc["id"]: doc for doc in documents}
        for item in errors:
            doc_id, status, reason = _error_reason(item)
            if status in RETRY_ON_STATUS:
                result.retry.append(by_id[doc_id])  # not the document's fault: send it again, alone
            else:
                result.failed.append((doc_id, status, reason))
        return result

    async def tombstone(self, deletions: Sequence[Any]) -> int:
        """Strip deleted mentions of their text and personal data (``schema.tombstone_fields``), keeping
        the rest for the counts. One not indexed yet is skipped here: the enrich stage honours the
        deletion when the mention arrives."""
        from streams.schema import tombstone_fields

        return await self.update_fields([{"id": d.id, **tombstone_fields(d.deleted_at)} for d in deletions])

    async def update_fields(self, updates: Sequence[dict[str, Any]]) -> int:
        """Set fields on indexed mentions (partial updates); a mention that is not in the index (not
        yet, dead-lettered, or in an index rolled over since) is skipped."""
        if not updates:
            return 0
        actions = [_field_update(self.alias, u) for u in updates]  # a list: a retry sends the same again
        delay = 0.5
        while True:
            try:
                success, _errors = await async_bulk(
                    self.client, actions, chunk_size=self.settings.es_bulk_chunk, raise_on_error=False, max_retries=5
                )
                return success
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                log.warning("Elasticsearch unavailable (%s); retrying %d updates in %.1fs", exc, len(updates), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    async def settled_by_the_team(self, ids: Sequence[str]) -> list[str]:
        """Which of these mentions the team marked handled or no-reply-needed in the inbox
        (``lytter inbox`` / ``lytter web``): they stop counting as unanswered."""
        if not ids:
            return []
        response = await self.client.search(
            index=self.alias, size=len(ids), source=False, ignore_unavailable=True, allow_no_indices=True,
            query={"bool": {"filter": [{"ids": {"values": list(ids)}}, {"terms": {"inbox.status": ["handled", "no_reply_needed"]}}]}},
        )
        return [hit["_id"] for hit in response["hits"]["hits"]]

    async def close(self) -> None:
        await self.client.close()


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


class AlertIndexer:
    """Alerts are indexed with ``_id`` = alert id: each update of an incident overwrites its document."""

    def __init__(self, settings: Settings, client: AsyncElasticsearch | None = None) -> None:
        self.settings = settings
        self.client = client or async_client(settings)
        self.index_name = settings.es_alerts_index
        self._ready = False

    async def _ensure(self) -> None:
        if self._ready:
            return
        if not await self.client.indices.exists(index=self.index_name):
            try:
                await self.client.indices.create(
                    index=self.index_name,
                    settings={"number_of_shards": 1, "number_of_replicas": self.settings.es_replicas},
                    mappings=alert_mappings(),
                )
            except es_exceptions.BadRequestError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise
        self._ready = True

    async def index(self, alert: dict[str, Any]) -> None:
        delay = 0.5
        while True:
            try:
                await self._ensure()
                # No refresh="wait_for": it held every alert up to a refresh interval (1 s) before its
                # delivery, and a backlog of alerts then took a second each. Searchable within 1 s anyway.
                await self.client.index(index=self.index_name, id=alert["alert_id"], document=alert)
                return
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                log.warning("Elasticsearch unavailable (%s); retrying alert %s in %.1fs", exc, alert.get("alert_id"), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        await self.client.close()
