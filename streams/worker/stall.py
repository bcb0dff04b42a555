"""Stalled-partition detection for the worker's source topics.

Around a rebalance faust-streaming can skip records it fetched (our crash-loop and broker-fault tests
found it). The worker's transport (streams/worker/transport.py) never commits past a record that was not
acknowledged, so the committed offset stays behind the skipped record: nothing is lost, but the running
worker would not come back for it, and everything after it in that partition waits uncommitted.

The worker checks every few seconds. A partition whose committed offset has not moved for ``stall_s``
while records wait beyond it is reported once per stall period, at a moment when its agent has no batch
in hand (a batch waiting out an Elasticsearch outage is work in progress, not a stall). The worker then
looks at the log: if there is a record at the committed offset it seeks back and reads again (the
records re-read are indexed again under the same ids, idempotent, and fill the gap); if there is none (a
transaction marker or a compacted record of a topic some other producer writes) it moves past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable


@dataclass
class _Seen:
    committed: int | None
    since: float


class StallDetector:
    def __init__(self, stall_s: float = 30.0) -> None:
        self.stall_s = stall_s
        self._seen: dict[Hashable, _Seen] = {}

    def check(self, tp: Hashable, committed: int | None, end: int | None, now: float, busy: bool) -> bool:
        """True when ``tp`` is stalled at ``committed`` and should be dealt with now (see the module docstring)."""
        seen = self._seen.get(tp)
        if seen is None or seen.committed != committed:
            self._seen[tp] = _Seen(committed, now)  # progress (or first sight): the clock starts again
            return False
        if committed is None or end is None or end <= committed:
            seen.since = now  # nothing waiting beyond the commit: not a stall
            return False
        if busy or now - seen.since < self.stall_s:
            return False  # the clock keeps running while busy; act only at an idle moment
        seen.since = now  # at most once per stall period
        return True

    def forget(self, tp: Hashable) -> None:
        self._seen.pop(tp, None)


async def reread_stalled_partitions(consumer, stalls: StallDetector, busy, settings, *, on_stall=lambda: None) -> None:
    """One check of every assigned source partition (the worker's 5-second timer): a stalled one is
    re-read from its committed offset, or moved past when the log has no record there."""
    import asyncio
    import logging
    import time

    from streams.ops.kafka_admin import next_record_offset

    log = logging.getLogger("lytter.worker")
    now = time.monotonic()
    for tp in list(consumer.assignment()):
        if tp.topic not in busy:
            continue
        try:
            end = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - not known yet
            end = None
        offset = consumer.committed_offset(tp)
        if not stalls.check(tp, offset, end, now, busy=busy.get(tp.topic, False)):
            continue
        on_stall()
        loop = asyncio.get_running_loop()
        following = await loop.run_in_executor(None, next_record_offset, settings, tp.topic, tp.partition, offset)
        if following is not None and following > offset:
            log.warning("%s[%d]: no record at offsets %d-%d (transaction markers?); moving past them", tp.topic, tp.partition, offset, following - 1)
            consumer.skip_hole(tp, offset, following)
        else:
            log.warning("%s[%d]: committed offset stuck at %s with records up to %s; re-reading from it", tp.topic, tp.partition, offset, end)
            await consumer.seek(tp, offset)
