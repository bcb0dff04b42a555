"""The one loop every worker agent runs: take a batch without acknowledging it, hand it to a stage,
acknowledge it only when the stage returned (its sinks have acknowledged the work).

Faust commits offsets up to the highest contiguous acknowledged record, so a worker killed mid-batch
re-reads the batch on restart (at-least-once); the stages make replays harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Sequence

from streams.processing.pipeline import RawRecord

__all__ = ["BusyTopics", "BytesKeyedView", "consume", "records_of"]


def records_of(events: Sequence[Any]) -> list[RawRecord]:
    return [
        RawRecord(
            key=e.message.key,
            value=e.message.value,
            topic=e.message.topic,
            partition=e.message.partition,
            offset=e.message.offset,
            timestamp=e.message.timestamp,
        )
        for e in events
    ]


class BusyTopics(dict):
    """Source topic -> its agent has a batch in hand (the stall check leaves those partitions alone)."""

    def __init__(self, topics: Sequence[str]) -> None:
        super().__init__({t: False for t in topics})


async def consume(
    stream: Any,
    process: Callable[[list[RawRecord]], Awaitable[Any]],
    *,
    topic: str,
    busy: MutableMapping[str, bool],
    batch_size: int,
    within: float,
    after: Callable[[Any, list[RawRecord]], None] = lambda result, records: None,
) -> None:
    async for events in stream.noack_take(batch_size, within=within):
        busy[topic] = True
        records = records_of(events)
        result = await process(records)
        for event in events:
            await stream.ack(event)
        after(result, records)
        busy[topic] = False


class BytesKeyedView(MutableMapping):
    """A str-keyed view of a Faust table whose keys are raw bytes (see the worker's table options).

    A key holding None counts as absent: Faust tables default to None, and a deleted key is a tombstone."""

    def __init__(self, table) -> None:
        self.table = table

    def get(self, key: str, default=None):
        value = self.table.get(key.encode("utf-8"))
        return default if value is None else value

    def __getitem__(self, key: str):
        value = self.table.get(key.encode("utf-8"))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value) -> None:
        self.table[key.encode("utf-8")] = value

    def __delitem__(self, key: str) -> None:
        raw = key.encode("utf-8")
        if self.table.get(raw) is None:
            raise KeyError(key)
        del self.table[raw]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.table.get(key.encode("utf-8")) is not None

    def __iter__(self):
        for key, _ in self.items():
            yield key

    def __len__(self) -> int:
        return sum(1 for _ in self.items())

    def items(self):
        for key, value in list(self.table.items()):
            if value is not None:
                yield (key.decode("utf-8") if isinstance(key, bytes) else key), value


async def consume_in_flight(stream: Any, stage: Any, in_flight: Any, *, topic: str, busy: MutableMapping[str, bool], batch_size: int, within: float) -> None:
    """``consume`` with up to ``in_flight.limit`` batches at once (the enrich stage): each batch is
    acknowledged, in order, when its own processing finished; a stop cancels the rest unacknowledged."""
    try:
        async for events in stream.noack_take(batch_size, within=within):
            records = records_of(events)

            async def finish(outcome, events=events, records=records) -> None:
                for event in events:
                    await stream.ack(event)
                stage.account(outcome, records)

            busy[topic] = True
            await in_flight.start(lambda records=records: stage.process(records), finish)
    finally:
        in_flight.cancel()  # stopping (shutdown, rebalance): unacknowledged records are read again
