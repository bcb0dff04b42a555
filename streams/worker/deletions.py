"""Deletions: a source reported a mention gone; the worker honours it now and on every later replay.

``mentions.deletions`` is keyed by mention id, like ``mentions.raw``, and has as many partitions, so the
``deletions`` table (changelog-backed) is co-partitioned with the raw mentions: the enrich stage that
reads a mention's partition also holds that partition's deletions.

* :class:`DeletionStage` records each deletion in the table, then strips the indexed document of text,
  title, author, link and source payload (a tombstone that keeps language, brands and sentiment for the
  counts). Recorded first: a crash in between replays the deletion, and stripping is idempotent.
* :class:`HonourDeletions` wraps the enrich stage's sink: a mention that arrives after its deletion (a
  replay, a late page) goes on as a tombstone, never with its text.

This is the data-protection side of Lytter (GDPR art. 17): see README, "Deleted posts".
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any, Protocol, Sequence

from streams.processing.pipeline import EnrichedSink, RawRecord
from streams.schema import Deletion, EnrichedMention

__all__ = ["DeletionStage", "HonourDeletions"]


class Tombstones(Protocol):
    async def tombstone(self, deletions: Sequence[Deletion]) -> int: ...


class DeletionStage:
    def __init__(self, deleted: MutableMapping[bytes, Any], index: Tombstones) -> None:
        self.deleted = deleted
        self.index = index
        self.honoured = 0

    async def process(self, records: Sequence[RawRecord]) -> int:
        deletions = [Deletion.model_validate_json(r.value) for r in records if r.value]
        for d in deletions:
            self.deleted[d.id.encode("utf-8")] = {"at": d.deleted_at.isoformat(), "reason": d.reason, "source": d.source}
        await self.index.tombstone(deletions)
        self.honoured += len(deletions)
        return len(deletions)


class HonourDeletions:
    """An :class:`EnrichedSink` that turns mentions deleted earlier into tombstones before they go on."""

    def __init__(self, sink: EnrichedSink, deleted: MutableMapping[bytes, Any]) -> None:
        self.sink = sink
        self.deleted = deleted

    def honoured(self, e: EnrichedMention) -> EnrichedMention:
        record = self.deleted.get(e.mention.id.encode("utf-8"))
        return e if record is None else e.as_tombstone(datetime.fromisoformat(record["at"]))

    async def send(self, enriched: Sequence[EnrichedMention]) -> None:
        await self.sink.send([self.honoured(e) for e in enriched])
