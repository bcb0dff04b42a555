"""Stalled-partition detection for the worker's source topics.

Around a rebalance faust-streaming can skip a record it fetched (our crash-loop and broker-fault tests
found it). The worker's transport (streams/kafka_transport.py) never commits past a record that was not
acknowledged, so the committed offset stays behind the skipped record: nothing is lost, but the running
worker would not come back for it, and everything after it in that partition waits uncommitted.

The worker checks every few seconds. A partition whose committed offset has not moved for ``stall_s``
while records wait beyond it is sought back to its committed offset, at a moment when its agent has no
batch in hand (a batch waiting out an Elasticsearch outage is work in progress, not a stall). The
records re-read are indexed again under the same ids (idempotent) and fill the gap, so the commit moves.

If the commit is still stuck at the same offset after a re-read, there is no record at that offset to
process (a transaction marker or a compacted record of a topic written by some other producer): the
worker then moves past it. One re-read first, so a skipped record is never mistaken for a hole.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Hashable


class Stall(enum.Enum):
    REREAD = "reread"  # seek back to the committed offset and read again
    HOLE = "hole"  # a re-read did not fill it: no record there; move past the offset


@dataclass
class _Seen:
    committed: int | None
    since: float
    rereads: int = 0


class StallDetector:
    def __init__(self, stall_s: float = 30.0) -> None:
        self.stall_s = stall_s
        self._seen: dict[Hashable, _Seen] = {}

    def check(self, tp: Hashable, committed: int | None, end: int | None, now: float, busy: bool) -> Stall | None:
        """What to do about ``tp`` now, if anything (see the module docstring)."""
        seen = self._seen.get(tp)
        if seen is None or seen.committed != committed:
            self._seen[tp] = _Seen(committed, now)  # progress (or first sight): the clock starts again
            return None
        if committed is None or end is None or end <= committed:
            seen.since = now  # nothing waiting beyond the commit: not a stall
            return None
        if busy or now - seen.since < self.stall_s:
            return None  # the clock keeps running while busy; act only at an idle moment
        seen.since = now  # at most one action per stall period
        seen.rereads += 1
        return Stall.REREAD if seen.rereads == 1 else Stall.HOLE

    def forget(self, tp: Hashable) -> None:
        self._seen.pop(tp, None)
