"""Incidents: one alert per incident, updated as evidence comes in, instead of a storm of alerts.

The rules (:mod:`streams.alerting.rules`) produce an :class:`~streams.alerting.rules.AlertCandidate`
whenever they fire — for a volume spike, on every mention of the burst. :class:`IncidentBook` turns that
stream into a few :class:`AlertAction` s:

* ``("open", alert)`` — the first candidate of an incident. The alert gets a stable ``alert_id``
  (a hash of brand, rule and opening time), so every later action overwrites the same Elasticsearch
  document.
* ``("update", alert)`` — the incident got new evidence or a higher severity. Rate-limited: at most one
  update per ``update_interval_s`` (default 300 s) per incident, except that a rise in severity is sent at
  once. Evidence that arrived within the interval is kept and sent by the next update, which is sent
  either by a later candidate or by :meth:`IncidentBook.tick` once the interval has passed.
* ``("close", alert)`` — sent by :meth:`IncidentBook.tick` when no candidate fired for ``cooldown_s``
  (default 1800 s). A candidate after that opens a new incident (new ``alert_id``).

De-duplication key: **(brand, rule)**, for every rule. For the window rules this is the natural
incident (a spike that lasts several minutes is one incident). For the per-mention rules it is a choice:
a wave of critics or of keyword mentions is one story for a brand team, not one alert per author or per
keyword; each new critic / keyword mention is appended to the evidence (``top_mentions`` by |impact|,
``critics``, ``keywords`` and ``matched`` lists), and the alert is updated (rate-limited as above).

Evidence merging (:func:`merge_evidence`): ``top_mentions`` are merged by mention id and ranked by
|impact| (at most ``max_evidence_mentions``); other lists are unions in order of first appearance;
everything else (counts, statistics, window times) is replaced by the newest candidate's. The title is
the newest candidate's (with "(possible coordinated campaign)" kept once a campaign is in the merged
evidence, which keeps the newest ``campaign``; the first campaign of an incident is sent at once, like a
rise in severity). Severity never decreases within an incident. "New evidence" means the merged
evidence or title differs from what was last sent, ignoring ``window_elapsed_s`` (which changes with
the clock alone).

Keep one book per brand (the state is small) or one for a partition; it is serialisable with
:meth:`IncidentBook.to_dict` / :meth:`IncidentBook.from_dict`. The configuration is not part of the
state: pass it to ``from_dict``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, NamedTuple

from models.influence import to_epoch
from streams.alerting.config import IncidentConfig
from streams.alerting.mentions import TopMention, merge_top
from streams.alerting.rules import AlertCandidate, severity_rank, with_campaign_note
from streams.alerting.values import iso

__all__ = ["Alert", "AlertAction", "Incident", "IncidentBook", "make_alert_id", "merge_evidence"]

Status = Literal["open", "updated", "closed"]
ActionKind = Literal["open", "update", "close"]

#: Evidence keys that change with the clock alone: not "new evidence".
VOLATILE_EVIDENCE_KEYS = frozenset({"window_elapsed_s"})
#: Longest list kept when evidence lists are merged (critics, keywords, ...).
MAX_EVIDENCE_LIST = 50


def make_alert_id(brand: str, rule: str, opened_at: float) -> str:
    """Stable id of an incident's alert: a hash of brand, rule and opening time (epoch seconds)."""
    raw = json.dumps([brand, rule, repr(float(opened_at))], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    if hasattr(value, "to_dict"):
        return _json_safe(value.to_dict())
    return str(value)


def merge_evidence(old: Mapping[str, Any], new: Mapping[str, Any], max_mentions: int = 10) -> dict[str, Any]:
    """``old`` evidence with ``new`` merged in (see the module docstring)."""
    out = copy.deepcopy(dict(old))
    for key, value in new.items():
        previous = out.get(key)
        if key == "top_mentions" and isinstance(value, list):
            merged = merge_top(
                (TopMention.from_dict(t) for t in (previous or []) if isinstance(t, Mapping)),
                (TopMention.from_dict(t) for t in value if isinstance(t, Mapping)),
                max_mentions,
            )
            out[key] = [t.to_dict() for t in merged]
        elif isinstance(value, list) and isinstance(previous, list):
            seen: list[Any] = []
            for item in [*previous, *value]:
                if item not in seen:
                    seen.append(item)
            out[key] = copy.deepcopy(seen[-MAX_EVIDENCE_LIST:])
        else:
            out[key] = copy.deepcopy(value)
    return out


def _digest(title: str, severity: str, evidence: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in evidence.items() if k not in VOLATILE_EVIDENCE_KEYS}
    raw = json.dumps([title, severity, _json_safe(stable)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class Alert:
    """The alert of one incident, as delivered and indexed. Times are epoch seconds."""

    alert_id: str
    brand: str
    rule: str
    severity: str
    title: str
    status: Status
    opened_at: float
    updated_at: float
    updates: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """JSON-safe dict for Elasticsearch and delivery (``_id`` = ``alert_id``), ISO times with timezone."""
        return {
            "alert_id": self.alert_id,
            "brand": self.brand,
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "status": self.status,
            "opened_at": iso(self.opened_at),
            "updated_at": iso(self.updated_at),
            "updates": self.updates,
            "evidence": _json_safe(self.evidence),
        }

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["evidence"] = _json_safe(self.evidence)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["evidence"] = copy.deepcopy(dict(kwargs.get("evidence") or {}))
        return cls(**kwargs)

    def copy(self) -> Alert:
        return Alert.from_dict(self.to_dict())


class AlertAction(NamedTuple):
    """``("open" | "update" | "close", alert)``; ``alert`` is a snapshot (the book does not change it)."""

    kind: ActionKind
    alert: Alert


@dataclass
class Incident:
    """Book-keeping of one open incident (its alert holds the latest merged evidence)."""

    alert: Alert
    last_fired_at: float
    published_at: float
    published_digest: str
    candidates: int = 1

    @property
    def pending(self) -> bool:
        """New evidence not sent yet."""
        return _digest(self.alert.title, self.alert.severity, self.alert.evidence) != self.published_digest

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert.to_dict(),
            "last_fired_at": self.last_fired_at,
            "published_at": self.published_at,
            "published_digest": self.published_digest,
            "candidates": self.candidates,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        return cls(
            alert=Alert.from_dict(data["alert"]),
            last_fired_at=float(data["last_fired_at"]),
            published_at=float(data["published_at"]),
            published_digest=str(data["published_digest"]),
            candidates=int(data.get("candidates", 1)),
        )


def _key(brand: str, rule: str) -> str:
    return json.dumps([brand, rule], ensure_ascii=False)


class IncidentBook:
    """Open incidents keyed by (brand, rule), with de-duplication, rate-limited updates and cool-down."""

    def __init__(self, config: IncidentConfig | None = None) -> None:
        self.config = config or IncidentConfig()
        self.incidents: dict[str, Incident] = {}
        #: closes found by ``consider`` (an expired incident that ``tick`` had not closed yet); ``tick`` sends them
        self.outbox: list[Alert] = []

    def __len__(self) -> int:
        return len(self.incidents)

    def get(self, brand: str, rule: str) -> Alert | None:
        """The open incident's alert for (brand, rule), if any (a snapshot)."""
        incident = self.incidents.get(_key(brand, rule))
        return incident.alert.copy() if incident else None

    def open_alerts(self) -> list[Alert]:
        return [incident.alert.copy() for incident in self.incidents.values()]

    def _publish(self, incident: Incident, now: float, status: Status) -> Alert:
        alert = incident.alert
        if status != "open":
            alert.updates += 1
            alert.updated_at = now
        alert.status = status
        incident.published_at = now
        incident.published_digest = _digest(alert.title, alert.severity, alert.evidence)
        return alert.copy()

    def _close(self, key: str, now: float) -> Alert:
        incident = self.incidents.pop(key)
        alert = incident.alert
        alert.status = "closed"
        alert.updated_at = max(alert.updated_at, now)
        return alert.copy()

    def consider(self, candidate: AlertCandidate, now: float | datetime) -> AlertAction | None:
        """What to send for one candidate: ``("open", alert)``, ``("update", alert)`` or ``None``."""
        now_ts = to_epoch(now)
        cfg = self.config
        key = _key(candidate.brand, candidate.rule)
        incident = self.incidents.get(key)
        if incident is not None and now_ts - incident.last_fired_at >= cfg.cooldown_s:
            self.outbox.append(self._close(key, incident.last_fired_at + cfg.cooldown_s))
            incident = None
        if incident is None:
            evidence = merge_evidence({}, candidate.evidence, cfg.max_evidence_mentions)
            alert = Alert(
                alert_id=make_alert_id(candidate.brand, candidate.rule, now_ts),
                brand=candidate.brand,
                rule=candidate.rule,
                severity=candidate.severity,
                title=candidate.title,
                status="open",
                opened_at=now_ts,
                updated_at=now_ts,
                updates=0,
                evidence=evidence,
            )
            incident = Incident(alert=alert, last_fired_at=now_ts, published_at=now_ts, published_digest="")
            self.incidents[key] = incident
            return AlertAction("open", self._publish(incident, now_ts, "open"))

        incident.last_fired_at = max(incident.last_fired_at, now_ts)
        incident.candidates += 1
        alert = incident.alert
        escalated = severity_rank(candidate.severity) > severity_rank(alert.severity)
        if escalated:
            alert.severity = candidate.severity
        # a campaign showing up is news for the brand team: sent at once, like a rise in severity
        flagged = bool(candidate.evidence.get("campaign")) and not alert.evidence.get("campaign")
        alert.evidence = merge_evidence(alert.evidence, candidate.evidence, cfg.max_evidence_mentions)
        alert.title = with_campaign_note(candidate.title, alert.evidence)
        if escalated or flagged or (incident.pending and now_ts - incident.published_at >= cfg.update_interval_s):
            return AlertAction("update", self._publish(incident, now_ts, "updated"))
        return None

    def tick(self, now: float | datetime) -> list[AlertAction]:
        """Time-driven actions; call it periodically (e.g. every few seconds from a Faust timer):
        ``("close", alert)`` for incidents quiet for ``cooldown_s``, and ``("update", alert)`` for
        pending evidence whose rate limit has passed."""
        now_ts = to_epoch(now)
        cfg = self.config
        actions = [AlertAction("close", alert) for alert in self.outbox]
        self.outbox = []
        for key in list(self.incidents):
            incident = self.incidents[key]
            if now_ts - incident.last_fired_at >= cfg.cooldown_s:
                actions.append(AlertAction("close", self._close(key, now_ts)))
            elif incident.pending and now_ts - incident.published_at >= cfg.update_interval_s:
                actions.append(AlertAction("update", self._publish(incident, now_ts, "updated")))
        return actions

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "incidents": [incident.to_dict() for incident in self.incidents.values()],
            "outbox": [alert.to_dict() for alert in self.outbox],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: IncidentConfig | None = None) -> IncidentBook:
        book = cls(config)
        for item in data.get("incidents", []):
            incident = Incident.from_dict(item)
            book.incidents[_key(incident.alert.brand, incident.alert.rule)] = incident
        book.outbox = [Alert.from_dict(a) for a in data.get("outbox", [])]
        return book
