"""Stalled-partition detection for the worker's source topics.

Our crash-loop test found a faust-streaming race: after a rebalance a worker can skip a record it fetched
around the seek to the committed offsets. The record is never acknowledged, so the committed offset stays
behind it (nothing is lost in Kafka: the next restart re-reads it), but the running worker never comes
back for it, and everything after it in that partition waits uncommitted. The worker checks every few
seconds; a partition whose committed offset has not moved for ``stall_s`` while records wait beyond it,
and whose agent is idle, is sought back to its committed offset. The records re-read are indexed again
under the same ids (idempotent) and fill the gap, so the commit moves on.
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
        """True when ``tp`` should be sought back to ``committed`` (see the module docstring)."""
        seen = self._seen.get(tp)
        if seen is None or seen.committed != committed:
            self._seen[tp] = _Seen(committed, now)
            return False
        if busy or committed is None or end is None or end <= committed:
            seen.since = now  # working, or nothing waiting: not a stall
            return False
        if now - seen.since >= self.stall_s:
            seen.since = now  # at most one seek per stall period
            return True
        return False

    def forget(self, tp: Hashable) -> None:
        self._seen.pop(tp, None)
