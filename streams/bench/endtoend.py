"""`lytter bench`: throughput, latency and memory of the real pipeline, each against a baseline measured
in the same run (ratios, not absolute targets: machines differ, ratios travel).

* end to end: generated mentions published to Kafka -> worker -> Elasticsearch, with the sentiment model
  on (production) and off (the same path without inference, the ceiling the model is measured against);
  mentions/s from the first publish to the last document indexed, p50/p99 publish -> indexed latency
  (Kafka record timestamp to the time the worker built the document), the worker's peak memory (VmHWM);
* CPU budget (``streams.bench.cpu``): CPU ms per mention spent by the worker, Elasticsearch, Kafka and the
  publisher, and the ceiling that cost sets on this machine (cores / CPU per mention): whether a faster
  pipeline is possible here, or the cores are simply full;
* Elasticsearch: bulk indexing (the sink's path) against one request per document;
* sentiment: the production scoring path against a naive per-message ``transformers.pipeline``
  (``models.sentiment.bench``).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from streams.bench.cpu import CpuBudget, CpuMeter, budget_rows, process_cpu_seconds
from streams.settings import Settings

#: The parts of the CPU budget, in the order the bench prints them.
BUDGET_PARTS = ("worker", "elasticsearch", "kafka", "publisher (this process)")


@dataclass
class PipelineRun:
    label: str
    mentions: int
    seconds: float
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float
    cpu: CpuBudget | None = None

    @property
    def rate(self) -> float:
        return self.mentions / self.seconds if self.seconds else 0.0


def _isolated(settings: Settings, tag: str, workdir: Path, **update) -> Settings:
    suffix = f"{tag}-{uuid.uuid4().hex[:8]}"
    return settings.model_copy(
        update=dict(
            topic_raw=f"bench-{suffix}.raw",
            topic_deadletter=f"bench-{suffix}.deadletter",
            topic_enriched=f"bench-{suffix}.enriched",
            topic_by_brand=f"bench-{suffix}.by-brand",
            topic_alerts=f"bench-{suffix}.alerts",
            topic_deletions=f"bench-{suffix}.deletions",
            es_index_prefix=f"bench-{suffix}-mentions",
            es_alerts_index=f"bench-{suffix}-alerts",
            app_id=f"lytter-bench-{suffix}",
            worker_data_dir=workdir / suffix,
            **update,
        )
    )


def _peak_rss_mb(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def _wait_quiet(pid: int | None, limit: float, idle_share: float = 0.05, step: float = 0.5) -> None:
    """Until the process uses under ``idle_share`` of a core for ``step`` seconds, or ``limit`` seconds."""
    deadline = time.monotonic() + limit
    before = process_cpu_seconds(pid) if pid else None
    while before is not None and time.monotonic() < deadline:
        time.sleep(step)
        now = process_cpu_seconds(pid)
        if now is None or now - before < idle_share * step:
            return
        before = now


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_pipeline(settings: Settings, label: str, count: int, workdir: Path, say: Callable[[str], None], timeout: float = 900) -> PipelineRun:
    from streams.ops.kafka_admin import ensure_topics
    from streams.worker.process import WorkerProcess
    from streams.ops.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices, sync_client
    from streams.sources.replay.generate import generate_mentions
    from streams.sources.producer import MentionProducer

    ensure_topics(settings)
    setup_indices(settings)
    payloads = [(m.id.encode(), m.to_json_bytes()) for m in generate_mentions(count, seed=99)]
    services = LocalServices(settings).status()
    worker = WorkerProcess(settings, workdir / f"{settings.app_id}.log").start()
    client = sync_client(settings)
    try:
        deadline = time.monotonic() + 180
        while "worker ready" not in worker.log_tail(400):
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{worker.log_tail()}")
            time.sleep(0.5)
        meter = CpuMeter(
            pids={"worker": worker.pid, "publisher (this process)": os.getpid()},
            groups={name: services[name]["pid"] for name in ("elasticsearch", "kafka")},
        )
        say(f"{label}: publishing {count} mentions")
        meter.start()
        started, started_wall = time.monotonic(), time.time()
        with MentionProducer(settings) as producer:
            for key, value in payloads:
                producer.send_raw(key, value)
        indexed = 0
        deadline = time.monotonic() + timeout
        while indexed < count:
            if time.monotonic() > deadline or not worker.alive():
                raise RuntimeError(f"{label}: only {indexed}/{count} indexed; worker log:\n{worker.log_tail()}")
            # No forced refresh: refreshing every poll would cost Elasticsearch CPU the real pipeline does
            # not spend; the end time comes from the documents' own indexed_at below, not from this poll.
            time.sleep(0.5)
            indexed = client.count(index=settings.es_index_prefix)["count"]
        _wait_quiet(worker.pid, limit=20.0)  # the influence and alert stages finish after the last document
        budget = meter.stop(count, time.monotonic() - started)
        client.indices.refresh(index=settings.es_index_prefix)
        last = client.search(index=settings.es_index_prefix, size=0, aggs={"last": {"max": {"field": "indexed_at"}}})
        last_indexed = (last["aggregations"]["last"] or {}).get("value")
        elapsed = (last_indexed / 1000 - started_wall) if last_indexed else time.monotonic() - started
        peak = _peak_rss_mb(worker.pid)
        latencies = []
        response = client.search(index=settings.es_index_prefix, size=min(count, 10_000), source=["ingested_at", "indexed_at"], sort=["_doc"])
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            if src.get("ingested_at") and src.get("indexed_at"):
                delta = datetime.fromisoformat(src["indexed_at"]) - datetime.fromisoformat(src["ingested_at"])
                latencies.append(delta.total_seconds() * 1000)
        return PipelineRun(label, count, elapsed, _percentile(latencies, 0.5), _percentile(latencies, 0.99), peak, budget)
    finally:
        worker.stop()
        try:
            client.indices.delete(index=f"{settings.es_index_prefix}-*", allow_no_indices=True)
        finally:
            client.close()


def es_bulk_vs_single(settings: Settings, docs: int, say: Callable[[str], None]) -> tuple[float, float]:
    """(bulk docs/s, one-request-per-document docs/s) on the same documents."""
    from elasticsearch.helpers import streaming_bulk

    from streams.schema import EnrichedMention
    from streams.sinks.elasticsearch import setup_indices, sync_client
    from streams.sources.replay.generate import generate_mentions

    documents = [EnrichedMention(mention=m, lang="da", lang_confidence=1.0).to_document() for m in generate_mentions(docs, seed=5)]
    client = sync_client(settings)
    try:
        rates = []
        for mode in ("bulk", "single"):
            s = _isolated(settings, f"es-{mode}", Path("/tmp"))
            setup_indices(s, client)
            subset = documents if mode == "bulk" else documents[: max(200, docs // 10)]
            say(f"elasticsearch {mode}: {len(subset)} documents")
            started = time.monotonic()
            if mode == "bulk":
                for ok, item in streaming_bulk(client, ({"_index": s.es_index_prefix, "_id": d["id"], "_source": d} for d in subset), chunk_size=settings.es_bulk_chunk):
                    if not ok:
                        raise RuntimeError(f"bulk item failed: {item}")
            else:
                for d in subset:
                    client.index(index=s.es_index_prefix, id=d["id"], document=d)
            rates.append(len(subset) / (time.monotonic() - started))
            client.indices.delete(index=f"{s.es_index_prefix}-*", allow_no_indices=True)
        return rates[0], rates[1]
    finally:
        client.close()


def run_bench(settings: Settings, count: int, sentiment_n: int, say: Callable[[str], None], print_table: Callable[[list[tuple[str, str, str, str]]], None]) -> None:
    from streams.worker.enrich import sentiment_model_problem
    from streams.ops.services import LocalServices

    workdir = Path(".lytter/bench")
    workdir.mkdir(parents=True, exist_ok=True)
    say("starting the local services (if not running)")
    LocalServices(settings).up(progress=say)
    rows: list[tuple[str, str, str, str]] = []

    problem = sentiment_model_problem(settings.model_copy(update={"sentiment_enabled": True}))
    if problem:
        say(problem)
        say("building the sentiment model first")
        from models.sentiment.train import build_model

        build_model(settings)
    base = run_pipeline(_isolated(settings, "nomodel", workdir, sentiment_enabled=False), "end to end, sentiment off", count, workdir, say)
    prod = run_pipeline(_isolated(settings, "model", workdir, sentiment_enabled=True), "end to end, sentiment on", count, workdir, say)
    rows.append(("end-to-end mentions/s (model on)", f"{prod.rate:,.0f}", f"{base.rate:,.0f} (model off)", f"{prod.rate / base.rate:.2f}x"))
    # the whole replay is published at once: the latency is mostly queueing behind the burst
    rows.append((f"publish->indexed p50 ms ({count:,} at once)", f"{prod.p50_ms:,.0f}", f"{base.p50_ms:,.0f}", f"{prod.p50_ms / base.p50_ms:.2f}x" if base.p50_ms else "-"))
    rows.append((f"publish->indexed p99 ms ({count:,} at once)", f"{prod.p99_ms:,.0f}", f"{base.p99_ms:,.0f}", f"{prod.p99_ms / base.p99_ms:.2f}x" if base.p99_ms else "-"))
    if prod.cpu and base.cpu:
        rows.extend(budget_rows(BUDGET_PARTS, prod.cpu, base.cpu))
    rows.append(("worker peak memory MB", f"{prod.peak_rss_mb:,.0f}", f"{base.peak_rss_mb:,.0f}", f"{prod.peak_rss_mb / base.peak_rss_mb:.2f}x"))

    bulk, single = es_bulk_vs_single(settings, count, say)
    rows.append(("Elasticsearch docs/s (bulk)", f"{bulk:,.0f}", f"{single:,.0f} (one per request)", f"{bulk / single:.1f}x"))

    if sentiment_n:
        from models.sentiment import bench as sentiment_bench

        say(f"sentiment: production path vs naive transformers.pipeline on {sentiment_n} texts")
        result = sentiment_bench.run(settings, n=sentiment_n, repeats=2, progress=say)
        rows.extend(_sentiment_rows(result))
    print_table(rows)


def _sentiment_rows(result) -> list[tuple[str, str, str, str]]:
    """Rows from models.sentiment.bench.run's result (a dict)."""
    rows = []
    for name, value in (result.get("production") or {}).items():
        for base_name, base in (result.get("baseline") or {}).items():
            rate, baseline = value["texts_per_s"], base["texts_per_s"]
            rows.append((f"sentiment texts/s ({name})", f"{rate:,.0f}", f"{baseline:,.0f} (naive pipeline, {base_name})", f"{rate / baseline:.1f}x"))
    return rows


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
