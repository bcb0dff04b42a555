"""The worker's stages, built once from the settings, the topics and the tables (no Faust agents here)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from streams.alerting.brands import BrandAlerting
from streams.alerting.delivery import channels_from_settings
from streams.settings import Settings
from streams.sinks.kafka import KafkaDeadLetters, KafkaEnriched, KeyedTopicSink
from streams.watch import WatchFile
from streams.worker import metrics
from streams.stories.index import StoryIndex
from streams.worker.alert_terms import EmergingTermsEvidence
from streams.worker.alerts import AlertStage, QuietIncidents
from streams.worker.answers import AnswerLoop
from streams.worker.consume import BytesKeyedView
from streams.worker.deletions import DeletionStage, HonourDeletions
from streams.worker.deliver import DeliveryStage
from streams.worker.enrich import EnrichStage, WorkerTotals, observe_latency
from streams.worker.influence import InfluenceOutcome, InfluenceScorer, InfluenceStage
from streams.worker.stories import StoryAssigner

#: The worker's changelog-backed tables (keys: the bytes of their topic's keys).
TABLES = ("authors", "brands", "deliveries", "deletions", "stories", "answers")


@dataclass
class WorkerStages:
    totals: WorkerTotals
    watch_file: WatchFile
    enrich: EnrichStage
    influence: InfluenceStage
    alerting: BrandAlerting
    alerts: AlertStage
    deliver: DeliveryStage
    deletions: DeletionStage
    authors: BytesKeyedView
    answers: AnswerLoop
    quiet: QuietIncidents
    closables: list = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, topic: Mapping[str, Any], tables: Mapping[str, Any], flush: Callable[[], Awaitable[Any]]) -> WorkerStages:
        from streams.sinks.elasticsearch import AlertIndexer, MentionIndexer

        totals, watch_file = WorkerTotals(), WatchFile(settings.watch_file)
        index, alert_index = MentionIndexer(settings, on_retry=metrics.es_outages.inc), AlertIndexer(settings)
        dead = KafkaDeadLetters(topic[settings.topic_deadletter])
        enriched = HonourDeletions(KafkaEnriched(topic[settings.topic_enriched]), tables["deletions"]) if settings.worker_publish_enriched else None
        authors = BytesKeyedView(tables["authors"])
        alerting = BrandAlerting(BytesKeyedView(tables["brands"]), lambda: watch_file.current().alerts)
        alerts_sink = KeyedTopicSink(topic[settings.topic_alerts])
        stories = StoryAssigner(
            BytesKeyedView(tables["stories"]),
            lambda store: StoryIndex(store, max_stories=settings.stories_max, ttl_s=3600.0 * settings.stories_ttl_hours, clock=time.time),
        )
        answers = AnswerLoop(
            BytesKeyedView(tables["answers"]), watch_file.current, index=index, alerts=alerts_sink,
            clock=time.time, default_target_minutes=settings.reply_target_minutes,
        )
        alert_stage = AlertStage(alerting, alerts_sink, on_action=lambda a: metrics.alerts.labels(action=a.kind, rule=a.alert.rule).inc())
        return cls(
            totals=totals,
            watch_file=watch_file,
            enrich=EnrichStage(settings, watch_file, index=index, deadletters=dead, enriched=enriched, totals=totals),
            influence=InfluenceStage(
                lambda: InfluenceScorer(authors), index=index, deadletters=dead, by_brand=KeyedTopicSink(topic[settings.topic_by_brand]),
                clock=time.time, stories=stories, answers=answers,
            ),
            alerting=alerting,
            alerts=alert_stage,
            deliver=DeliveryStage(alert_index, channels_from_settings(settings), tables["deliveries"], flush,
                                  describe=EmergingTermsEvidence(index.client, settings)),
            deletions=DeletionStage(tables["deletions"], index),
            authors=authors,
            answers=answers,
            quiet=QuietIncidents(alerting, alert_stage, alerts_sink),
            closables=[index, alert_index],
        )

    def account_written(self, outcome: InfluenceOutcome, _records=()) -> None:
        """Metrics and totals of the influence stage's one write per mention."""
        metrics.indexed.inc(outcome.indexed)
        metrics.es_bulk_errors.inc(outcome.dead_lettered)
        metrics.dead_lettered.labels(stage="index").inc(outcome.dead_lettered)
        observe_latency(outcome.ingested)
        self.totals.add(indexed=outcome.indexed, dead_lettered=outcome.dead_lettered, reasons=outcome.reasons)

    def status(self) -> dict:
        t = self.totals
        return {
            "received": t.received,
            "indexed": t.indexed,
            "dead_lettered": t.dead_lettered,
            "alerts_delivered": self.deliver.delivered,
            "deletions_honoured": self.deletions.honoured,
            "watch_error": self.watch_file.last_error,
        }

    def brand_windows(self, every_window: bool = False) -> dict:
        """Per brand: the newest window and the baseline, or with ``every_window`` each open window in full."""
        view = self.alerting.windows_detail if every_window else self.alerting.window_summary
        return {brand: view(brand) for brand, _ in self.alerting.states.items()}

    async def close(self, log) -> None:
        for closable in self.closables:  # Elasticsearch clients hold aiohttp sessions: close them before the loop goes
            try:
                await closable.close()
            except Exception as exc:  # noqa: BLE001 - shutting down; report and go on
                log.warning("closing %r failed: %r", closable, exc)
