"""When the documents of a benchmark run became visible in Elasticsearch: the end time and the latency.

The worker stamps ``indexed_at`` when it builds a document, before its bulk request is sent, let alone
acknowledged and refreshed; a time taken from it ends the run early. Here the end of a run and each
document's arrival are what Elasticsearch itself answers:

* the run ends at the time of the count poll that first saw every document;
* a document arrived at the time of the first poll whose ``ids`` search found it, and its latency is
  that time minus the publisher's send time of its record (the Kafka record timestamp is taken in the
  same ``send()`` call). The polls are ``interval`` apart: a latency is late by at most one interval.

The search covers a sample of the ids (evenly spaced over the publish order, all of them for small
runs), so each poll stays one small request. No poll forces a refresh: that would cost Elasticsearch
CPU the real pipeline does not spend (the index refreshes every second on its own).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

#: Most ids followed per run: one ``ids`` search of this many values per poll is cheap.
SAMPLE = 2000


def sample_ids(ids: Sequence[str], limit: int = SAMPLE) -> list[str]:
    """At most ``limit`` of ``ids``, evenly spaced over the sequence (first and last included)."""
    if limit <= 0 or not ids:
        return []
    if len(ids) <= limit:
        return list(ids)
    if limit == 1:
        return [ids[0]]
    step = (len(ids) - 1) / (limit - 1)
    return [ids[round(i * step)] for i in range(limit)]


@dataclass
class Visibility:
    """Polls an index (alias) for its document count and for the followed ids not seen yet."""

    client: Any  # elasticsearch.Elasticsearch (or a stand-in with count() and search())
    index: str
    followed: Sequence[str]
    clock: Callable[[], float] = time.time
    seen: dict[str, float] = field(default_factory=dict)  # id -> time of the poll that first found it
    count: int = 0
    polls: int = 0

    def poll(self) -> float:
        """One poll: the count, then the ids still unseen. Returns the poll's time (after the answers)."""
        self.count = int(self.client.count(index=self.index)["count"])
        unseen = [i for i in self.followed if i not in self.seen]
        found: list[str] = []
        if unseen:
            response = self.client.search(
                index=self.index, query={"ids": {"values": unseen}}, size=len(unseen), source=False, track_total_hits=False
            )
            found = [hit["_id"] for hit in response["hits"]["hits"]]
        now = self.clock()
        for doc_id in found:
            self.seen.setdefault(doc_id, now)
        self.polls += 1
        return now

    def latencies_ms(self, sent: Mapping[str, float]) -> list[float]:
        """Send -> first seen, in milliseconds, for the followed documents that were seen."""
        return [(at - sent[i]) * 1000 for i, at in self.seen.items() if i in sent]


def wait_all(
    tracker: Visibility, expected: int, timeout: float, interval: float = 0.25,
    alive: Callable[[], bool] = lambda: True, sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> float | None:
    """Poll until the count reaches ``expected``; the time of that poll, or ``None`` (a miss) when
    ``timeout`` seconds pass or ``alive()`` turns false first (``tracker.count`` says how many arrived).
    A process that exits may have indexed everything before it did: one last poll decides."""
    deadline = clock() + timeout
    while True:
        at = tracker.poll()
        if tracker.count >= expected:
            return at
        if clock() > deadline or not alive():
            at = tracker.poll()
            return at if tracker.count >= expected else None
        sleep(interval)
