"""Batched writes of enriched mentions (and partial updates of indexed ones) through the alias.

Idempotent across rollover: the document ``_id`` is the mention id, and before each bulk request one
``ids`` search over the alias (``_source`` off) finds which of its mentions some index already holds;
those are written to that index, the rest to the alias (the write index). So a mention replayed after
``lytter es rollover`` (streams/sinks/lifecycle.py) updates its document in the older index instead of
getting a second one in the new index, and an edit, a tombstone or an answer's fields reach it there too.
The search sees what was refreshed (``refresh_interval`` 1 s); ``rollover`` refreshes the old index, so
what was written before a rollover is found after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from elasticsearch import AsyncElasticsearch
from elasticsearch import exceptions as es_exceptions

from streams.settings import Settings
from streams.sinks.elasticsearch.bulk import (
    BLOCK, BulkResult, block_fix, describe_error, field_update_action, operations, read_items, upsert_action,
)
from streams.sinks.elasticsearch.client import async_client, is_retryable

log = logging.getLogger(__name__)

#: A write block still in place is logged again after this long (one line per block, not one per retry).
BLOCK_REMINDER_S = 300.0
#: Ids per lookup search (Elasticsearch's ``index.max_terms_count`` is 65,536; results stay small).
LOOKUP_IDS = 1000


@dataclass
class IndexerStats:
    """What the indexer met, for metrics, tests and benchmarks."""

    bulk_requests: int = 0
    items_sent: int = 0
    rejected: Counter = field(default_factory=Counter)  # error type -> items answered "not now" and re-sent
    refused: Counter = field(default_factory=Counter)  # error type -> items refused (dead-lettered)
    blocked_seconds: list[float] = field(default_factory=list)  # each write block's length, once lifted
    lookups: int = 0
    lookup_seconds: float = 0.0
    located: int = 0  # documents found already indexed, written to the index that holds them


@dataclass
class _Block:
    since: float
    logged: float


def _whole_request_error(exc: es_exceptions.ApiError) -> Any:
    body = exc.body if isinstance(exc.body, dict) else {}
    return body.get("error", exc.message)


class MentionIndexer:
    """Indexes batches of documents until each one is written or refused.

    A document the cluster refuses (a mapping it does not fit, a date it cannot parse, an ``_id`` over 512
    bytes, ...) is returned as failed with Elasticsearch's reason, for the dead-letter topic. Everything else
    waits: an outage retries what is still pending; an item answered "not now" (429/5xx, a write block) is
    re-sent alone with the others still pending, never the whole batch again.
    """

    def __init__(self, settings: Settings, client: AsyncElasticsearch | None = None, on_retry=None, *,
                 locate: bool = True) -> None:
        self.settings = settings
        self.client = client or async_client(settings)
        self.alias = settings.es_index_prefix
        self.max_backoff = 30.0
        self.outages = 0
        self.on_retry = on_retry or (lambda: None)
        self.locate = locate  # the lookup before writing (off: only to measure what it costs)
        self.stats = IndexerStats()
        self._blocks: dict[str, _Block] = {}

    async def index(self, documents: Sequence[dict[str, Any]]) -> BulkResult:
        result, pending, delay = BulkResult(), list(documents), 0.5
        while pending:
            try:
                once = await self._index_once(pending)
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                why: str | None = f"Elasticsearch unavailable ({exc})"
            else:
                result.indexed += once.indexed
                result.failed.extend(once.failed)
                result.rejected.update(once.rejected)
                result.written_to |= once.written_to
                self.stats.rejected.update(once.rejected)
                self.stats.refused.update(reason.split(":", 1)[0] for _, _, reason in once.failed)
                self._track_blocks(once)
                pending = once.retry
                if not pending:
                    break
                overloaded = {kind: n for kind, n in once.rejected.items() if kind != BLOCK}
                # a block has its own line (_track_blocks); overload is logged per round
                why = f"Elasticsearch overloaded: items answered 'not now' {dict(overloaded)}" if overloaded else None
            self.outages += 1
            self.on_retry()
            if why:
                log.warning("%s; retrying %d documents in %.1fs", why, len(pending), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        return result

    def _track_blocks(self, once: BulkResult) -> None:
        now = time.monotonic()
        for index, block in once.blocked.items():
            known = self._blocks.get(index)
            if known is not None and now - known.logged < BLOCK_REMINDER_S:
                continue
            since = known.since if known else now
            log.error(
                "Elasticsearch blocks writes to index %s: [%s] (cluster_block_exception)%s. The worker holds %d "
                "documents and retries them (they are not dead-lettered; the batch is not acknowledged). Fix: %s",
                index, block, f", for {now - since:.0f}s now" if known else "", len(once.retry), block_fix(index, block),
            )
            self._blocks[index] = _Block(since, now)
        if self._blocks and not once.blocked and once.indexed:
            for index, known in self._blocks.items():
                self.stats.blocked_seconds.append(now - known.since)
                log.warning("the write block on index %s is lifted after %.1fs: writing again", index, now - known.since)
            self._blocks.clear()

    async def _index_once(self, documents: Sequence[dict[str, Any]]) -> BulkResult:
        result = BulkResult()
        chunk = max(1, self.settings.es_bulk_chunk)
        for start in range(0, len(documents), chunk):
            part = list(documents[start : start + chunk])
            targets = await self.locate_indices([doc["id"] for doc in part])
            result.merge(await self._bulk_isolating(part, targets))
        return result

    async def _bulk_isolating(self, docs: list[dict[str, Any]], targets: dict[str, str]) -> BulkResult:
        """One bulk request; one Elasticsearch refuses as a whole (400, e.g. an ``_id`` over 512 bytes, or
        413) is split in halves until the document at fault is alone, refused with Elasticsearch's reason."""
        try:
            return await self._bulk(docs, targets)
        except es_exceptions.ApiError as exc:
            if exc.meta.status not in (400, 413):
                raise
            if len(docs) == 1:
                return BulkResult(failed=[(str(docs[0]["id"]), exc.meta.status, describe_error(_whole_request_error(exc))[1])])
            log.warning("Elasticsearch refused a bulk request of %d documents as a whole (%d %s); splitting it to find "
                        "the documents at fault", len(docs), exc.meta.status, describe_error(_whole_request_error(exc))[0])
            half = len(docs) // 2
            result = await self._bulk_isolating(docs[:half], targets)
            result.merge(await self._bulk_isolating(docs[half:], targets))
            return result

    async def _bulk(self, docs: list[dict[str, Any]], targets: dict[str, str], action=upsert_action) -> BulkResult:
        self.stats.bulk_requests += 1
        self.stats.items_sent += len(docs)
        ops = operations(action(targets.get(doc["id"], self.alias), doc) for doc in docs)
        response = await self.client.bulk(operations=ops, refresh=False)
        return read_items(response["items"], docs)

    async def locate_indices(self, ids: Sequence[str]) -> dict[str, str]:
        """Mention id -> the concrete index that holds it, for the ids some index behind the alias holds
        (the oldest, should one be held twice from before this lookup existed)."""
        if not self.locate or not ids:
            return {}
        started = time.perf_counter()
        found: dict[str, str] = {}
        for start in range(0, len(ids), LOOKUP_IDS):
            part = list(ids[start : start + LOOKUP_IDS])
            response = await self.client.search(
                index=self.alias, size=min(2 * len(part), 10_000), source=False, track_total_hits=False,
                ignore_unavailable=True, allow_no_indices=True, query={"ids": {"values": part}},
            )
            for hit in response["hits"]["hits"]:
                found[hit["_id"]] = min(found.get(hit["_id"], hit["_index"]), hit["_index"])
            self.stats.lookups += 1
        self.stats.lookup_seconds += time.perf_counter() - started
        self.stats.located += len(found)
        return found

    async def tombstone(self, deletions: Sequence[Any]) -> int:
        """Strip deleted mentions of their text and personal data (``schema.tombstone_fields``), keeping
        the rest for the counts. One not indexed yet is skipped here: the enrich stage honours the
        deletion when the mention arrives."""
        from streams.schema import tombstone_fields

        return await self.update_fields([{"id": d.id, **tombstone_fields(d.deleted_at)} for d in deletions])

    async def update_fields(self, updates: Sequence[dict[str, Any]]) -> int:
        """Set fields on indexed mentions (partial updates), in whichever index holds each. Waits out outages,
        429/5xx and write blocks like :meth:`index`; a mention that is in no index (not yet, or dead-lettered)
        is skipped (404), another refusal is logged with Elasticsearch's reason."""
        pending, delay, written = list(updates), 0.5, 0
        chunk = max(1, self.settings.es_bulk_chunk)
        while pending:
            once = BulkResult()
            try:
                for start in range(0, len(pending), chunk):
                    part = pending[start : start + chunk]
                    targets = await self.locate_indices([u["id"] for u in part])
                    once.merge(await self._bulk(part, targets, field_update_action))
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                log.warning("Elasticsearch unavailable (%s); retrying %d updates in %.1fs", exc, len(pending), delay)
            else:
                written += once.indexed
                self._track_blocks(once)
                for doc_id, status, reason in once.failed:
                    if status != 404:
                        log.warning("Elasticsearch refused the update of mention %s (%d): %s", doc_id, status, reason)
                pending = once.retry
            if pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        return written

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
