"""The worker's Faust transport: records Faust skipped are never acknowledged."""

from types import SimpleNamespace

from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.kafka_transport import SCHEME, Consumer


def _consumer(generation: int, flowing: bool) -> Consumer:
    consumer = Consumer.__new__(Consumer)  # only ``app`` is used by ``ack``'s guard
    consumer.app = SimpleNamespace(consumer_generation_id=generation, flow_control=SimpleNamespace(is_active=lambda: flowing))
    return consumer


def test_only_records_of_the_current_generation_while_flowing_are_acknowledged(monkeypatch):
    acked = []
    monkeypatch.setattr(faust_aiokafka.Consumer, "ack", lambda self, message: acked.append(message.offset) or True)
    stale = SimpleNamespace(generation_id=1, offset=10)
    current = SimpleNamespace(generation_id=2, offset=11)
    assert _consumer(2, flowing=True).ack(stale) is False
    assert _consumer(2, flowing=False).ack(current) is False  # skipped while a rebalance pauses the flow
    assert _consumer(2, flowing=True).ack(current) is True
    assert acked == [11]


def test_the_scheme_is_registered_with_faust():
    from faust.transport import by_url

    from streams.kafka_transport import Transport

    assert by_url(f"{SCHEME}://127.0.0.1:9092") is Transport
