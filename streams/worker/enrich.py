"""The enrich stage: validation, language, brands, keywords, sentiment and intent (off the event loop), dead letters; the
enriched mentions go on to the influence stage, which writes each document once.

Up to ``worker_batches_in_flight`` batches at once (:mod:`streams.worker.inflight`): while the model
scores one in the executor thread, the event loop sends the one before and takes the next. One at a
time left a core idle for a third of a replay (``lytter bench``: "cores busy").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from streams.processing.brands import BrandMatcher
from streams.processing.keywords import KeywordExtractor
from streams.processing.pipeline import BatchOutcome, MentionPipeline, RawRecord
from streams.settings import Settings
from streams.watch import WatchFile
from streams.worker import metrics

log = logging.getLogger("lytter.worker")

__all__ = ["EnrichStage", "WorkerTotals", "load_sentiment", "sentiment_model_problem"]


def sentiment_model_problem(settings: Settings) -> str | None:
    """Why the worker could not load its sentiment model, or None when it can."""
    if not settings.sentiment_enabled:
        return None
    path = settings.resolved_model_path()
    if not (path / "config.json").is_file():
        return (
            f"no sentiment model at {path} (setting LYTTER_MODEL_PATH). Build it with `lytter model build`, "
            "point LYTTER_MODEL_PATH at a transformers sequence-classification model directory, "
            "or run without sentiment: LYTTER_SENTIMENT_ENABLED=false."
        )
    return None


def load_sentiment(settings: Settings):
    """The sentiment model, or None when disabled. Raises with a clear message when it is missing."""
    if not settings.sentiment_enabled:
        return None
    from models.sentiment import SentimentModel

    return SentimentModel.load(settings=settings)


@dataclass
class WorkerTotals:
    """What ``/lytter/status/`` and the log report: received by the enrich stage; indexed by whichever
    stage writes the documents; dead letters of both."""

    received: int = 0
    indexed: int = 0
    dead_lettered: int = 0
    alerts_delivered: int = 0
    last_log: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, *, received: int = 0, indexed: int = 0, dead_lettered: int = 0, reasons: Sequence[str] = ()) -> None:
        self.received += received
        self.indexed += indexed
        self.dead_lettered += dead_lettered
        for reason in list(reasons)[:3]:
            log.warning("dead-lettered: %s", reason)
        now = time.monotonic()
        if now - self.last_log > 5.0:
            self.last_log = now
            log.info("processed %d mentions: %d indexed, %d dead-lettered", self.received, self.indexed, self.dead_lettered)


def observe_latency(ingested: Sequence[float]) -> None:
    now = time.time()
    for at in ingested:
        metrics.latency_seconds.observe(max(0.0, now - at))


class EnrichStage:
    """Builds the pipeline on first use (loading the model and preparing the index are slow and
    blocking: off the event loop), then processes raw batches and accounts for them."""

    def __init__(self, settings: Settings, watch_file: WatchFile, *, index: Any, deadletters: Any, enriched: Any, totals: WorkerTotals) -> None:
        self.settings = settings
        self.watch_file = watch_file
        self.index = index
        self.deadletters = deadletters
        self.enriched = enriched  # None: the pipeline indexes itself (LYTTER_WORKER_PUBLISH_ENRICHED=false)
        self.totals = totals
        self.pipeline: MentionPipeline | None = None

    async def start(self) -> MentionPipeline:
        if self.pipeline is None:
            from streams.sinks.elasticsearch import setup_indices

            loop = asyncio.get_running_loop()
            sentiment = await loop.run_in_executor(None, load_sentiment, self.settings)
            await loop.run_in_executor(None, setup_indices, self.settings)
            self.pipeline = MentionPipeline(
                index=self.index,
                deadletters=self.deadletters,
                sentiment=sentiment,
                enrichers=[BrandMatcher(self.watch_file), KeywordExtractor()],
                enriched_sink=self.enriched,
            )
            await loop.run_in_executor(self.pipeline.executor, self.pipeline.language.identify, ["warm up"])
            log.info("worker ready: sentiment=%s", "on" if sentiment is not None else "off")
        return self.pipeline

    async def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        return await (await self.start()).process(records)

    def account(self, outcome: BatchOutcome, records: Sequence[RawRecord] = ()) -> None:
        metrics.received.inc(outcome.received)
        for stage, count in Counter(outcome.stages).items():
            metrics.dead_lettered.labels(stage=stage).inc(count)
        metrics.batch_size.observe(outcome.received)
        metrics.batch_seconds.labels(stage="enrich").observe(outcome.enrich_seconds)
        passed = outcome.indexed if self.enriched is None else 0  # forwarded ones are counted when written
        if self.enriched is None:
            metrics.indexed.inc(outcome.indexed)
            metrics.es_bulk_errors.inc(outcome.stages.count("index"))
            metrics.batch_seconds.labels(stage="index").observe(outcome.index_seconds)
            observe_latency([r.timestamp for r in records if r.timestamp])
        self.totals.add(received=outcome.received, indexed=passed, dead_lettered=outcome.dead_lettered, reasons=outcome.reasons)
