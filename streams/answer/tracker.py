"""The reply tracker: which mentions wait for a brand's answer, and when an owned account answered.

:meth:`ReplyTracker.observe` runs on each batch *before* the worker writes the documents. It sets on
every mention ``owned_by``, ``addressed_to``, ``needs_reply``, ``reply_due_at`` and, when its answer is
known already, ``answered_at`` / ``answered_by`` / ``response_time_s``; it returns a
:class:`TrackerOutcome` with partial updates for mentions written earlier that are answered now, and the
``due`` / ``closed`` events of :class:`~streams.answer.unanswered.UnansweredWatch`.

**Answers.** A post by an owned account of brand B answers the item its ``parent_id`` names when that
item needed a reply from B. When it did not (B's own earlier reply, or a reply that needed none), the
tracker walks on up the thread, at most :data:`MAX_WALK` items. ``answered_at`` is the reply's
``published_at``, ``response_time_s`` the time since the question (never below 0). The earliest answer
wins: a reply published earlier but seen later replaces the first one found.

**Out of order.** A reply whose parent is not known yet waits in the store under the parent's id; when
the parent arrives, the waiting reply is applied to it (and the walk goes on from there).

**Threads.** A mention whose parent was written by brand B, or lies in a thread B owns, is in B's
thread: it is addressed to B. Thread ownership is known only from parents seen before (a reply that
arrives before its thread's root is not counted as in the thread).

**Replays and restarts.** All state is in ``store`` (JSON values; a changelog-backed table in
production), so a new tracker over the same store carries on. A mention seen before keeps its first
classification (an edit or a new intent model does not move it in or out of the queue; a deletion
does take it out), and an answer already recorded emits nothing again: observing the same batch twice
changes nothing in the store and raises no event again; only the answer's partial update is emitted
again when its owned reply is replayed, so a crash between this store's write and Elasticsearch's loses
nothing (the update is idempotent).

**Bounded.** Only relevant mentions are stored: by an owned account, addressed to a brand, replying to a
stored mention, or awaited by a reply. :meth:`ReplyTracker.prune` drops entries first seen more than
``ttl_s`` (default 14 days) ago: a question unanswered for two weeks leaves the queue, and a reply
arriving after that no longer finds its question. Call it from a timer (it scans the store), e.g. hourly.

Store keys: ``m:<mention id>`` a tracked mention, ``w:<mention id>`` replies waiting for that mention;
:mod:`streams.answer.unanswered` keeps its incidents under ``u:<brand>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from streams.alerting.mentions import MentionInfo, TopMention
from streams.answer.needs_reply import addressed_brands, needs_reply, owned_by
from streams.answer.severity import waiting_severity
from streams.schema import EnrichedMention
from streams.watch.file import Watch

__all__ = ["DEFAULT_TTL_S", "MAX_WALK", "ClosedEvent", "DueEvent", "ReplyTracker", "TrackerOutcome", "answered_fields"]

DEFAULT_TTL_S = 14 * 86_400
#: Items walked up a thread from an owned reply to the question it answers.
MAX_WALK = 5
MENTION, WAITING = "m:", "w:"


@dataclass(frozen=True)
class DueEvent:
    """A mention now waits for ``brand``'s answer until ``due_at`` (epoch seconds)."""

    mention_id: str
    brand: str
    due_at: float
    severity: str


@dataclass(frozen=True)
class ClosedEvent:
    """A mention no longer waits for ``brand``: ``answered``, ``handled`` or ``deleted``."""

    mention_id: str
    brand: str
    reason: str


@dataclass
class TrackerOutcome:
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # mention id -> partial update
    first_answers: dict[str, float] = field(default_factory=dict)  # mention id -> response time, once per answer (metrics)
    due: list[DueEvent] = field(default_factory=list)
    closed: list[ClosedEvent] = field(default_factory=list)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def first_answer(record: dict[str, Any]) -> dict[str, Any] | None:
    answers = list((record.get("ans") or {}).values())
    return min(answers, key=lambda a: a["at"]) if answers else None


def answered_fields(record: dict[str, Any]) -> dict[str, Any] | None:
    """The partial document update of an answered mention (JSON values), or None while unanswered."""
    answer = first_answer(record)
    if answer is None:
        return None
    return {
        "answered_at": _dt(answer["at"]).isoformat(),
        "answered_by": answer["by"],
        "response_time_s": round(max(0.0, answer["at"] - record["t"]), 3),
        "answered_within_target": within_target(record, answer),
    }


def within_target(record: dict[str, Any], answer: dict[str, Any]) -> bool:
    """Whether the answer came by its brand's reply target (the target of that brand, source and severity)."""
    brand = next((b for b, a in (record.get("ans") or {}).items() if a is answer or a == answer), None)
    due = (record.get("due") or {}).get(brand)
    return due is None or answer["at"] <= due


def apply_record(enriched: EnrichedMention, record: dict[str, Any] | None) -> None:
    """Set the answer-loop fields of ``enriched`` from its stored record (or the defaults)."""
    record = record or {}
    enriched.owned_by = record.get("owner")
    enriched.addressed_to = list(record.get("to") or [])
    enriched.needs_reply = bool(record.get("needs"))
    due = record.get("due") or {}
    enriched.reply_due_at = _dt(min(due.values())) if due and enriched.needs_reply else None
    answer = first_answer(record)
    if answer is not None:
        enriched.answered_at = _dt(answer["at"])
        enriched.answered_by = answer["by"]
        enriched.response_time_s = round(max(0.0, answer["at"] - record["t"]), 3)
        enriched.answered_within_target = within_target(record, answer)


class ReplyTracker:
    def __init__(
        self,
        store: MutableMapping[str, dict],
        watch_source: Callable[[], Watch],
        clock: Callable[[], float] = time.time,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        default_target_minutes: float | None = None,
    ) -> None:
        self.store = store
        self.watch_source = watch_source
        self.clock = clock
        self.ttl_s = ttl_s
        self.default_target_minutes = default_target_minutes
        self._fresh: set[str] = set()

    def observe(self, batch: list[EnrichedMention]) -> TrackerOutcome:
        """Classify and match the batch (see the module docstring); sets fields on its mentions."""
        watch = self.watch_source()
        outcome = TrackerOutcome()
        in_batch = {e.mention.id: e for e in batch}
        self._fresh = set()  # first stored by this call: no due announced, so no close either
        for enriched in batch:
            self._observe_one(enriched, watch, in_batch, outcome)
        for enriched in batch:  # answers found later in the batch, for mentions earlier in it
            apply_record(enriched, self.store.get(MENTION + enriched.mention.id))
        outcome.due = [d for d in outcome.due if d.brand not in self.store[MENTION + d.mention_id]["ans"]]
        return outcome

    def _observe_one(self, enriched: EnrichedMention, watch: Watch, in_batch: dict, outcome: TrackerOutcome) -> None:
        mention_id = enriched.mention.id
        record = self.store.get(MENTION + mention_id)
        if record is not None:
            if enriched.deleted_at is not None and not record.get("deleted"):
                self._forget_content(mention_id, record, "deleted", outcome)
            elif record.get("owner") is not None and record.get("parent"):
                # a replayed owned reply: its answer's update is sent again (idempotent), since a crash
                # may have come between this store's write and Elasticsearch's
                reply = {"id": mention_id, "brand": record["owner"], "by": enriched.mention.author.handle if enriched.mention.author else record["owner"], "at": record["t"]}
                self._answer_up(reply, record["parent"], 0, in_batch, outcome)
            return
        record = self._classify(enriched, watch)
        if record is None:
            return
        self.store[MENTION + mention_id] = record
        self._fresh.add(mention_id)
        waiting = self.store.pop(WAITING + mention_id, None)
        for reply in (waiting or {}).get("replies", []):
            self._answer_up(reply, mention_id, reply["hops"], in_batch, outcome)
        record = self.store[MENTION + mention_id]
        outcome.due += [DueEvent(mention_id, b, due, record["sev"][b]) for b, due in record["due"].items() if b not in record["ans"]]
        author = enriched.mention.author
        if record["owner"] is not None and enriched.mention.parent_id and author is not None:
            reply = {"id": mention_id, "brand": record["owner"], "by": author.handle, "at": record["t"]}
            self._answer_up(reply, enriched.mention.parent_id, 0, in_batch, outcome)

    def _classify(self, enriched: EnrichedMention, watch: Watch) -> dict[str, Any] | None:
        """The record to store for a mention seen the first time; None when it is irrelevant."""
        mention = enriched.mention
        owner = owned_by(enriched, watch)
        parent = self.store.get(MENTION + mention.parent_id) if mention.parent_id else None
        thread = (parent.get("thread") or parent.get("owner")) if parent else None
        addressed = addressed_brands(enriched, watch, thread)
        if owner is None and not addressed and parent is None and (WAITING + mention.id) not in self.store:
            return None
        needs = needs_reply(enriched, addressed, owner)
        published = mention.published_at.timestamp()
        severity = {b: waiting_severity(enriched, b) for b in addressed} if needs else {}
        due = {
            b: published + 60.0 * watch.reply_target(b, mention.source, severity[b], self.default_target_minutes)
            for b in severity
        }
        record: dict[str, Any] = {
            "t": published, "seen": self.clock(), "src": mention.source, "parent": mention.parent_id,
            "owner": owner, "thread": thread, "to": addressed, "needs": needs,
            "due": due, "sev": severity, "ans": {},
        }
        if needs:  # the alert's evidence; removed again when the mention is deleted
            record["top"] = TopMention.of(MentionInfo.from_enriched(enriched, addressed[0])).to_dict()
        return record

    def _answer_up(self, reply: dict, parent_id: str | None, hops: int, in_batch: dict, outcome: TrackerOutcome) -> None:
        """Apply an owned ``reply`` to ``parent_id``, walking up through items that needed no answer."""
        brand = reply["brand"]
        while parent_id and hops < MAX_WALK:
            parent = self.store.get(MENTION + parent_id)
            if parent is None:
                self._wait_for(parent_id, {**reply, "hops": hops})
                return
            if brand in parent["due"]:
                self._mark_answered(parent_id, parent, reply, in_batch, outcome)
                return
            if parent.get("owner") != brand and parent.get("needs"):
                return  # a question for another brand: this reply is not its answer
            parent_id, hops = parent.get("parent"), hops + 1

    def _wait_for(self, parent_id: str, reply: dict) -> None:
        waiting = self.store.get(WAITING + parent_id) or {"seen": self.clock(), "replies": []}
        if any(r["id"] == reply["id"] for r in waiting["replies"]):
            return  # a replay of a reply that waits already
        waiting["replies"].append(reply)
        self.store[WAITING + parent_id] = waiting

    def _mark_answered(self, mention_id: str, record: dict, reply: dict, in_batch: dict, outcome: TrackerOutcome) -> None:
        brand = reply["brand"]
        previous = record["ans"].get(brand)
        if previous is not None and previous["at"] <= reply["at"]:
            if previous["id"] == reply["id"] and mention_id not in in_batch:
                outcome.answered[mention_id] = answered_fields(record)  # the replay of this answer: re-sent
            return  # answered already, as early or earlier: a replay or a second answer
        before = answered_fields(record)
        record["ans"][brand] = {"at": reply["at"], "by": reply["by"], "id": reply["id"]}
        if previous is None:
            outcome.first_answers[mention_id] = round(max(0.0, reply["at"] - record["t"]), 3)
        self.store[MENTION + mention_id] = record
        if previous is None and mention_id not in self._fresh:
            outcome.closed.append(ClosedEvent(mention_id, brand, "answered"))
        fields = answered_fields(record)
        if mention_id not in in_batch and fields != before:
            outcome.answered[mention_id] = fields

    def _forget_content(self, mention_id: str, record: dict, reason: str, outcome: TrackerOutcome) -> None:
        """Take a mention out of the alert (deleted or handled). A deletion also leaves the queue and
        drops the snippet; a handled mention keeps its deadline, so a later owned reply still counts."""
        for brand in record["due"]:
            if brand not in record["ans"]:
                outcome.closed.append(ClosedEvent(mention_id, brand, reason))
        record[reason] = True
        if reason == "deleted":
            record.update(needs=False, due={}, sev={})
            record.pop("top", None)
        self.store[MENTION + mention_id] = record

    def mark_handled(self, mention_id: str) -> TrackerOutcome:
        """The team dealt with a mention without an owned reply (answered by phone, not worth an
        answer): it leaves the queue and closes its place in the unanswered alert."""
        outcome = TrackerOutcome()
        record = self.store.get(MENTION + mention_id)
        if record is not None and record.get("needs") and not record.get("handled"):
            self._forget_content(mention_id, record, "handled", outcome)
        return outcome

    def prune(self, now: float | None = None) -> int:
        """Drop entries first seen more than ``ttl_s`` ago; the number dropped."""
        cutoff = (self.clock() if now is None else now) - self.ttl_s
        old = [key for key, value in list(self.store.items()) if key[:2] in (MENTION, WAITING) and value.get("seen", 0.0) < cutoff]
        for key in old:
            del self.store[key]
        return len(old)
