"""Faust's aiokafka transport with two changes that keep a commit from moving past a record no agent processed.

1. Records of an earlier consumer generation are not acknowledged. A ``noack_take`` buffer can still hold
   records fetched before a rebalance when the agent acknowledges them, while the records before them were
   cleared from the agents' queues by the rebalance (the broker-fault test lost ~200 of 6,000 mentions
   that way). Unacknowledged, they are fetched again after the seek to the committed offsets and processed
   (at-least-once; the sinks are idempotent); a refused record also leaves Faust's set of records in
   flight, so no ``wait_empty`` waits for it. Acknowledgements made while a rebalance pauses the flow are
   *kept*: that is ``wait_empty`` waiting for the records in flight before it commits (refusing them hung
   the rebalance in CI).
2. A commit waits until the record at the committed offset is acknowledged. Faust commits the first run
   of consecutive acknowledged offsets, and its check that the run starts at the committed offset is off
   by one (``min(acked) - committed > 1``) and skipped for a committed offset of 0 (which it stores as
   None): a single record skipped around a rebalance was committed past and lost (a crash-loop run
   indexed 19,999 of 20,000 with every offset committed). Faust's inference of holes in the log from
   jumps between fetched offsets is off too (``_add_gap``). If the record never comes, the worker's stall
   check re-reads the partition, or moves past the offset if the log has no record there
   (streams/worker/stall.py).
3. Offsets that hold no record for the worker are committed over as soon as a fetch moves past them.
   Transaction markers, and with isolation level ``read_committed`` the records of aborted transactions,
   are never delivered, so no agent acknowledges them: a commit stopped before them until the stall
   check came (``stall_seconds``, 30 s), and never moved past markers at the end of the log. The
   consumer thread compares each fetch's records with the fetch position before and after it; the
   offsets in between that no record came from are holes in the log. A fetch that overlapped a seek or
   a rebalance tells nothing and is ignored (the stall check stays the fallback).
4. Isolation level ``read_committed`` when the app's attribute ``lytter_read_committed`` is true (setting
   ``worker_read_committed``; on unless set off). Faust reads ``read_uncommitted`` unless it runs
   transactions itself, so records of a transaction another producer aborted would be indexed.

The worker's broker URLs use the scheme ``lytter-kafka://``, registered here.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Mapping

from faust.transport.consumer import ensure_TP
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

SCHEME = "lytter-kafka"
READ_COMMITTED = "read_committed"


def reads_committed(app) -> bool:
    """Whether the worker's consumer reads with isolation level ``read_committed`` (see the module docstring)."""
    return bool(getattr(app, "lytter_read_committed", True))


def holes_in_read(start: int, end: int, offsets: Iterable[int]) -> list[tuple[int, int]] | None:
    """The offset ranges ``[from, to)`` in ``[start, end)`` that no record came from, when a read from
    position ``start`` to ``end`` returned records at ``offsets``; None if they are not such a read."""
    holes, expected = [], start
    for offset in offsets:
        if offset < expected:
            return None  # not one read forward from ``start``
        if offset > expected:
            holes.append((expected, offset))
        expected = offset + 1
    if end < expected:
        return None
    if end > expected:
        holes.append((expected, end))
    return holes


class Consumer(faust_aiokafka.Consumer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # committed offsets read at the last seek, 0 included: Faust's own record of them turns 0 into None
        self._start_offsets: dict[TP, int] = {}
        # offsets without a record, found by the consumer thread (appended there, taken here: a deque is thread-safe)
        self._found_holes: deque[tuple[TP, list[tuple[int, int]]]] = deque()

    def _new_consumer_thread(self) -> "ConsumerThread":
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def ack(self, message) -> bool:
        if message.generation_id != self.app.consumer_generation_id:
            self._unacked_messages.discard(message)  # it will be read again; nothing waits for this copy
            return False
        return super().ack(message)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        offsets = await super().seek_to_committed()
        self._start_offsets = {ensure_TP(tp): o for tp, o in offsets.items() if o is not None and o >= 0}
        return offsets

    def committed_offset(self, tp: TP) -> int | None:
        """The partition's committed offset (the next record to process), or None when it has none."""
        committed = self._committed_offset[tp]
        return committed if committed is not None else self._start_offsets.get(tp)

    def _new_offset(self, tp: TP) -> int | None:
        self._take_found_holes()
        acked = self._acked[tp]
        committed = self.committed_offset(tp)
        if acked and committed is not None and committed < min(acked) and not self._gap[tp].at(committed):
            return None  # the record at the committed offset is not done yet: commit nothing past it
        if acked:
            offset = super()._new_offset(tp)  # (takes what it commits out of ``acked``)
        elif committed is None or not self._gap[tp].at(committed):
            return None
        else:
            offset = committed  # nothing acknowledged, but the log has no record at the committed offset
        if offset is None or not self._gap[tp].at(offset):
            return offset
        return self._past_holes(tp, offset)  # e.g. the markers after the last record of a transaction

    def _past_holes(self, tp: TP, offset: int) -> int:
        """The first offset at or after ``offset`` that is not in a known hole (the holes below it are done)."""
        gap = self._gap[tp]
        while gap.at(offset):
            offset = max(interval.end for interval in gap.at(offset))
        gap.chop(0, offset)
        return offset

    def note_holes(self, tp: TP, holes: list[tuple[int, int]]) -> None:
        """Called by the consumer thread: ``holes`` of partition ``tp`` hold no record (markers, aborted records)."""
        if holes and self.app.topics.acks_enabled_for(tp.topic):
            self._found_holes.append((ensure_TP(tp), holes))

    def _filter_tps_with_pending_acks(self, topics=None):
        self._take_found_holes()  # before the commit picks its partitions: holes alone can move a commit
        return super()._filter_tps_with_pending_acks(topics)

    def _take_found_holes(self) -> None:
        while self._found_holes:
            tp, holes = self._found_holes.popleft()
            self._acked.setdefault(tp, [])  # Faust commits only the partitions in ``_acked``: one with nothing but markers too
            committed = self.committed_offset(tp)
            for start, end in holes:
                start = max(start, committed) if committed is not None else start
                if start < end:
                    self._gap[tp].addi(start, end)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # Faust infers holes in the log from jumps between fetched offsets and commits over them. Around
        # a seek or a rebalance that jump is records not delivered yet, not a hole: a crash-loop run lost
        # 7 consecutive mentions with every offset committed. Holes are found by the stall check instead,
        # which reads the log (streams/worker/stall.py, skip_hole).
        return None

    def skip_hole(self, tp: TP, start: int, end: int) -> None:
        """Let commits move over offsets ``start`` to ``end - 1``: the log holds no record there."""
        self._gap[tp].addi(start, end)


def _positions(consumer) -> dict:
    """{partition: (its state, its fetch position)} of the partitions assigned with a known position."""
    assignment = consumer._subscription.subscription and consumer._subscription.subscription.assignment
    if assignment is None:
        return {}
    states = ((tp, assignment.state_value(tp)) for tp in assignment.tps)
    return {tp: (state, state.position) for tp, state in states if state is not None and state.has_valid_position}


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Isolation level and holes in the log (points 3 and 4 of the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._seeks = 0  # counted before each seek: a fetch that overlaps one says nothing about the log

    def _create_worker_consumer(self, transport):
        consumer = super()._create_worker_consumer(transport)
        if reads_committed(self.app) and consumer._isolation_level != READ_COMMITTED:
            # Faust passes read_committed only when it runs transactions itself; the consumer's fetcher,
            # created when it starts, takes the level from here
            consumer._isolation_level = READ_COMMITTED
        return consumer

    async def _fetch_records(self, consumer, active_partitions, timeout=None, max_records=None):
        seeks, before = self._seeks, _positions(consumer)
        records = await super()._fetch_records(consumer, active_partitions, timeout=timeout, max_records=max_records)
        after = _positions(consumer)
        if self._seeks != seeks:
            return records
        for tp, (state, start) in before.items():
            state_now, end = after.get(tp, (None, start))
            if state_now is state and end > start:
                holes = holes_in_read(start, end, (record.offset for record in records.get(tp, ())))
                if holes:
                    self.consumer.note_holes(tp, holes)
        return records

    def seek(self, partition: TP, offset: int) -> None:
        self._seeks += 1
        super().seek(partition, offset)

    async def _seek_wait(self, consumer, partitions: Mapping[TP, int]) -> None:
        self._seeks += 1
        await super()._seek_wait(consumer, partitions)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        self._seeks += 1
        return await super().seek_to_committed()

    async def seek_to_beginning(self, *partitions) -> None:
        self._seeks += 1
        await super().seek_to_beginning(*partitions)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
