"""The worker's Faust transport, on a real (unstarted) Faust consumer: stale records are not acknowledged,
a rebalance's ``wait_empty`` is never left waiting for a record (CI hung there once), the consumer reads
``read_committed``, and offsets a fetch found without a record (transaction markers, aborted records)
are committed over."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams.worker.transport import SCHEME, Consumer, Transport, holes_in_read

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


# --- transactions on the source topics: isolation level and offsets that hold no record ---------------


async def _isolation_level(app) -> str:
    consumer = app.consumer._thread._create_worker_consumer(app.transport)  # what the thread starts
    try:
        return consumer._isolation_level  # aiokafka's fetcher takes it from here when the consumer starts
    finally:
        await consumer.stop()


async def test_the_worker_reads_committed_unless_the_setting_is_off(app):
    assert not hasattr(app, "lytter_read_committed")  # until the app sets it: the setting's default
    assert await _isolation_level(app) == "read_committed"
    app.lytter_read_committed = True
    assert await _isolation_level(app) == "read_committed"
    app.lytter_read_committed = False
    assert await _isolation_level(app) == "read_uncommitted"  # Faust's own choice


def test_aiokafka_still_takes_the_isolation_level_from_where_the_transport_sets_it():
    import inspect

    from aiokafka import AIOKafkaConsumer

    assert "isolation_level=self._isolation_level" in inspect.getsource(AIOKafkaConsumer.start)


@pytest.mark.parametrize(
    "start, end, offsets, holes",
    [
        (10, 13, [10, 11, 12], []),
        (10, 14, [10, 11, 12], [(13, 14)]),  # the marker after a committed transaction
        (10, 20, [10, 16, 17], [(11, 16), (18, 20)]),  # aborted records and their marker, then a marker
        (10, 12, [], [(10, 12)]),  # a read of nothing but markers
        (10, 14, [9, 10], None),  # not a read from 10
        (10, 11, [10, 11], None),
    ],
)
def test_holes_in_a_read_are_the_offsets_no_record_came_from(start, end, offsets, holes):
    assert holes_in_read(start, end, offsets) == holes


class _Fetcher:
    """What Faust's ``_fetch_records`` uses of aiokafka's fetcher; a fetch moves the partition's position."""

    def __init__(self, subscriptions, state) -> None:
        self._subscriptions, self._closed, self.state, self.next = subscriptions, False, state, None

    async def fetched_records(self, partitions, timeout=0, max_records=None):
        offsets, end, during = self.next
        if during is not None:
            during()
        self.state.consumed_to(end)
        return {RAW: [SimpleNamespace(offset=o) for o in offsets]} if offsets else {}


@pytest.fixture
async def fetching(app):
    from aiokafka.consumer.subscription_state import SubscriptionState
    from aiokafka.structs import TopicPartition

    subscriptions = SubscriptionState()
    subscriptions.assign_from_user({TopicPartition(RAW.topic, RAW.partition)})
    state = subscriptions.subscription.assignment.state_value(TopicPartition(RAW.topic, RAW.partition))
    fetcher = _Fetcher(subscriptions, state)
    aiokafka_consumer = SimpleNamespace(_fetcher=fetcher, _subscription=subscriptions, _closed=False, seek=lambda tp, offset: state.seek(offset))
    thread = app.consumer._thread
    thread._consumer = aiokafka_consumer

    async def fetch(position: int, offsets: list[int], end: int, during=None) -> None:
        if not state.has_valid_position or state.position != position:
            state.seek(position)
        fetcher.next = (offsets, end, during)
        await thread._fetch_records(aiokafka_consumer, {RAW}, timeout=0)

    return fetch


async def test_the_commit_moves_over_the_marker_that_ends_a_transaction(app, fetching):
    await fetching(243, [243, 244], end=246)  # the commit marker at 245 (fetched: the position is past it)
    assert _commit_point(app, 243, [243, 244]) == 246


async def test_the_commit_moves_past_markers_at_the_end_of_the_log_with_nothing_to_acknowledge(app, fetching):
    app.consumer._committed_offset[RAW] = 243
    app.consumer._start_offsets = {RAW: 243}
    await fetching(243, [], end=247)  # an aborted transaction: two records and its marker, then a marker
    assert app.consumer._new_offset(RAW) == 247


async def test_aborted_records_between_committed_ones_are_committed_over(app, fetching):
    await fetching(100, [100, 101, 105, 106], end=108)  # 102-103 aborted, 104 and 107 markers
    assert _commit_point(app, 100, [100, 101, 105, 106]) == 108


async def test_but_not_past_a_record_not_yet_acknowledged(app, fetching):
    await fetching(100, [100, 101, 105, 106], end=108)
    assert _commit_point(app, 100, [100, 105, 106]) == 101  # 101 is a record: the commit waits for it


async def test_a_fetch_that_overlaps_a_seek_tells_nothing_about_the_log(app, fetching):
    seek = lambda: app.consumer._thread.seek(RAW, 250)  # noqa: E731 - e.g. the stall check's re-read
    await fetching(243, [250, 251], end=252, during=seek)
    assert _commit_point(app, 243, [250, 251]) is None  # 243-249 may be records never delivered


async def test_a_fetch_of_a_partition_reassigned_meanwhile_tells_nothing(app, fetching):
    def rebalance() -> None:
        thread = app.consumer._thread
        thread._consumer._subscription.assign_from_user({TopicPartition(RAW.topic, RAW.partition)})
        thread._consumer._fetcher.state = thread._consumer._subscription.subscription.assignment.state_value(TopicPartition(RAW.topic, RAW.partition))
        thread._consumer._fetcher.state.seek(250)

    from aiokafka.structs import TopicPartition

    await fetching(243, [250], end=251, during=rebalance)
    assert _commit_point(app, 243, [250]) is None


async def test_holes_of_topics_without_acknowledgements_are_not_kept(app):
    app.consumer.note_holes(TP("some-changelog", 0), [(0, 5)])
    assert not app.consumer._found_holes


async def test_a_partition_with_nothing_but_markers_is_committed_too(app, fetching):
    app.consumer._start_offsets = {RAW: 0}  # a new partition: its first transaction was aborted
    await fetching(0, [], end=3)
    assert app.consumer._filter_committable_offsets(app.consumer._filter_tps_with_pending_acks()) == {RAW: 3}
