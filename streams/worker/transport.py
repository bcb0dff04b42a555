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

The worker's broker URLs use the scheme ``lytter-kafka://``, registered here.
"""

from __future__ import annotations

from typing import Mapping

from faust.transport.consumer import ensure_TP
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

SCHEME = "lytter-kafka"


class Consumer(faust_aiokafka.Consumer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # committed offsets read at the last seek, 0 included: Faust's own record of them turns 0 into None
        self._start_offsets: dict[TP, int] = {}

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
        acked = self._acked[tp]
        committed = self.committed_offset(tp)
        if acked and committed is not None and committed < min(acked) and not self._gap[tp].at(committed):
            return None  # the record at the committed offset is not done yet: commit nothing past it
        return super()._new_offset(tp)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # Faust infers holes in the log from jumps between fetched offsets and commits over them. Around
        # a seek or a rebalance that jump is records not delivered yet, not a hole: a crash-loop run lost
        # 7 consecutive mentions with every offset committed. Holes are found by the stall check instead,
        # which reads the log (streams/worker/stall.py, skip_hole).
        return None

    def skip_hole(self, tp: TP, start: int, end: int) -> None:
        """Let commits move over offsets ``start`` to ``end - 1``: the log holds no record there."""
        self._gap[tp].addi(start, end)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
