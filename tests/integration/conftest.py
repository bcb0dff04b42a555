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
            # model off for speed; the fault tests use ``lytter_production`` (below)
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


#: What production runs and ``lytter_production`` restores: the defaults of these settings (the model on,
#: in its default precision, with the default batch size, batch wait and batches in flight).
PRODUCTION_DEFAULTS = (
    "sentiment_enabled", "model_precision", "model_threads", "model_lanes", "model_max_length",
    "worker_batch_size", "worker_batch_seconds", "worker_batches_in_flight",
)


@pytest.fixture
def lytter_production(lytter) -> Settings:
    """``lytter`` in the production configuration: the sentiment model on, scored in the worker's
    executor thread with the default batches in flight. Fails (never skips) when the model is not built."""
    from streams.worker.enrich import sentiment_model_problem

    settings = lytter.model_copy(update={name: Settings.model_fields[name].get_default(call_default_factory=True) for name in PRODUCTION_DEFAULTS})
    problem = sentiment_model_problem(settings)
    if problem:
        pytest.fail(f"this test runs the production configuration, the sentiment model on, and cannot run without it: {problem}", pytrace=False)
    return settings


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
