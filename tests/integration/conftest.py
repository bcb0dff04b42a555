"""Integration fixtures: isolated names on the real Kafka and Elasticsearch started by ``services``."""

from __future__ import annotations

import socket
import uuid

import pytest

from streams.ops.kafka_admin import ensure_topics
from streams.worker.process import WorkerProcess
from streams.settings import Settings
from streams.sinks.elasticsearch import setup_indices, sync_client

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lytter(services, tmp_path) -> Settings:
    """Settings for one test: its own topics, index alias, consumer group and worker state."""
    suffix = uuid.uuid4().hex[:10]
    settings = services.settings.model_copy(
        update=dict(
            topic_raw=f"it-{suffix}.raw",
            topic_deadletter=f"it-{suffix}.deadletter",
            topic_enriched=f"it-{suffix}.enriched",
            topic_by_brand=f"it-{suffix}.by-brand",
            topic_alerts=f"it-{suffix}.alerts",
            topic_deletions=f"it-{suffix}.deletions",
            topic_partitions=3,
            es_index_prefix=f"it-{suffix}-mentions",
            es_alerts_index=f"it-{suffix}-alerts",
            app_id=f"lytter-it-{suffix}",
            worker_web_port=free_port(),
            worker_data_dir=tmp_path / "worker",
            sentiment_enabled=False,
            worker_batch_seconds=0.2,
        )
    )
    ensure_topics(settings)
    setup_indices(settings)
    yield settings
    client = sync_client(settings)
    try:
        client.indices.delete(index=f"{settings.es_index_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        client.options(ignore_status=404).indices.delete_index_template(name=f"{settings.es_index_prefix}-template")
    finally:
        client.close()


@pytest.fixture
def worker_factory(lytter, tmp_path):
    """Start worker processes for the test; all are stopped at the end (their logs shown on failure)."""
    started: list[WorkerProcess] = []

    def start(settings: Settings | None = None, **env) -> WorkerProcess:
        worker = WorkerProcess(settings or lytter, tmp_path / f"worker-{len(started)}.log", extra_env=env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
