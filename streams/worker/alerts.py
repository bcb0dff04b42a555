"""The alert stage: windows, baselines and incidents per brand; alert actions go to the alerts topic.

Order, per batch: evaluate every brand's mentions -> send the alert actions and wait for Kafka's acks ->
only then write each brand's new state (one changelog record per brand and batch). The alerts must be in
Kafka before the state that says they were raised: a crash in between replays these mentions and raises
the same alerts (same ids) again, instead of restoring a state whose alerts were lost. Duplicates stop at
the delivery stage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Sequence

from streams.alerting.brands import BrandAlerting
from streams.alerting.incidents import AlertAction
from streams.alerting.mentions import MentionInfo
from streams.processing.pipeline import RawRecord
from streams.sinks.kafka import KeyedSink

log = logging.getLogger("lytter.worker")

__all__ = ["AlertStage", "QuietIncidents", "action_record"]


def action_record(action: AlertAction) -> tuple[bytes, bytes]:
    """The alerts-topic record of one action: keyed by alert id, the alert document with its action."""
    document = action.alert.to_document()
    document["action"] = action.kind
    return document["alert_id"].encode("utf-8"), json.dumps(document).encode("utf-8")


class AlertStage:
    def __init__(self, alerting: BrandAlerting, alerts: KeyedSink, *, on_action: Callable[[AlertAction], None] = lambda _: None,
                 clock: Callable[[], float] = time.time) -> None:
        self.alerting = alerting
        self.alerts = alerts
        self.on_action = on_action
        self.clock = clock
        self.lock = asyncio.Lock()  # the wall-clock timer (QuietIncidents) moves the same incident books
        self.lag_s: float | None = None  # wall clock minus the newest event time of the last batch

    async def process(self, records: Sequence[RawRecord]) -> list[AlertAction]:
        async with self.lock:
            return await self._process(records)

    async def _process(self, records: Sequence[RawRecord]) -> list[AlertAction]:
        by_brand: dict[str, list[MentionInfo]] = {}
        for record in records:
            by_brand.setdefault(record.key.decode("utf-8"), []).append(MentionInfo.from_dict(json.loads(record.value)))
        newest = max((i.published_at for infos in by_brand.values() for i in infos if i.published_at is not None), default=None)
        if newest is not None:
            self.lag_s = self.clock() - newest
        actions: list[AlertAction] = []
        pending_states = []
        for brand, infos in by_brand.items():
            brand_actions, pending = self.alerting.evaluate_batch(brand, infos)
            actions.extend(brand_actions)
            pending_states.append(pending)
        for action in actions:
            self.on_action(action)
            log.warning("alert %s: %s", action.kind, action.alert.title)
        await self.alerts.send([action_record(a) for a in actions])
        for pending in pending_states:
            self.alerting.commit(pending)
        return actions


class QuietIncidents:
    """Closes the incidents of brands that went quiet, on the worker's wall-clock timer.

    A brand's incident book ticks when that brand's next mention arrives, so without this an incident of
    a brand that went silent stayed open. The books run on event time: during a backfill the wall clock is
    far ahead of it, and closing then would end incidents the backfill still feeds. So it acts only while
    the alert stream is live: its last batch's newest mention was at most ``live_within_s`` old."""

    def __init__(self, alerting: BrandAlerting, stage: AlertStage, alerts: KeyedSink, *, live_within_s: float = 600.0) -> None:
        self.alerting = alerting
        self.stage = stage
        self.alerts = alerts
        self.live_within_s = live_within_s

    async def tick(self, now: float) -> list[AlertAction]:
        from streams.answer.unanswered import close_quiet_incidents

        if self.stage.lag_s is None or self.stage.lag_s > self.live_within_s:
            return []
        async with self.stage.lock:
            actions, pending = close_quiet_incidents(self.alerting.states, self.alerting.config(), now)
            if actions:
                await self.alerts.send([action_record(a) for a in actions])
            for brand, value in pending:
                self.alerting.commit((brand, value))
        for action in actions:
            self.stage.on_action(action)
            log.warning("alert %s (quiet): %s", action.kind, action.alert.title)
        return actions
