"""The reply queue: mentions a brand owes an answer, most urgent first.

What is in the queue
--------------------
A mention document with ``needs_reply: true``, no ``answered_at``, not ``deleted``, whose
``inbox.status`` is neither ``handled`` nor ``no_reply_needed``, and that is not snoozed past now
(``inbox.snoozed_until`` later than now hides it; once that time has passed it is back). Filters:
brand (``addressed_to``), language (``lang``), source (``source``).

Priority (points; higher is answered first)
-------------------------------------------
::

    priority = N + I + R + W

    N  negativity   35 * max(0, -s)               s = the brand's sentiment score (see below), in [-1, 1]
    I  influence    0.25 * influence              influence is 0..100 (models/influence.py) -> 0..25
    R  reach        2.5 * log10(1 + reach)        15 points at a million people; grows slowly beyond
    W  waiting      50 * min(1, age / (2 * T))    age = now - published_at, T = the reply target
                                                  (settings.reply_target_minutes): 25 points at the
                                                  target, 50 at twice the target and after

Why this shape: an angry mention by a big account that has waited long goes first; an overdue mention
by a nobody still climbs (W alone reaches 50, more than any other part), so nothing waits forever.
Reach is log-scaled because audiences are heavy-tailed (10 -> 100 readers matters like 100k -> 1M).

The sentiment ``s``: when the mention has per-brand sentiment (``brand_sentiment``), N counts when the
brand's own stance is labelled negative (``brand_label`` "<brand>:negative"; with no brand filter: any
brand's), and then uses the most negative brand score of the mention. (An array of objects keeps no
pairing between ``brand_sentiment.brand`` and ``.score`` in Elasticsearch; ``brand_label`` does pair
brand and label, so a brand whose stance is not negative gets N = 0.) Without brand sentiment the
mention's own ``sentiment.score`` is used; without either, N = 0.

The score is computed by Elasticsearch (``function_score`` with built-in functions only: the minimal
distribution has no scripting), so the queue is sorted on the cluster however long it is:
``max(0, -s)`` is a linear decay around origin -1; the rising waiting part is a linear decay whose
origin is ``now - 2T`` plus a constant for anything older. :func:`priority_parts` computes the same
parts in Python for display (and the tests check both agree).

Each queue item carries a ``version`` token ``"<seq_no>:<primary_term>"``: an action sends back the
version its user saw, and Elasticsearch refuses the write when the document changed since
(streams/inbox/actions.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.settings import Settings

NEGATIVITY_POINTS = 35.0
INFLUENCE_POINTS_PER_UNIT = 0.25  # influence 0..100 -> 0..25 points
REACH_POINTS_PER_DECADE = 2.5
WAITING_POINTS = 50.0
WAITING_FULL_AT_TARGETS = 2.0  # W is full at twice the reply target

CLOSED_STATUSES = ("handled", "no_reply_needed")
STATUSES = ("open", "assigned", "handled", "no_reply_needed", "snoozed")


class InboxError(ValueError):
    """A bad inbox input (a filter, a version, an action's argument): the message says what to fix."""


@dataclass(frozen=True)
class Version:
    """Elasticsearch's optimistic-concurrency coordinates of one document version."""

    seq_no: int
    primary_term: int

    def __str__(self) -> str:
        return f"{self.seq_no}:{self.primary_term}"

    @classmethod
    def parse(cls, token: str) -> Version:
        """``"<seq_no>:<primary_term>"`` (as shown by ``lytter inbox list``) -> Version; InboxError if malformed."""
        text = (token or "").strip()
        seq, sep, term = text.partition(":")
        if not sep or not seq.isdigit() or not term.isdigit() or int(term) < 1:
            raise InboxError(
                f"version {token!r} is not '<seq_no>:<primary_term>' (two whole numbers, the second at least 1, "
                "e.g. 12:1): copy it from `lytter inbox list --json` or `lytter inbox show ID`"
            )
        return cls(int(seq), int(term))


@dataclass(frozen=True)
class QueueFilter:
    brand: str | None = None
    lang: str | None = None
    source: str | None = None

    def clauses(self) -> list[dict[str, Any]]:
        out = []
        for field_name, value in (("addressed_to", self.brand), ("lang", self.lang), ("source", self.source)):
            if value is not None:
                if not value.strip():
                    raise InboxError(f"the {field_name} filter is empty: give a value or leave the filter out")
                out.append({"term": {field_name: value.strip()}})
        return out


@dataclass
class PriorityParts:
    negativity: float
    influence: float
    reach: float
    waiting: float

    @property
    def total(self) -> float:
        return self.negativity + self.influence + self.reach + self.waiting

    def as_dict(self) -> dict[str, float]:
        return {"negativity": round(self.negativity, 3), "influence": round(self.influence, 3),
                "reach": round(self.reach, 3), "waiting": round(self.waiting, 3), "total": round(self.total, 3)}


@dataclass
class QueueItem:
    id: str
    index: str
    version: Version
    mention: dict[str, Any]
    priority: float  # as Elasticsearch sorted it
    parts: PriorityParts
    waiting_s: float
    inbox: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": str(self.version), "priority": round(self.priority, 3),
                "parts": self.parts.as_dict(), "waiting_s": round(self.waiting_s, 1),
                "status": self.inbox.get("status", "open"), "assignee": self.inbox.get("assignee"),
                "mention": self.mention}


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def sentiment_for_priority(doc: dict[str, Any], brand: str | None) -> float | None:
    """The ``s`` of the module docstring: None when N does not count for this document."""
    brand_sentiment = [b for b in _as_list(doc.get("brand_sentiment")) if isinstance(b, dict) and b.get("score") is not None]
    if brand_sentiment:
        negative = any(b.get("label") == "negative" and (brand is None or b.get("brand") == brand) for b in brand_sentiment)
        return min(float(b["score"]) for b in brand_sentiment) if negative else None
    score = (doc.get("sentiment") or {}).get("score")
    return float(score) if score is not None else None


def priority_parts(doc: dict[str, Any], now: datetime, target_s: float, brand: str | None = None) -> PriorityParts:
    """The priority's parts for one mention document (the formula of the module docstring)."""
    s = sentiment_for_priority(doc, brand)
    negativity = NEGATIVITY_POINTS * max(0.0, -s) if s is not None else 0.0
    influence = INFLUENCE_POINTS_PER_UNIT * float(doc.get("influence") or 0.0)
    reach = REACH_POINTS_PER_DECADE * math.log10(1.0 + max(0.0, float(doc.get("reach") or 0.0)))
    published = parse_time(doc.get("published_at"))
    age = max(0.0, (now - published).total_seconds()) if published else 0.0
    waiting = WAITING_POINTS * min(1.0, age / (WAITING_FULL_AT_TARGETS * target_s))
    return PriorityParts(negativity, influence, reach, waiting)


def queue_filter_query(now: datetime, filters: QueueFilter = QueueFilter()) -> dict[str, Any]:
    """The bool query of "in the queue now" (see the module docstring)."""
    return {
        "bool": {
            "filter": [{"term": {"needs_reply": True}}, *filters.clauses()],
            "must_not": [
                {"exists": {"field": "answered_at"}},
                {"term": {"deleted": True}},
                {"terms": {"inbox.status": list(CLOSED_STATUSES)}},
                {"range": {"inbox.snoozed_until": {"gt": now.isoformat()}}},
            ],
        }
    }


def _negativity_decay(field_name: str) -> dict[str, Any]:
    # linear decay: max(0, 1 - |v - (-1)| / (scale / (1 - decay))) = max(0, -v) for v in [-1, 1]
    return {"linear": {field_name: {"origin": -1.0, "scale": 0.5, "decay": 0.5, "offset": 0.0}, "multi_value_mode": "min"}}


def priority_functions(now: datetime, target_s: float, brand: str | None) -> list[dict[str, Any]]:
    """function_score functions whose sum is the priority (module docstring)."""
    full_wait = timedelta(seconds=WAITING_FULL_AT_TARGETS * target_s)
    origin = now - full_wait
    negative_label = {"term": {"brand_label": f"{brand}:negative"}} if brand else {"term": {"brand_sentiment.label": "negative"}}
    no_brand_sentiment = {"bool": {"must_not": {"exists": {"field": "brand_sentiment.score"}}, "filter": {"exists": {"field": "sentiment.score"}}}}
    return [
        {"filter": {"bool": {"filter": [negative_label, {"exists": {"field": "brand_sentiment.score"}}]}},
         "weight": NEGATIVITY_POINTS, **_negativity_decay("brand_sentiment.score")},
        {"filter": no_brand_sentiment, "weight": NEGATIVITY_POINTS, **_negativity_decay("sentiment.score")},
        {"field_value_factor": {"field": "influence", "factor": INFLUENCE_POINTS_PER_UNIT, "missing": 0}},
        {"field_value_factor": {"field": "reach", "modifier": "log1p", "missing": 0}, "weight": REACH_POINTS_PER_DECADE},
        # rising with age: a linear decay centred on "now - 2T" is 0 at age 0 and 1 at age 2T ...
        {"filter": {"range": {"published_at": {"gt": origin.isoformat()}}}, "weight": WAITING_POINTS,
         "linear": {"published_at": {"origin": origin.isoformat(), "scale": f"{int(full_wait.total_seconds() * 500)}ms", "decay": 0.5}}},
        # ... and anything older gets the full points (the decay would fall again on the far side)
        {"filter": {"range": {"published_at": {"lte": origin.isoformat()}}}, "weight": WAITING_POINTS},
    ]


def queue_search_body(now: datetime, target_s: float, filters: QueueFilter, limit: int) -> dict[str, Any]:
    return {
        "query": {"function_score": {
            "query": {"constant_score": {"filter": queue_filter_query(now, filters)}},
            "functions": priority_functions(now, target_s, filters.brand),
            "score_mode": "sum", "boost_mode": "replace",
        }},
        "sort": [{"_score": "desc"}, {"published_at": "asc"}],
        "size": limit,
        "seq_no_primary_term": True,
        "track_total_hits": True,
    }


def target_seconds(settings: Settings, target_minutes: float | None = None) -> float:
    return 60.0 * (target_minutes if target_minutes is not None else settings.reply_target_minutes)


def item_from_hit(hit: dict[str, Any], now: datetime, target_s: float, brand: str | None) -> QueueItem:
    doc = hit["_source"]
    published = parse_time(doc.get("published_at"))
    return QueueItem(
        id=hit["_id"], index=hit["_index"], version=Version(hit["_seq_no"], hit["_primary_term"]), mention=doc,
        priority=float(hit.get("_score") or 0.0), parts=priority_parts(doc, now, target_s, brand),
        waiting_s=max(0.0, (now - published).total_seconds()) if published else 0.0, inbox=doc.get("inbox") or {},
    )


@dataclass
class Queue:
    items: list[QueueItem]
    total: int


def fetch_queue(settings: Settings, filters: QueueFilter = QueueFilter(), *, limit: int = 50, client=None,
                now: datetime | None = None, target_minutes: float | None = None) -> Queue:
    """The ``limit`` most urgent queued mentions (and how many are queued in all)."""
    from streams.sinks.elasticsearch import sync_client

    if not 1 <= limit <= 1000:
        raise InboxError(f"limit {limit} is out of range: give 1 to 1000")
    now = now or datetime.now(timezone.utc)
    target_s = target_seconds(settings, target_minutes)
    own = client is None
    client = client or sync_client(settings)
    try:
        response = client.search(index=settings.es_index_prefix, ignore_unavailable=True, allow_no_indices=True,
                                 **queue_search_body(now, target_s, filters, limit))
    finally:
        if own:
            client.close()
    hits = response["hits"]
    return Queue([item_from_hit(h, now, target_s, filters.brand) for h in hits["hits"]], int(hits["total"]["value"]))


def queue_sizes(settings: Settings, *, client=None, now: datetime | None = None) -> dict[str, int]:
    """Queued mentions per brand (``addressed_to``; a mention addressed to two brands counts for both)."""
    from streams.sinks.elasticsearch import sync_client

    own = client is None
    client = client or sync_client(settings)
    try:
        response = client.search(
            index=settings.es_index_prefix, ignore_unavailable=True, allow_no_indices=True, size=0,
            query=queue_filter_query(now or datetime.now(timezone.utc)),
            aggs={"brands": {"terms": {"field": "addressed_to", "size": 10_000}}},
        )
    finally:
        if own:
            client.close()
    buckets = response.get("aggregations", {}).get("brands", {}).get("buckets", [])
    return {b["key"]: int(b["doc_count"]) for b in buckets}


@dataclass
class InboxSummary:
    """For `lytter status` and the metrics: how many wait, per brand, how many are past the target."""

    total: int
    per_brand: dict[str, int]
    overdue: int
    oldest_wait_s: float | None
    target_minutes: float

    def status_line(self) -> str:
        if not self.total:
            return "inbox: nobody waiting for a reply"
        brands = ", ".join(f"{brand} {count}" for brand, count in sorted(self.per_brand.items(), key=lambda kv: (-kv[1], kv[0])))
        oldest = f", oldest {self.oldest_wait_s / 60:.0f} min" if self.oldest_wait_s is not None else ""
        return (f"inbox: {self.total} waiting for a reply ({brands}); {self.overdue} past the "
                f"{self.target_minutes:g}-minute target{oldest}")


def inbox_summary(settings: Settings, *, client=None, now: datetime | None = None) -> InboxSummary:
    """One aggregation: queued mentions in all, per brand, past the reply target, and the oldest wait."""
    from streams.sinks.elasticsearch import sync_client

    now = now or datetime.now(timezone.utc)
    due_before = now - timedelta(seconds=target_seconds(settings))
    own = client is None
    client = client or sync_client(settings)
    try:
        response = client.search(
            index=settings.es_index_prefix, ignore_unavailable=True, allow_no_indices=True, size=0, track_total_hits=True,
            query=queue_filter_query(now),
            aggs={"brands": {"terms": {"field": "addressed_to", "size": 10_000}},
                  "overdue": {"filter": {"range": {"published_at": {"lt": due_before.isoformat()}}}},
                  "oldest": {"min": {"field": "published_at"}}},
        )
    finally:
        if own:
            client.close()
    aggs = response.get("aggregations", {})
    oldest_ms = (aggs.get("oldest") or {}).get("value")
    return InboxSummary(
        total=int(response["hits"]["total"]["value"]),
        per_brand={b["key"]: int(b["doc_count"]) for b in aggs.get("brands", {}).get("buckets", [])},
        overdue=int((aggs.get("overdue") or {}).get("doc_count", 0)),
        oldest_wait_s=max(0.0, now.timestamp() - oldest_ms / 1000) if oldest_ms is not None else None,
        target_minutes=settings.reply_target_minutes,
    )
