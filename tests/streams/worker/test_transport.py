"""The worker's Faust transport, on a real (unstarted) Faust consumer: stale records are not acknowledged,
and a rebalance's ``wait_empty`` is never left waiting for a record (CI hung there once)."""

from __future__ import annotations

import asyncio

import faust
import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams.worker.transport import SCHEME, Consumer, Transport

RAW = TP("raw", 0)


@pytest.fixture
async def app():
    app = faust.App("lytter-transport-test", broker=f"{SCHEME}://127.0.0.1:1", store="memory://")
    app.topics.add(app.topic(RAW.topic))
    await app.topics._update_indices()  # acks are tracked only for the topics the app consumes
    consumer = app.consumer
    assert isinstance(consumer, Consumer)

    async def no_broker_commit(*args, **kwargs) -> bool:  # nothing to commit to: this consumer never starts
        return False

    consumer.commit = no_broker_commit
    return app


def _in_flight(app, offset: int, generation: int) -> ConsumerMessage:
    message = ConsumerMessage(RAW.topic, RAW.partition, offset, 0.0, None, None, b"k", b"v", None, tp=RAW, generation_id=generation)
    app.consumer.track_message(message)  # what the stream does when an agent takes the record
    return message


async def test_a_record_of_the_current_generation_is_acknowledged(app):
    message = _in_flight(app, 5, app.consumer_generation_id)
    assert message.ack(app.consumer) is True
    assert list(app.consumer._acked[RAW]) == [5]


async def test_a_record_fetched_before_a_rebalance_is_not_acknowledged(app):
    message = _in_flight(app, 7, app.consumer_generation_id - 1)
    assert message.ack(app.consumer) is False
    assert list(app.consumer._acked[RAW]) == []  # the commit stays behind it: it is read again
    assert message not in app.consumer.unacked  # and nothing waits for this copy of it


async def test_wait_empty_returns_when_records_in_flight_are_acknowledged_while_the_flow_is_paused(app):
    # A rebalance pauses the flow and then waits for the records agents are working on.
    current = _in_flight(app, 8, app.consumer_generation_id)
    stale = _in_flight(app, 3, app.consumer_generation_id - 1)
    app.flow_control.suspend()

    async def agent_finishes_its_batch() -> None:
        await asyncio.sleep(0.1)
        current.ack(app.consumer)
        stale.ack(app.consumer)

    finishing = asyncio.ensure_future(agent_finishes_its_batch())
    # not wait_for: wait_empty swallows cancellation, so a hang would hang the test too
    waiting = asyncio.ensure_future(app.consumer.wait_empty())
    await asyncio.wait({waiting}, timeout=10)
    hung = not waiting.done()
    app.consumer._stopped.set()  # wait_empty's loop ends when its consumer stops
    await asyncio.gather(waiting, finishing)
    assert not hung, "wait_empty still waited for records acknowledged while the flow was paused"
    assert list(app.consumer._acked[RAW]) == [8]


def _commit_point(app, committed: int, acked: list[int]) -> int | None:
    consumer = app.consumer
    consumer._committed_offset[RAW] = committed or None  # Faust stores a committed 0 as None
    consumer._start_offsets = {RAW: committed}  # what the worker's seek to the committed offsets read
    for offset in acked:
        _in_flight(app, offset, app.consumer_generation_id).ack(consumer)
    return consumer._new_offset(RAW)


async def test_a_commit_never_moves_past_an_unacknowledged_record_at_the_committed_offset(app):
    # Faust's own check lets exactly this through (min(acked) - committed > 1 is False for 244 - 243)
    assert _commit_point(app, 243, [244, 245, 246]) is None


async def test_nor_past_an_unacknowledged_first_record(app):
    assert _commit_point(app, 0, [1, 2]) is None  # Faust skips its check for a committed 0


async def test_a_commit_moves_over_the_acknowledged_run_from_the_committed_offset(app):
    assert _commit_point(app, 243, [243, 244, 246]) == 245  # and stops at the next gap


async def test_a_hole_found_in_the_log_lets_the_commit_move_past_it(app):
    assert _commit_point(app, 243, [246, 247]) is None
    app.consumer.skip_hole(RAW, 243, 246)  # e.g. transaction markers at 243-245
    assert app.consumer._new_offset(RAW) == 248


async def test_a_jump_between_fetched_offsets_is_not_taken_for_a_hole(app):
    # Faust's fetch loop calls _add_gap when offsets jump; around a seek those are records not yet read
    await app.consumer._add_gap(RAW, 243, 250)
    assert _commit_point(app, 243, [250, 251]) is None


def test_the_scheme_is_registered_with_faust():
    from faust.transport import by_url

    assert by_url(f"{SCHEME}://127.0.0.1:9092") is Transport
