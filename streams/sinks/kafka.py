"""Kafka sinks of the worker: each sends a batch through Faust's producer and returns once Kafka
acknowledged every record of it, so the caller may acknowledge its own input after that.

All three share :class:`KeyedTopicSink` (a batch of ``(key, value)`` pairs, all sent before any is
awaited); the others only say what key and bytes a record gets.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, Sequence

from models.influence import author_key
from streams.schema import DeadLetter, EnrichedMention

__all__ = ["KafkaDeadLetters", "KafkaEnriched", "KeyedSink", "KeyedTopicSink", "dead_letter_key"]


class KeyedSink(Protocol):
    """Anything that takes a batch of keyed records and returns when all are durable."""

    async def send(self, records: Sequence[tuple[bytes | None, bytes]]) -> None: ...


class KeyedTopicSink:
    """A Faust topic as a :class:`KeyedSink`."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def send(self, records: Sequence[tuple[bytes | None, bytes]]) -> None:
        # every send is queued before the first ack is awaited: one round trip per batch, not per record
        futures = [await self.topic.send(key=key, value=value) for key, value in records]
        await asyncio.gather(*futures)


class KafkaDeadLetters:
    """Dead letters to the dead-letter topic, keyed by the coordinates of the raw record they stand for
    (``DeadLetter.source_key``), not by its own key (which the letter's body keeps): a letter written
    again after a crash has the same key, so readers count distinct ones (``lytter status``)."""

    def __init__(self, topic: Any) -> None:
        self.sink = KeyedTopicSink(topic)

    async def send(self, letters: Sequence[tuple[bytes | None, DeadLetter]]) -> None:
        await self.sink.send([(dead_letter_key(letter, key), letter.to_json_bytes()) for key, letter in letters])


def dead_letter_key(letter: DeadLetter, record_key: bytes | None = None) -> bytes | None:
    """The Kafka key of a dead letter: its source coordinates, else the key of the record it replaces."""
    key = letter.source_key()
    return key.encode("utf-8") if key is not None else record_key


class KafkaEnriched:
    """Enriched mentions for the influence stage, keyed by author so that each author's state lives in
    one partition (anonymous mentions: by mention id). The whole mention travels, ``raw`` included: the
    influence stage writes the complete document."""

    def __init__(self, topic: Any) -> None:
        self.sink = KeyedTopicSink(topic)

    async def send(self, enriched: Sequence[EnrichedMention]) -> None:
        await self.sink.send(
            [((author_key(e.mention) or e.mention.id).encode("utf-8"), e.model_dump_json().encode("utf-8")) for e in enriched]
        )
