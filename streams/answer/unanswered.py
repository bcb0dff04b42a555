"""The ``unanswered`` alert: mentions whose reply deadline passed without an answer from the brand.

Each mention that needs a reply has a deadline per brand it waits for: ``published_at`` + the brand's
target for its source and severity (``Watch.reply_target``; severity from
:func:`streams.answer.severity.waiting_severity`). :meth:`UnansweredWatch.tick` (wall clock, from the
worker's timer) moves the mentions whose deadline passed into their brand's incident and returns the
:class:`~streams.alerting.incidents.AlertAction` s to send, so delivery and the alerts index take them
unchanged.

**One incident per brand**, not one alert per mention: a team with thirty waiting messages needs one
page that lists them (``top_mentions``, the longest waiting first), not thirty pages; it is also the
(brand, rule) de-duplication the other rules use. Evidence: ``waiting`` (count), ``oldest_waiting_minutes``,
``target_minutes`` (of the oldest), ``top_mentions`` and ``mention_ids`` (at most 50).

* ``open`` when the first mention of a brand is overdue;
* ``update`` when the waiting set changed: at once when the severity rises, else at most once per
  ``update_interval_s`` (the count is a queue that moves all day);
* ``close`` when the last waiting mention is answered, handled, deleted or pruned.

The severity is the highest of the mentions waiting *now*: unlike a story, a queue gets less urgent
when its critical item is answered.

State: the incidents in the tracker's store under ``u:<brand>``; the deadlines are the tracker's
records. The heap of pending deadlines is memory only, rebuilt from the store on start, so ``tick`` costs
O(log n) per deadline passed plus the open incidents.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from models.influence import to_epoch
from streams.alerting.config import AlertConfig
from streams.alerting.incidents import MAX_EVIDENCE_LIST, Alert, AlertAction, IncidentBook, make_alert_id
from streams.alerting.rules import severity_rank
from streams.answer.tracker import MENTION, TrackerOutcome

__all__ = ["INCIDENT", "RULE", "UnansweredWatch", "close_quiet_incidents", "still_waiting"]

RULE = "unanswered"
INCIDENT = "u:"


def still_waiting(record: dict[str, Any] | None, brand: str) -> bool:
    """Whether a tracked mention still waits for ``brand``'s answer."""
    if not record or brand not in (record.get("due") or {}):
        return False
    return brand not in (record.get("ans") or {}) and not record.get("handled") and not record.get("deleted")


class UnansweredWatch:
    def __init__(self, store: MutableMapping[str, dict], *, update_interval_s: float = 60.0, max_mentions: int = 10) -> None:
        self.store = store
        self.update_interval_s = update_interval_s
        self.max_mentions = max_mentions
        self._heap: list[tuple[float, str, str]] = []
        self._brands: set[str] = set()  # brands with an incident state
        self.rebuild()

    def rebuild(self) -> None:
        """The heap and the incident brands from the store (on start; after a rebalance)."""
        self._brands = {key[len(INCIDENT):] for key in self.store if key.startswith(INCIDENT)}
        fired = {(m, b) for b in self._brands for m in self.store[INCIDENT + b]["waiting"]}
        self._heap = [
            (due, key[len(MENTION):], brand)
            for key, record in list(self.store.items()) if key.startswith(MENTION)
            for brand, due in (record.get("due") or {}).items()
            if still_waiting(record, brand) and (key[len(MENTION):], brand) not in fired
        ]
        heapq.heapify(self._heap)

    def waiting_ids(self) -> list[str]:
        """The mentions in open unanswered incidents (read from the incident states, not a scan of the store)."""
        return sorted({m for brand in self._brands for m in (self.store.get(INCIDENT + brand) or {}).get("waiting", {})})

    def track(self, outcome: TrackerOutcome) -> None:
        """Take in a tracker outcome: new deadlines, and mentions that stopped waiting."""
        for event in outcome.due:
            heapq.heappush(self._heap, (event.due_at, event.mention_id, event.brand))
        for closed in outcome.closed:
            state = self.store.get(INCIDENT + closed.brand)
            if state is not None and closed.mention_id in state["waiting"]:
                del state["waiting"][closed.mention_id]
                self.store[INCIDENT + closed.brand] = state

    def tick(self, now: float | datetime) -> list[AlertAction]:
        """The alert actions due at ``now`` (see the module docstring)."""
        now_ts = to_epoch(now)
        self._move_overdue(now_ts)
        actions = []
        for brand in sorted(self._brands):
            action = self._publish(brand, now_ts)
            if action is not None:
                actions.append(action)
        return actions

    def _move_overdue(self, now: float) -> None:
        changed: dict[str, dict] = {}  # one write per brand and tick, not one per overdue mention
        while self._heap and self._heap[0][0] <= now:
            due, mention_id, brand = heapq.heappop(self._heap)
            record = self.store.get(MENTION + mention_id)
            if not still_waiting(record, brand) or record["due"][brand] != due:
                continue  # answered in time, handled, deleted or pruned
            if brand not in changed:
                changed[brand] = self.store.get(INCIDENT + brand) or {"waiting": {}, "alert": None, "digest": "", "published_at": 0.0}
            changed[brand]["waiting"][mention_id] = {"due": due, "t": record["t"]}
        for brand, state in changed.items():
            self.store[INCIDENT + brand] = state
            self._brands.add(brand)

    def _publish(self, brand: str, now: float) -> AlertAction | None:
        state = self.store[INCIDENT + brand]
        records = {m: self.store.get(MENTION + m) for m in state["waiting"]}
        waiting = {m: w for m, w in state["waiting"].items() if still_waiting(records[m], brand)}
        dropped = len(waiting) != len(state["waiting"])  # answered or pruned without a closed event
        state["waiting"] = waiting
        alert = Alert.from_dict(state["alert"]) if state.get("alert") else None
        if not state["waiting"]:
            del self.store[INCIDENT + brand]
            self._brands.discard(brand)
            if alert is None:
                return None
            alert.status, alert.updated_at, alert.updates = "closed", now, alert.updates + 1
            return AlertAction("close", alert)
        severity, title, evidence = self._describe(brand, state["waiting"], records, now)
        digest = json.dumps([severity, sorted(state["waiting"])])
        kind = self._action_kind(alert, state, severity, digest, now)
        if kind is None:
            if dropped:  # write only on change: every write is a changelog record
                self.store[INCIDENT + brand] = state
            return None
        if alert is None:
            alert = Alert(make_alert_id(brand, RULE, now), brand, RULE, severity, title, "open", now, now)
        else:
            alert.status, alert.updated_at, alert.updates = "updated", now, alert.updates + 1
        alert.severity, alert.title, alert.evidence = severity, title, evidence
        state.update(alert=alert.to_dict(), digest=digest, published_at=now)
        self.store[INCIDENT + brand] = state
        return AlertAction(kind, alert.copy())

    def _action_kind(self, alert: Alert | None, state: dict, severity: str, digest: str, now: float) -> str | None:
        if alert is None:
            return "open"
        if digest == state["digest"]:
            return None
        if severity_rank(severity) > severity_rank(alert.severity) or now - state["published_at"] >= self.update_interval_s:
            return "update"
        return None  # changed, but rate-limited: a later tick sends it

    def _describe(self, brand: str, waiting: dict, records: dict, now: float) -> tuple[str, str, dict[str, Any]]:
        oldest_first = sorted(waiting, key=lambda m: (waiting[m]["t"], m))
        severity = max((records[m]["sev"].get(brand, "info") for m in waiting), key=severity_rank)
        oldest = waiting[oldest_first[0]]
        oldest_minutes = round(max(0.0, now - oldest["t"]) / 60.0, 1)
        target_minutes = round((oldest["due"] - oldest["t"]) / 60.0, 1)
        count = len(waiting)
        title = (
            f"{count} mention{'s' if count != 1 else ''} waiting for an answer from {brand}: "
            f"the oldest for {oldest_minutes:.0f} min (target {target_minutes:.0f} min)"
        )
        evidence = {
            "waiting": count,
            "oldest_waiting_minutes": oldest_minutes,
            "target_minutes": target_minutes,
            "top_mentions": [records[m]["top"] for m in oldest_first if records[m].get("top")][: self.max_mentions],
            "mention_ids": oldest_first[:MAX_EVIDENCE_LIST],
        }
        return severity, title, evidence


def close_quiet_incidents(states: MutableMapping, config: AlertConfig, now: float | datetime) -> tuple[list[AlertAction], list[tuple[str, dict]]]:
    """The closes (and due rate-limited updates) of brands whose incidents went quiet.

    :class:`~streams.alerting.brands.BrandAlerting` ticks a brand's :class:`IncidentBook` only when a
    mention of that brand arrives, so the incident of a brand that went silent never closed. The worker's
    wall-clock timer calls this with the brands table: it returns the actions and the new states, as
    ``(brand, value)`` pairs for ``BrandAlerting.commit``, to write only after the actions are in the
    alerts topic (the order :class:`~streams.worker.alerts.AlertStage` keeps). Call it only while the
    consumer is caught up: the books run on event time, and during a backfill the wall clock is far
    ahead of it, which would close incidents the backfill is still feeding.
    """
    now_ts = to_epoch(now)
    actions: list[AlertAction] = []
    pending: list[tuple[str, dict]] = []
    for brand in list(states):
        stored = states[brand]
        incidents = (stored or {}).get("incidents") or {}
        if not incidents.get("incidents") and not incidents.get("outbox"):
            continue
        book = IncidentBook.from_dict(incidents, config.incidents)
        brand_actions = book.tick(now_ts)
        if brand_actions:
            actions.extend(brand_actions)
            pending.append((brand, {**stored, "incidents": book.to_dict()}))
    return actions, pending
