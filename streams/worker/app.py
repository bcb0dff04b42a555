"""The Faust application of `lytter worker`: wiring only. Each stage is a class tested without Kafka.

    mentions.raw --enrich--> mentions.enriched --influence--> Elasticsearch (one write per mention)
                                                          `--> mentions.by-brand --alerts--> alerts --deliver--> ES + channels
    (dead letters of enrich and influence -> mentions.deadletter)
    a wall-clock timer: unanswered alerts (-> alerts), quiet incidents closed, the scheduled digest
    mentions.deletions --deletions--> tombstones in Elasticsearch; enrich honours them on replays

Each agent takes batches without acknowledging them and acknowledges a batch only when its stage
returned (``consume``); state lives in changelog-backed tables keyed by the bytes of their topic's keys.
"""

from __future__ import annotations

import logging
import sys

import faust

from streams.settings import Settings
from streams.sources.base import is_loopback
from streams.worker import metrics
from streams.worker.clock import WallClockJobs
from streams.worker.consume import BusyTopics, consume, consume_in_flight
from streams.worker.inflight import BatchesInFlight
from streams.worker.stages import TABLES, WorkerStages
from streams.worker.stall import StallDetector, reread_stalled_partitions
from streams.worker.web import register_pages

log = logging.getLogger("lytter.worker")

#: Python's thread switch interval in the worker process (see run_worker).
GIL_SWITCH_SECONDS = 0.0005
# The alert stages batch only what is already waiting: under load their batches fill at once; when the
# stream is sparse a longer wait would add straight to the alert's latency.
ALERT_BATCH_SECONDS = 0.05


def faust_broker(settings: Settings) -> list[str]:
    from streams.worker.transport import SCHEME  # registers the transport (see its docstring)

    return [f"{SCHEME}://{host.strip()}" for host in settings.kafka_bootstrap.split(",") if host.strip()]


def faust_app(settings: Settings) -> faust.App:
    if not is_loopback(settings.worker_web_host):
        log.warning("the worker's web endpoint (status pages, /metrics) listens on %s:%d without authentication "
                    "(LYTTER_WORKER_WEB_HOST): keep it behind a firewall or proxy", settings.worker_web_host, settings.worker_web_port)
    return faust.App(
        settings.app_id,
        broker=faust_broker(settings),
        key_serializer="raw",
        value_serializer="raw",
        store="memory://",
        datadir=str(settings.worker_data_dir),
        web_enabled=True,
        # web_bind is what Faust listens on (its default is every interface); web_host only names the URL
        web_host=settings.worker_web_host,
        web_bind=settings.worker_web_host,
        web_port=settings.worker_web_port,
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_disable_leader=True,
        producer_acks=-1,
        broker_commit_every=settings.worker_batch_size,
        broker_commit_interval=1.0,
        # Faust's default (60 s) is how long a restarted worker waits for its crashed predecessor's partitions.
        broker_session_timeout=settings.worker_session_timeout,
    )


def create_app(settings: Settings) -> faust.App:
    app = faust_app(settings)
    app.lytter_read_committed = settings.worker_read_committed  # type: ignore[attr-defined]  (streams/worker/transport.py)
    topic = {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in settings.worker_topics()}
    # use_partitioner places each key in the partition its topic record came from, so state is
    # co-partitioned with the stream even when batches are processed outside Faust's event context.
    tables = {name: app.Table(name, default=None, key_type=bytes, use_partitioner=True, partitions=settings.topic_partitions) for name in TABLES}
    stages = WorkerStages.build(settings, topic, tables, flush=lambda: app.producer.flush())
    busy, stalls = BusyTopics(settings.worker_topics(source_only=True)), StallDetector(settings.worker_stall_seconds)
    batch = dict(busy=busy, batch_size=settings.worker_batch_size)

    @app.agent(topic[settings.topic_raw], name="lytter.enrich")
    async def enrich(stream):
        await stages.enrich.start()  # load the model and prepare the index before the first batch arrives
        in_flight = BatchesInFlight(settings.worker_batches_in_flight, on_idle=lambda: busy.update({settings.topic_raw: False}))
        await consume_in_flight(stream, stages.enrich, in_flight, topic=settings.topic_raw, within=settings.worker_batch_seconds, **batch)

    @app.agent(topic[settings.topic_enriched], name="lytter.influence")
    async def influence(stream):
        await consume(stream, stages.influence.process, topic=settings.topic_enriched, within=settings.worker_batch_seconds, after=stages.account_written, **batch)

    @app.agent(topic[settings.topic_by_brand], name="lytter.alerts")
    async def alerts(stream):
        await consume(stream, stages.alerts.process, topic=settings.topic_by_brand, within=ALERT_BATCH_SECONDS, **batch)

    @app.agent(topic[settings.topic_alerts], name="lytter.deliver")
    async def deliver(stream):
        await consume(stream, stages.deliver.process, topic=settings.topic_alerts, within=ALERT_BATCH_SECONDS, busy=busy, batch_size=64)

    @app.agent(topic[settings.topic_deletions], name="lytter.deletions")
    async def deletions(stream):
        await consume(stream, stages.deletions.process, topic=settings.topic_deletions, within=ALERT_BATCH_SECONDS, **batch)

    @app.timer(interval=5.0)
    async def reread_stalled() -> None:
        """See streams/worker/stall.py."""
        await reread_stalled_partitions(app.consumer, stalls, busy, settings, on_stall=metrics.stalled_partitions.inc)

    clock = WallClockJobs(settings, stages, recovered=lambda: app.tables.recovery.completed.is_set())

    @app.timer(interval=settings.worker_tick_seconds)
    async def wall_clock() -> None:
        """Unanswered alerts, quiet incidents, the digest schedule (streams/worker/clock.py)."""
        await clock.tick()

    @app.on_before_shutdown.connect
    async def close_clients(app, **kwargs) -> None:
        await stages.close(log)

    register_pages(app, brands_view=stages.brand_windows, authors=stages.authors, status=stages.status)
    app.lytter_stages = stages  # type: ignore[attr-defined]
    return app


def run_worker(settings: Settings) -> None:
    """Run the worker in the foreground until SIGINT/SIGTERM."""
    from streams.ops.kafka_admin import commit_start_offsets, ensure_topics
    from streams.sinks.elasticsearch import check_access

    check_access(settings)  # wrong credentials: one clear error now, not a retry loop
    ensure_topics(settings)
    committed = commit_start_offsets(settings, settings.worker_topics(source_only=True))
    if committed:
        log.info("committed start offsets for %d partitions without one", len(committed))
    # Process-wide, so set here in the worker process rather than in create_app. The model's forward
    # passes release the GIL around every torch op and take it back after; with Python's default 5 ms
    # switch interval each of those waits behind the event loop's Python work (the convoy effect) and the
    # sentiment threads sat half idle. 0.5 ms: +18% mentions/s together with batches in flight (lytter bench).
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    worker.execute_from_commandline()
