"""Prometheus metrics of the worker, declared once. Served at ``/metrics`` on the worker's web port."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, generate_latest

from streams.ops.metrics import REGISTRY

received = Counter("lytter_worker_received_total", "Raw records taken from mentions.raw", registry=REGISTRY)
indexed = Counter("lytter_worker_indexed_total", "Records that ended as an indexed mention", registry=REGISTRY)
dead_lettered = Counter("lytter_worker_dead_lettered_total", "Records sent to the dead-letter topic", ["stage"], registry=REGISTRY)
es_bulk_errors = Counter("lytter_worker_es_bulk_errors_total", "Documents Elasticsearch refused in a bulk request", registry=REGISTRY)
es_outages = Counter("lytter_worker_es_retries_total", "Batches retried because Elasticsearch was unreachable or overloaded", registry=REGISTRY)
stalled_partitions = Counter(
    "lytter_worker_stalled_partitions_total", "Source partitions re-read because their commit was stuck behind a skipped record", registry=REGISTRY
)
alerts = Counter("lytter_worker_alerts_total", "Alert actions (open, update, close)", ["action", "rule"], registry=REGISTRY)
batch_size = Histogram(
    "lytter_worker_batch_size", "Mentions per batch", buckets=(1, 8, 32, 64, 128, 256, 512, 1024), registry=REGISTRY
)
batch_seconds = Histogram(
    "lytter_worker_batch_seconds",
    "Time per batch and stage (enrich = language, sentiment and brands; index = Elasticsearch bulk)",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
latency_seconds = Histogram(
    "lytter_worker_latency_seconds",
    "From the Kafka record timestamp (publish) to the mention being indexed",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
response_time_seconds = Histogram(
    "lytter_worker_response_time_seconds",
    "First-response time of mentions that needed a brand's reply (published to the owned account's reply)",
    buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200),
    registry=REGISTRY,
)
reply_queue = Gauge("lytter_worker_reply_queue", "Mentions waiting for a brand's reply (the inbox queue)", ["brand"], registry=REGISTRY)
consumer_lag = Gauge("lytter_worker_consumer_lag", "Records behind the end of the partition", ["topic", "partition"], registry=REGISTRY)


def render() -> bytes:
    return generate_latest(REGISTRY)


async def observe_lag(consumer) -> None:
    """Set ``consumer_lag`` for every assigned partition from the consumer's own positions."""
    for tp in consumer.assignment():
        try:
            end = consumer.highwater(tp)
            position = await consumer.position(tp)
        except Exception:  # noqa: BLE001 - a partition being revoked: skip it this scrape
            continue
        if end is not None and position is not None and end >= 0:
            consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, end - position))
