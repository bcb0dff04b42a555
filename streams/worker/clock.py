"""The worker's wall-clock jobs, run by one Faust timer: what must happen when *nothing* arrives.

* unanswered alerts: a mention that needs a reply and is still unanswered when its target passes
  (streams/worker/answers.py);
* incidents of brands that went quiet are closed (streams/worker/alerts.py ``QuietIncidents``);
* the scheduled digest (streams/digest/schedule.py), built off the event loop;
* the reply-queue gauge (Prometheus) from the tracker.

Nothing runs before the tables are recovered: the jobs read the state the stream stages keep.
A failing job is logged and tried again on the next tick; it never stops the timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from streams.settings import Settings

log = logging.getLogger("lytter.worker")

__all__ = ["WallClockJobs"]

#: Seconds between two updates of the reply-queue gauge (an Elasticsearch aggregation).
QUEUE_GAUGE_EVERY_S = 30.0


class WallClockJobs:
    def __init__(self, settings: Settings, stages: Any, *, recovered: Callable[[], bool], clock: Callable[[], float] = time.time) -> None:
        self.stages = stages
        self.recovered = recovered
        self.clock = clock
        self.digest = None
        if settings.digest_schedule:
            from streams.digest.schedule import DigestScheduler

            self.digest = DigestScheduler(settings)  # a bad schedule fails the start, with the setting named
        self._tasks: set[asyncio.Task] = set()
        self.settings = settings
        self._queue_at = 0.0
        self._gauge_brands: set[str] = set()

    async def tick(self) -> None:
        if not self.recovered():
            return
        now = self.clock()
        for name, job in (("unanswered alerts", self.stages.answers.tick), ("quiet incidents", self.stages.quiet.tick)):
            try:
                await job(now)
            except Exception:  # noqa: BLE001 - one failed tick is retried on the next; the timer must live
                log.exception("wall-clock job %s failed; retrying on the next tick", name)
        if now - self._queue_at >= QUEUE_GAUGE_EVERY_S:
            self._queue_at = now
            self._spawn(asyncio.get_running_loop().run_in_executor(None, self._set_queue_gauge))
        if self.digest is not None:
            moment = datetime.fromtimestamp(now, tz=timezone.utc)
            if self.digest.due(moment):
                self._spawn(self.digest.run_due(moment))

    def _spawn(self, awaitable) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)  # held until done: a task nobody references may be collected mid-run
        task.add_done_callback(self._tasks.discard)

    def _set_queue_gauge(self) -> None:
        """The reply queue per brand, from Elasticsearch (one aggregation; off the event loop)."""
        from streams.inbox.queue import queue_sizes
        from streams.worker import metrics

        try:
            sizes = queue_sizes(self.settings)
        except Exception as exc:  # noqa: BLE001 - a gauge left as it was until the next try
            log.debug("reply queue gauge not updated: %r", exc)
            return
        for brand in set(self._gauge_brands) - set(sizes):
            metrics.reply_queue.labels(brand=brand).set(0)
        for brand, size in sizes.items():
            metrics.reply_queue.labels(brand=brand).set(size)
        self._gauge_brands = set(sizes) | set(self._gauge_brands)
