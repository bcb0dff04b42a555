"""The worker's Kafka sinks, on a stand-in for a Faust topic (the real one: tests/integration)."""

from __future__ import annotations

import asyncio

from streams.schema import DeadLetter
from streams.sinks.kafka import KafkaDeadLetters, dead_letter_key


class RecordingTopic:
    """Records what Faust's ``topic.send`` was given; each send returns an already-acknowledged future."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []

    async def send(self, *, key, value):
        self.sent.append((key, value))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def letter(offset: int | None, **kw) -> DeadLetter:
    coordinates = {} if offset is None else {"topic": "mentions.raw", "partition": 1, "offset": offset}
    return DeadLetter.for_bytes(b"{broken", stage="decode", reason="value is not JSON", key="blog:1", **coordinates, **kw)


def test_dead_letters_are_keyed_by_their_raw_records_coordinates_not_the_record_key():
    topic = RecordingTopic()
    asyncio.run(KafkaDeadLetters(topic).send([(b"blog:1", letter(7)), (b"blog:1", letter(8))]))
    assert [key for key, _ in topic.sent] == [b"mentions.raw/1/7", b"mentions.raw/1/8"]
    # the body keeps the record's own key and its coordinates
    body = DeadLetter.model_validate_json(topic.sent[0][1])
    assert (body.key, body.topic, body.partition, body.offset) == ("blog:1", "mentions.raw", 1, 7)


def test_a_dead_letter_written_twice_has_one_key():
    # what a kill between the dead letters and the batch's acknowledgement leads to: the same letters again
    topic = RecordingTopic()
    sink = KafkaDeadLetters(topic)
    asyncio.run(sink.send([(b"blog:1", letter(7))]))
    asyncio.run(sink.send([(b"blog:1", letter(7))]))
    assert len(topic.sent) == 2 and len({key for key, _ in topic.sent}) == 1


def test_without_coordinates_the_key_is_the_records_own():
    assert dead_letter_key(letter(None), b"blog:1") == b"blog:1"
    bare = DeadLetter.for_bytes(b"", stage="decode", reason="x")
    assert dead_letter_key(bare, b"raw-key") == b"raw-key" and dead_letter_key(bare) is None
