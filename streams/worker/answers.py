"""The answer loop in the worker: who waits for a brand's reply, the reply, and the unanswered alert.

In the influence stage, before the one write of each document, :class:`AnswerLoop` classifies the batch
(``ReplyTracker.observe``: owned_by, addressed_to, needs_reply, reply_due_at and, when the answer is
known, answered_*). After the write it sends the partial updates of mentions written earlier that are
answered now, and hands the deadlines to the :class:`~streams.answer.unanswered.UnansweredWatch`.

The worker's wall-clock timer calls :meth:`AnswerLoop.tick`: the unanswered alerts whose target passed
(and their closes) go to the alerts topic like every other alert; quiet brands' incidents are closed.

Crash safety: a replayed owned reply re-sends its answer's partial update (the tracker re-emits it), so
a kill between the tracker's state and Elasticsearch loses nothing; the update is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

from streams.alerting.incidents import AlertAction
from streams.answer.tracker import ReplyTracker, TrackerOutcome
from streams.answer.unanswered import UnansweredWatch
from streams.schema import EnrichedMention
from streams.sinks.kafka import KeyedSink
from streams.worker import metrics
from streams.worker.alerts import action_record

log = logging.getLogger("lytter.worker")

__all__ = ["AnswerLoop"]

#: Waiting mentions checked against the team's inbox actions per tick (one Elasticsearch query).
MAX_SETTLED_CHECK = 500
#: Seconds between two prunes of the tracker's store (it scans the store).
PRUNE_EVERY_S = 3600.0


class AnswerLoop:
    def __init__(self, store: MutableMapping[str, dict], watch_source: Callable[[], Any], *, index: Any, alerts: KeyedSink,
                 clock: Callable[[], float], default_target_minutes: float) -> None:
        self.store = store
        self.watch_source = watch_source
        self.index = index
        self.alerts = alerts
        self.clock = clock
        self.default_target_minutes = default_target_minutes
        self._tracker: ReplyTracker | None = None
        self._watch: UnansweredWatch | None = None
        self._last_prune = 0.0
        self.lock = asyncio.Lock()  # the timer and the stage both move the unanswered incidents

    def _ready(self) -> tuple[ReplyTracker, UnansweredWatch]:
        # built on first use: by then the table is restored, and the heap is rebuilt from it
        if self._tracker is None or self._watch is None:
            self._tracker = ReplyTracker(self.store, self.watch_source, self.clock, default_target_minutes=self.default_target_minutes)
            self._watch = UnansweredWatch(self.store)
            self._last_prune = self.clock()
        return self._tracker, self._watch

    def observe(self, batch: list[EnrichedMention]) -> TrackerOutcome:
        tracker, _ = self._ready()
        return tracker.observe(batch)

    async def after_write(self, outcome: TrackerOutcome) -> None:
        """The answered updates of earlier mentions, then the deadlines (after the documents exist)."""
        if outcome.answered:
            await self.index.update_fields([{"id": mention_id, **fields} for mention_id, fields in outcome.answered.items()])
        for seconds in outcome.first_answers.values():  # once per answer: replays re-send updates, not metrics
            metrics.response_time_seconds.observe(seconds)
        async with self.lock:
            self._ready()[1].track(outcome)

    async def _take_in_the_teams_actions(self, tracker: ReplyTracker, watch: UnansweredWatch) -> None:
        """Mentions of an open unanswered alert that the team settled in the inbox leave the alert."""
        waiting = watch.waiting_ids()  # each tick: no scan of the whole store
        settled = getattr(self.index, "settled_by_the_team", None)
        if not waiting or settled is None:
            return
        for mention_id in await settled(waiting[:MAX_SETTLED_CHECK]):
            outcome = tracker.mark_handled(mention_id)
            async with self.lock:
                watch.track(outcome)

    async def tick(self, now: float) -> list[AlertAction]:
        """Unanswered alerts due at ``now``, sent to the alerts topic (acknowledged) before returning."""
        tracker, watch = self._ready()
        await self._take_in_the_teams_actions(tracker, watch)
        async with self.lock:
            actions = watch.tick(now)
            if actions:
                await self.alerts.send([action_record(a) for a in actions])
        for action in actions:
            metrics.alerts.labels(action=action.kind, rule=action.alert.rule).inc()
            log.warning("alert %s: %s", action.kind, action.alert.title)
        if now - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = now
            dropped = tracker.prune(now)
            if dropped:
                log.info("answer loop: pruned %d old entries", dropped)
        return actions
