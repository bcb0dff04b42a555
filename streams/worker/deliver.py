"""The delivery stage: index each alert version and deliver it on the configured channels.

At-least-once, idempotent in Elasticsearch (``_id`` = alert id). A crash after delivering but before the
offset commit replays alerts on restart: the stage remembers (in a changelog-backed table) the newest
version each alert was delivered in and skips replays of that version or older ones. The record is made
durable right after each delivery (``flush``), so the one way a version reaches a channel twice is a crash
between a POST and that flush; the webhook's Idempotency-Key lets a receiver drop that repeat.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol, Sequence

from streams.alerting.delivery import AlertChannel, deliver_all
from streams.processing.pipeline import RawRecord

log = logging.getLogger("lytter.worker")

__all__ = ["DeliveryStage", "alert_version", "delivered_version"]

_ACTION_ORDER = {"open": 0, "update": 1, "close": 2}


def alert_version(alert: dict) -> tuple[int, int]:
    """Order of an alert's versions: (updates, open < update < close)."""
    return int(alert.get("updates") or 0), _ACTION_ORDER.get(str(alert.get("action")), 1)


def delivered_version(stored) -> tuple[int, int] | None:
    """The version recorded in the deliveries table: ``[updates, order]``, or the ``"action:updates"``
    string written by earlier versions of Lytter."""
    if stored is None:
        return None
    if isinstance(stored, str):
        action, _, updates = stored.partition(":")
        return alert_version({"action": action, "updates": updates or 0})
    return int(stored[0]), int(stored[1])


class AlertDocuments(Protocol):
    async def index(self, alert: dict[str, Any]) -> None: ...


class DeliveryStage:
    def __init__(
        self,
        indexer: AlertDocuments,
        channels: Sequence[AlertChannel],
        deliveries: MutableMapping[bytes, Any],
        flush: Callable[[], Awaitable[Any]],
        *,
        timeout: float = 60,
        describe: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.describe = describe  # adds evidence from Elasticsearch (emerging terms) before indexing
        self.indexer = indexer
        self.channels = list(channels)
        self.deliveries = deliveries
        self.flush = flush
        self.timeout = timeout
        self.delivered = 0

    def already_delivered(self, alert: dict[str, Any]) -> bool:
        stored = self.deliveries.get(alert["alert_id"].encode("utf-8"))
        done = delivered_version((stored or {}).get("version"))
        return done is not None and done >= alert_version(alert)

    async def process(self, records: Sequence[RawRecord]) -> int:
        """Index and deliver each alert version of the batch in order; the number delivered."""
        sent = 0
        for record in records:
            alert = json.loads(record.value)
            if self.describe is not None:
                alert = await self.describe(alert)
            await self.indexer.index(alert)
            if self.already_delivered(alert):
                continue
            for result in await deliver_all(self.channels, alert, timeout=self.timeout):
                if not result.ok:
                    log.error("alert %s not delivered on %s: %s", alert.get("alert_id"), result.channel, result.error)
            self.deliveries[alert["alert_id"].encode("utf-8")] = {"version": list(alert_version(alert)), "at": time.time()}
            await self.flush()  # durable at once: see the module docstring
            sent += 1
        self.delivered += sent
        return sent
