"""The agents' loop: a batch is acknowledged only after its stage returned."""

from types import SimpleNamespace

import pytest

from streams.worker.consume import BusyTopics, consume


class Stream:
    def __init__(self, batches):
        self.batches, self.acked = batches, []

    async def noack_take(self, n, within):
        for batch in self.batches:
            yield [SimpleNamespace(message=SimpleNamespace(key=b"k", value=v, topic="t", partition=0, offset=i, timestamp=None)) for i, v in enumerate(batch)]

    async def ack(self, event):
        self.acked.append(event.message.value)


async def test_batches_are_acknowledged_after_the_stage_returned():
    stream, seen = Stream([[b"a", b"b"], [b"c"]]), []
    busy = BusyTopics(["t"])

    async def process(records):
        seen.append(([r.value for r in records], list(stream.acked), busy["t"]))

    await consume(stream, process, topic="t", busy=busy, batch_size=10, within=0.1)
    assert seen == [([b"a", b"b"], [], True), ([b"c"], [b"a", b"b"], True)]
    assert stream.acked == [b"a", b"b", b"c"] and busy["t"] is False


async def test_a_failing_stage_acknowledges_nothing_of_its_batch():
    stream = Stream([[b"a", b"b"]])

    async def process(records):
        raise RuntimeError("Elasticsearch refused the credentials")

    with pytest.raises(RuntimeError):
        await consume(stream, process, topic="t", busy=BusyTopics(["t"]), batch_size=10, within=0.1)
    assert stream.acked == []
