"""Helpers for integration tests: waiting, counting what was indexed and dead-lettered."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.ops.kafka_admin import topic_end_offsets
from streams.worker.process import WorkerProcess
from streams.schema import DeadLetter
from streams.settings import Settings
from streams.sinks.elasticsearch import sync_client


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess | None = None, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and not worker.alive():
            pytest.fail(f"worker died (exit {worker.exit_code()}) while waiting for {what}:\n{worker.log_tail()}")
        time.sleep(interval)
    detail = f"\nworker log:\n{worker.log_tail()}" if worker is not None else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def start_or_fail(what: str, start: Callable[[], object]) -> None:
    """Start a service the tests need; if it cannot start, fail (never skip) with the launcher's reason."""
    from streams.ops.services import ServiceError

    problem = None
    try:
        start()
    except ServiceError as exc:
        problem = str(exc)
    if problem is not None:  # outside the except block: one clear message, no chained traceback
        pytest.fail(f"{what} could not start:\n{problem}", pytrace=False)


def indexed_count(settings: Settings, query: dict | None = None) -> int:
    """Mentions in the index (matching ``query``, an Elasticsearch query, when given)."""
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        return client.count(index=settings.es_index_prefix, query=query)["count"]
    finally:
        client.close()


def indexed_docs(settings: Settings) -> dict[str, dict]:
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        response = client.search(index=settings.es_index_prefix, size=10_000, query={"match_all": {}})
        return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}
    finally:
        client.close()


def alert_docs(settings: Settings) -> list[dict]:
    """The alert documents in the alerts index (empty before the first alert created it)."""
    client = sync_client(settings)
    try:
        if not client.indices.exists(index=settings.es_alerts_index):
            return []
        client.indices.refresh(index=settings.es_alerts_index)
        return [h["_source"] for h in client.search(index=settings.es_alerts_index, size=1000)["hits"]["hits"]]
    finally:
        client.close()


def drained(settings: Settings, topic: str) -> bool:
    """Whether the worker's consumer group has committed every record of ``topic`` (a later stage has
    caught up: e.g. the alert stage behind the influence stage)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="lytter-test-lag")
    try:
        committed = admin.list_consumer_group_offsets(settings.app_id)
    finally:
        admin.close()
    done = sum(meta.offset for tp, meta in committed.items() if tp.topic == topic and meta.offset >= 0)
    return done >= topic_end_offsets(settings, topic) > 0


def opened_on_webhook(hook, settings: Settings) -> bool:
    """Whether the webhook has heard an "open" for every alert in the alerts index (delivery follows
    indexing, so the index is ahead of the webhook for a moment)."""
    docs = {doc["alert_id"] for doc in alert_docs(settings)}
    heard = {alert["alert_id"] for _, alert in hook.alerts() if alert["status"] == "open"}
    return bool(docs) and docs <= heard


def topic_count(settings: Settings, topic: str) -> int:
    return topic_end_offsets(settings, topic)


def dead_letters(settings: Settings) -> list[DeadLetter]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        partitions = consumer.partitions_for_topic(settings.topic_deadletter) or set()
        tps = [TopicPartition(settings.topic_deadletter, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return [DeadLetter.model_validate_json(record.value) for record in consumer]
    finally:
        consumer.close()


class Publisher(threading.Thread):
    """Publishes mentions at a steady rate from a thread (the ingest side), so that faults can be injected
    while it runs. ``sent`` counts what was handed to the producer; ``report`` is the producer's report."""

    def __init__(self, settings: Settings, mentions, rate: float) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.mentions = mentions
        self.rate = rate
        self.sent = 0
        self.report = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from streams.sources.producer import MentionProducer

        try:
            start = time.monotonic()
            with MentionProducer(self.settings) as producer:
                for i, mention in enumerate(self.mentions):
                    delay = start + i / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    producer.send_mention(mention)
                    self.sent = i + 1
            self.report = producer.report
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
