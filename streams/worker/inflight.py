"""Several batches in flight, finished in the order they were taken.

The enrich agent scores a batch in a thread while the event loop indexes the batch before and takes the
next. Each batch runs ``work`` (validate, enrich, index) as soon as it is started and ``finish``
(acknowledge its records, count it) only after the batch before it finished: acknowledgements stay in
order, and a batch whose predecessor failed is never acknowledged. ``finish`` runs in the batch's own
task, so no acknowledgement waits for the agent to take another batch (Faust's ``take`` yields nothing
while the stream is paused for a rebalance, and the rebalance waits for those acknowledgements).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchesInFlight:
    def __init__(self, limit: int, on_idle: Callable[[], None] | None = None) -> None:
        if limit < 1:
            raise ValueError(f"batches in flight must be at least 1, not {limit} (setting LYTTER_WORKER_BATCHES_IN_FLIGHT)")
        self.limit = limit
        self._tasks: deque[asyncio.Task] = deque()
        self._running = 0
        self._on_idle = on_idle  # called when the last batch in flight is done (the stall check's "busy")

    @property
    def busy(self) -> bool:
        """Whether a batch is being worked on or waits to finish."""
        return self._running > 0

    async def start(self, work: Callable[[], Awaitable[T]], finish: Callable[[T], Awaitable[None]]) -> None:
        """Start a batch; returns once fewer than ``limit`` batches are in flight.

        An error of a batch is raised here, when the caller next has to wait for that batch (as a
        one-at-a-time loop would have raised it), and logged at once.
        """
        before = self._tasks[-1] if self._tasks else None
        task = asyncio.ensure_future(self._run(work, finish, before))
        self._running += 1  # counted from here: a task cancelled before it ran still ends in _done
        task.add_done_callback(self._done)
        self._tasks.append(task)
        while len(self._tasks) >= self.limit:
            await self._tasks.popleft()

    def cancel(self) -> None:
        """Stop the batches in flight (shutdown, rebalance): their records were not acknowledged."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    @staticmethod
    async def _run(work: Callable[[], Awaitable[T]], finish: Callable[[T], Awaitable[None]], before: asyncio.Task | None) -> None:
        result = await work()
        if before is not None:
            await before  # in order; a failed batch before this one fails this one too
        await finish(result)

    def _done(self, task: asyncio.Task) -> None:
        self._running -= 1
        if self._running == 0 and self._on_idle is not None:
            self._on_idle()
        if not task.cancelled() and task.exception() is not None:
            log.error("a batch failed; its records stay unacknowledged and are read again: %r", task.exception())
