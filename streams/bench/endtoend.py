"""`lytter bench`: throughput, latency and memory of the real pipeline, each against a baseline measured
in the same run (ratios, not absolute targets: machines differ, ratios travel).

* end to end: generated mentions published to Kafka -> worker -> Elasticsearch, with the sentiment model
  on (production) and off (the same path without inference, the ceiling the model is measured against).
  One untimed warm-up run (model on) first, then ``repeats`` timed runs of each side in alternating
  order (off, on, on, off, ...: :func:`streams.bench.stats.run_order`), each with topics and indices of
  its own; every figure is the median over a side's runs with its spread (min-max). Measured from
  Elasticsearch's answers (:mod:`streams.bench.visibility`): mentions/s from the first publish to the
  count poll that saw every document; p50/p99 latency from a record's send (its Kafka timestamp) to the
  poll that first found its document, not the ``indexed_at`` the worker stamps before its bulk request;
  the worker's peak memory (VmHWM). A run that does not index everything within its timeout is a miss:
  it prints ``MISS indexed/expected``, never a figure;
* CPU budget (``streams.bench.cpu``): CPU ms per mention spent by the worker, Elasticsearch, Kafka and the
  publisher, and the ceiling that cost sets on this machine (cores / CPU per mention): whether a faster
  pipeline is possible here, or the cores are simply full;
* Elasticsearch: the sink's own indexer (``MentionIndexer.index``, the worker's write path) against one
  request per document, on the same documents, alternated and repeated the same way;
* sentiment: the production scoring path against a naive per-message ``transformers.pipeline``
  (``models.sentiment.bench``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from streams.bench.cpu import CpuBudget, CpuMeter, budget_rows, median_budget, process_cpu_seconds
from streams.bench.stats import NONE, Summary, integer, miss_text, percentile, ratio, run_order
from streams.bench.visibility import Visibility, sample_ids, wait_all
from streams.settings import Settings

#: The parts of the CPU budget, in the order the bench prints them.
BUDGET_PARTS = ("worker", "elasticsearch", "kafka", "publisher (this process)")
#: The two sides of the end-to-end comparison, as :func:`run_order` names them.
SIDES = {"off": "end to end, sentiment off", "on": "end to end, sentiment on"}

Row = tuple[str, str, str, str]


@dataclass
class PipelineRun:
    """One end-to-end run. ``seconds`` is ``None`` for a miss (not every document indexed in time)."""

    label: str
    mentions: int
    indexed: int
    seconds: float | None
    latencies_ms: list[float] = field(default_factory=list)  # of the followed sample
    peak_rss_mb: float = float("nan")
    cpu: CpuBudget | None = None
    timeout: float = 0.0

    @property
    def complete(self) -> bool:
        return self.seconds is not None and self.indexed >= self.mentions

    @property
    def rate(self) -> float | None:
        return self.mentions / self.seconds if self.complete and self.seconds else None

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 0.5) if self.complete and self.latencies_ms else None

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 0.99) if self.complete and self.latencies_ms else None

    @property
    def miss(self) -> str | None:
        return None if self.complete else miss_text(self.indexed, self.mentions)

    def line(self) -> str:
        if not self.complete:
            return f"{self.label}: {self.miss} indexed within {self.timeout:g} s"
        return (
            f"{self.label}: {self.rate:,.0f} mentions/s ({self.seconds:.2f} s); publish->visible p50 {self.p50_ms:,.0f} ms, "
            f"p99 {self.p99_ms:,.0f} ms ({len(self.latencies_ms):,} followed); worker peak {self.peak_rss_mb:,.0f} MB"
        )


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


def _start_worker(settings: Settings, workdir: Path):
    from streams.worker.process import WorkerProcess

    worker = WorkerProcess(settings, workdir / f"{settings.app_id}.log").start()
    deadline = time.monotonic() + 180
    while "worker ready" not in worker.log_tail(400):
        if not worker.alive() or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"the worker did not start:\n{worker.log_tail()}")
        time.sleep(0.5)
    return worker


def _publish(settings: Settings, payloads: Sequence[tuple[bytes, bytes]]) -> dict[str, float]:
    """Publish every record; the wall-clock send time of each (the producer stamps the Kafka record
    timestamp in the same ``send()``), by mention id."""
    from streams.sources.producer import MentionProducer

    sent: dict[str, float] = {}
    with MentionProducer(settings) as producer:
        for key, value in payloads:
            sent[key.decode()] = time.time()
            producer.send_raw(key, value)
    return sent


def run_pipeline(settings: Settings, label: str, count: int, workdir: Path, say: Callable[[str], None],
                 timeout: float = 900, interval: float = 0.25) -> PipelineRun:
    """One run on fresh topics and indices; a miss (a :class:`PipelineRun` without ``seconds``) when
    not every document is visible within ``timeout`` seconds of the first publish or the worker dies."""
    from streams.ops.kafka_admin import ensure_topics
    from streams.ops.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices, sync_client
    from streams.sources.replay.generate import generate_mentions

    ensure_topics(settings)
    setup_indices(settings)
    payloads = [(m.id.encode(), m.to_json_bytes()) for m in generate_mentions(count, seed=99)]
    services = LocalServices(settings).status()
    worker = _start_worker(settings, workdir)
    client = sync_client(settings)
    try:
        meter = CpuMeter(
            pids={"worker": worker.pid, "publisher (this process)": os.getpid()},
            groups={name: services[name]["pid"] for name in ("elasticsearch", "kafka")},
        )
        tracker = Visibility(client, settings.es_index_prefix, sample_ids([key.decode() for key, _ in payloads]))
        say(f"{label}: publishing {count:,} mentions")
        meter.start()
        started, started_wall = time.monotonic(), time.time()
        sent = _publish(settings, payloads)
        remaining = max(0.0, timeout - (time.monotonic() - started))
        done_at = wait_all(tracker, count, remaining, interval=interval, alive=worker.alive)
        _wait_quiet(worker.pid, limit=20.0)  # the influence and alert stages finish after the last document
        budget = meter.stop(count, time.monotonic() - started)
        if done_at is None:
            say(f"{label}: worker log tail:\n{worker.log_tail(2000)}")
            return PipelineRun(label, count, tracker.count, None, peak_rss_mb=_peak_rss_mb(worker.pid), timeout=timeout)
        return PipelineRun(label, count, tracker.count, done_at - started_wall, tracker.latencies_ms(sent),
                           _peak_rss_mb(worker.pid), budget, timeout)
    finally:
        worker.stop()
        try:
            client.indices.delete(index=f"{settings.es_index_prefix}-*", allow_no_indices=True)
        finally:
            client.close()


def run_pipelines(settings: Settings, count: int, workdir: Path, say: Callable[[str], None], *, repeats: int = 2,
                  warmup: bool = True, timeout: float = 900) -> dict[str, list[PipelineRun]]:
    """The untimed warm-up (model on), then ``repeats`` runs of each side in :func:`run_order`."""
    enabled = {"off": False, "on": True}
    if warmup:
        say(f"warm-up run (untimed, sentiment on): {count:,} mentions")
        run = run_pipeline(_isolated(settings, "warmup", workdir, sentiment_enabled=True), "warm-up (untimed)", count, workdir, say, timeout)
        say(f"{run.label}: {'done' if run.complete else run.miss}")
    runs: dict[str, list[PipelineRun]] = {side: [] for side in SIDES}
    order = run_order(repeats, tuple(SIDES))
    say("run order: " + ", ".join(order))
    for n, side in enumerate(order, 1):
        label = f"{SIDES[side]} (run {n}/{len(order)})"
        s = _isolated(settings, f"model-{side}", workdir, sentiment_enabled=enabled[side])
        run = run_pipeline(s, label, count, workdir, say, timeout)
        say(run.line())
        runs[side].append(run)
    return runs


def _summary(runs: Sequence[PipelineRun], value: Callable[[PipelineRun], float | None]) -> Summary:
    return Summary.of((value(r) for r in runs if r.complete), (r.miss for r in runs if not r.complete))


def pipeline_rows(on: Sequence[PipelineRun], off: Sequence[PipelineRun], count: int) -> list[Row]:
    """Table rows of the end-to-end runs: median (min-max) per side, misses beside, ratio of medians."""
    rows: list[Row] = []
    measures: list[tuple[str, Callable[[PipelineRun], float | None]]] = [
        ("end-to-end mentions/s (model on)", lambda r: r.rate),
        # the whole replay is published at once: the latency is mostly queueing behind the burst
        (f"publish->visible p50 ms ({count:,} at once)", lambda r: r.p50_ms),
        (f"publish->visible p99 ms ({count:,} at once)", lambda r: r.p99_ms),
        ("worker peak memory MB", lambda r: r.peak_rss_mb),
    ]
    for name, value in measures:
        a, b = _summary(on, value), _summary(off, value)
        rows.append((name, a.text(integer), f"{b.text(integer)} (model off)", ratio(a, b)))
    if all(r.complete for r in (*on, *off)):
        budget_on, budget_off = median_budget(r.cpu for r in on), median_budget(r.cpu for r in off)
        if budget_on and budget_off:
            rows[3:3] = budget_rows(BUDGET_PARTS, budget_on, budget_off)
    else:
        rows.insert(3, ("CPU budget", NONE, NONE, "- (a run missed)"))
    return rows


async def _sink_index(settings: Settings, documents: list[dict]) -> tuple[int, float]:
    """(documents indexed, seconds) of the sink's own ``MentionIndexer.index`` on ``documents``."""
    from streams.sinks.elasticsearch import MentionIndexer, async_client

    client = async_client(settings)
    try:
        started = time.monotonic()
        result = await MentionIndexer(settings, client).index(documents)
        return result.indexed, time.monotonic() - started
    finally:
        await client.close()


def _single_index(client, settings: Settings, documents: list[dict]) -> tuple[int, float]:
    started = time.monotonic()
    for d in documents:
        client.index(index=settings.es_index_prefix, id=d["id"], document=d)
    return len(documents), time.monotonic() - started


def es_bulk_vs_single(settings: Settings, docs: int, say: Callable[[str], None], repeats: int = 2) -> tuple[Summary, Summary]:
    """docs/s of the sink's indexer (bulk) and of one request per document, on the same documents,
    ``repeats`` runs each in :func:`run_order`, each into a fresh index."""
    from streams.schema import EnrichedMention
    from streams.sinks.elasticsearch import setup_indices, sync_client
    from streams.sources.replay.generate import generate_mentions

    documents = [EnrichedMention(mention=m, lang="da", lang_confidence=1.0).to_document() for m in generate_mentions(docs, seed=5)]
    client = sync_client(settings)
    rates: dict[str, list[float]] = {"bulk": [], "single": []}
    misses: dict[str, list[str]] = {"bulk": [], "single": []}
    try:
        for mode in run_order(repeats, ("bulk", "single")):
            s = _isolated(settings, f"es-{mode}", Path("/tmp"))
            setup_indices(s, client)
            say(f"elasticsearch {mode}: {len(documents):,} documents")
            try:
                done, seconds = asyncio.run(_sink_index(s, documents)) if mode == "bulk" else _single_index(client, s, documents)
            finally:
                client.indices.delete(index=f"{s.es_index_prefix}-*", allow_no_indices=True)
            if done < len(documents):
                misses[mode].append(miss_text(done, len(documents)))
            else:
                rates[mode].append(len(documents) / seconds)
        return Summary.of(rates["bulk"], misses["bulk"]), Summary.of(rates["single"], misses["single"])
    finally:
        client.close()


def run_bench(settings: Settings, count: int, sentiment_n: int, say: Callable[[str], None], print_table: Callable[[list[Row]], None],
              *, repeats: int = 2, warmup: bool = True, timeout: float = 900) -> None:
    from streams.ops.services import LocalServices
    from streams.worker.enrich import sentiment_model_problem

    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    workdir = Path(".lytter/bench")
    workdir.mkdir(parents=True, exist_ok=True)
    say("starting the local services (if not running)")
    LocalServices(settings).up(progress=say)
    problem = sentiment_model_problem(settings.model_copy(update={"sentiment_enabled": True}))
    if problem:
        say(problem)
        say("building the sentiment model first")
        from models.build import build_models

        build_models(settings)
    runs = run_pipelines(settings, count, workdir, say, repeats=repeats, warmup=warmup, timeout=timeout)
    rows = pipeline_rows(runs["on"], runs["off"], count)
    bulk, single = es_bulk_vs_single(settings, count, say, repeats)
    rows.append(("Elasticsearch docs/s (sink's MentionIndexer)", bulk.text(integer), f"{single.text(integer)} (one per request)", ratio(bulk, single, 1)))
    if sentiment_n:
        from models.sentiment import bench as sentiment_bench

        say(f"sentiment: production path vs naive transformers.pipeline on {sentiment_n} texts")
        result = sentiment_bench.run(settings, n=sentiment_n, repeats=max(2, repeats), progress=say)
        rows.extend(_sentiment_rows(result))
    say(f"figures: median (min-max) over {repeats} run(s) per side, run in alternating order after "
        f"{'an untimed warm-up' if warmup else 'no warm-up'}; MISS indexed/expected: a run that did not index "
        f"everything within {timeout:g} s (no figure, and no ratio for that measure)")
    print_table(rows)


def _sentiment_rows(result) -> list[Row]:
    """Rows from models.sentiment.bench.run's result (a dict): every production precision against every
    naive baseline precision (fp32 and, when production runs it, bf16), median (min-max) texts/s."""
    def text(value) -> str:
        low, high = value.get("spread_texts_per_s") or (value["texts_per_s"], value["texts_per_s"])
        return f"{value['texts_per_s']:,.0f} ({low:,.0f}-{high:,.0f})"

    rows = []
    for name, value in (result.get("production") or {}).items():
        for base_name, base in (result.get("baseline") or {}).items():
            ratio_ = value["texts_per_s"] / base["texts_per_s"] if base["texts_per_s"] else float("nan")
            rows.append((f"sentiment texts/s ({name})", text(value), f"{text(base)} (naive pipeline, {base_name})", f"{ratio_:.1f}x"))
    return rows
