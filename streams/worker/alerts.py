"""The alert stage: windows, baselines and incidents per brand; alert actions go to the alerts topic.

Order, per batch: evaluate every brand's mentions -> send the alert actions and wait for Kafka's acks ->
only then write each brand's new state (one changelog record per brand and batch). The alerts must be in
Kafka before the state that says they were raised: a crash in between replays these mentions and raises
the same alerts (same ids) again, instead of restoring a state whose alerts were lost. Duplicates stop at
the delivery stage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Sequence

from streams.alerting.brands import BrandAlerting
from streams.alerting.incidents import AlertAction
from streams.alerting.mentions import MentionInfo
from streams.processing.pipeline import RawRecord
from streams.sinks.kafka import KeyedSink

log = logging.getLogger("lytter.worker")

__all__ = ["AlertStage"]


def action_record(action: AlertAction) -> tuple[bytes, bytes]:
    """The alerts-topic record of one action: keyed by alert id, the alert document with its action."""
    document = action.alert.to_document()
    document["action"] = action.kind
    return document["alert_id"].encode("utf-8"), json.dumps(document).encode("utf-8")


class AlertStage:
    def __init__(self, alerting: BrandAlerting, alerts: KeyedSink, *, on_action: Callable[[AlertAction], None] = lambda _: None) -> None:
        self.alerting = alerting
        self.alerts = alerts
        self.on_action = on_action

    async def process(self, records: Sequence[RawRecord]) -> list[AlertAction]:
        by_brand: dict[str, list[MentionInfo]] = {}
        for record in records:
            by_brand.setdefault(record.key.decode("utf-8"), []).append(MentionInfo.from_dict(json.loads(record.value)))
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
