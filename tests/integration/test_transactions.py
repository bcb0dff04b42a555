"""Transactions another producer writes to the raw topic: the worker reads ``read_committed`` (setting
``worker_read_committed``), so records of an aborted transaction are never indexed, and its commit moves
over the offsets that hold no record for it (transaction markers, aborted records) as soon as it has read
past them, not only when the stall check comes (streams/worker/transport.py)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from streams.settings import Settings
from streams.sources.replay.generate import generate_mentions
from tests.integration.helpers import indexed_count, topic_count, wait_for

pytestmark = pytest.mark.integration


class TransactionalWriter:
    """An aiokafka producer with a ``transactional_id``, outside the worker, driven step by step from a
    synchronous test (its own event loop; nothing runs in the background between steps)."""

    def __init__(self, settings: Settings) -> None:
        from aiokafka import AIOKafkaProducer

        self.topic = settings.topic_raw
        self.loop = asyncio.new_event_loop()

        async def create():
            return AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, transactional_id=f"it-txn-{uuid.uuid4().hex[:8]}", enable_idempotence=True)

        self.producer = self.loop.run_until_complete(create())
        self.loop.run_until_complete(self.producer.start())

    def begin(self, mentions) -> None:
        """Begin a transaction and write ``mentions`` in it (flushed to the broker, not committed yet)."""

        async def write():
            await self.producer.begin_transaction()
            for mention in mentions:
                await self.producer.send(self.topic, key=mention.id.encode(), value=mention.to_json_bytes())
            await self.producer.flush()

        self.loop.run_until_complete(write())

    def commit(self) -> None:
        self.loop.run_until_complete(self.producer.commit_transaction())

    def abort(self) -> None:
        self.loop.run_until_complete(self.producer.abort_transaction())

    def close(self) -> None:
        self.loop.run_until_complete(self.producer.stop())
        self.loop.close()


@pytest.fixture
def writer(lytter):
    writer = TransactionalWriter(lytter)
    yield writer
    writer.close()


def commit_at_end(settings: Settings) -> bool:
    """Whether the worker's committed offset of every raw partition is the end of its log (markers included)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="lytter-test-txn")
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        committed = admin.list_consumer_group_offsets(settings.app_id)
        tps = [TopicPartition(settings.topic_raw, p) for p in sorted(consumer.partitions_for_topic(settings.topic_raw) or ())]
        ends = consumer.end_offsets(tps)
    finally:
        admin.close()
        consumer.close()
    return bool(tps) and all(tp in committed and committed[tp].offset == ends[tp] for tp in tps)


def indexed_ids(settings: Settings, ids: list[str]) -> int:
    return indexed_count(settings, {"ids": {"values": ids}})


def stalled_total(settings: Settings) -> float:
    text = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/metrics", timeout=5).text
    return sum(float(v) for v in re.findall(r"^lytter_worker_stalled_partitions_total(?:\{[^}]*\})? ([0-9.e+-]+)$", text, re.M))


def _mentions(count: int, seed: int, source: str) -> list:
    return list(generate_mentions(count, seed=seed, source=source))


def _time_to_commit_at_end(settings: Settings, worker, timeout: float) -> float:
    start = time.monotonic()
    wait_for(lambda: commit_at_end(settings), timeout, "the worker's commit at the end of the raw topic", worker, interval=0.25)
    return time.monotonic() - start


def test_only_committed_transactions_are_indexed_and_the_commit_moves_past_the_markers(lytter, worker_factory, writer):
    first, aborted, last = _mentions(40, 31, "txn-first"), _mentions(30, 32, "txn-aborted"), _mentions(40, 33, "txn-last")
    worker = worker_factory()
    writer.begin(first)
    writer.commit()
    wait_for(lambda: indexed_count(lytter) >= len(first), 120, "the first committed transaction indexed", worker)
    writer.begin(aborted)
    writer.abort()
    writer.begin(last)
    writer.commit()  # the last publish
    moved = _time_to_commit_at_end(lytter, worker, timeout=2 * lytter.worker_stall_seconds)
    print(f"\ncommit reached the end of the raw log (markers included) {moved:.2f}s after the last publish")
    assert moved < lytter.worker_stall_seconds, "the commit waited for the stall check"
    wait_for(lambda: indexed_count(lytter) >= len(first) + len(last), 30, "the last committed transaction indexed", worker)
    time.sleep(2)  # nothing more may arrive
    assert indexed_count(lytter) == len(first) + len(last)
    assert indexed_ids(lytter, [m.id for m in aborted]) == 0
    assert indexed_ids(lytter, [m.id for m in first + last]) == len(first) + len(last)
    assert topic_count(lytter, lytter.topic_deadletter) == 0


def test_an_open_transaction_trips_the_stall_check_and_its_abort_leaves_the_commit_at_the_end(lytter, worker_factory, writer):
    # The stall check re-reads a partition whose commit has not moved while the log goes on beyond it: an
    # open transaction is such a log (records beyond the last stable offset, which a read_committed
    # consumer does not get until the transaction ends). The re-read must do no harm, and once the
    # transaction is aborted (the log then ends with aborted records and a marker) the commit must reach
    # the end by itself.
    stall_s = 3.0
    committed, aborted = _mentions(40, 41, "txn-committed"), _mentions(30, 42, "txn-open")
    worker = worker_factory(LYTTER_WORKER_STALL_SECONDS=str(stall_s))
    writer.begin(committed)
    writer.commit()
    wait_for(lambda: indexed_count(lytter) >= len(committed), 120, "the committed transaction indexed", worker)
    wait_for(lambda: commit_at_end(lytter), 30, "the commit at the end after the committed transaction", worker)
    before = stalled_total(lytter)
    writer.begin(aborted)  # and left open
    wait_for(lambda: stalled_total(lytter) > before, 30, "the stall check to re-read a partition behind the open transaction", worker)
    assert indexed_ids(lytter, [m.id for m in aborted]) == 0
    writer.abort()  # the last publish
    moved = _time_to_commit_at_end(lytter, worker, timeout=60)
    print(f"\nstalled partitions re-read: {stalled_total(lytter) - before:.0f}; commit at the end {moved:.2f}s after the abort")
    time.sleep(2)
    assert indexed_count(lytter) == len(committed)
    assert indexed_ids(lytter, [m.id for m in aborted]) == 0
    assert topic_count(lytter, lytter.topic_deadletter) == 0
