"""Batches in flight: overlapping work, acknowledgements in order, errors surfaced, nothing acked after a failure."""

from __future__ import annotations

import asyncio

import pytest

from streams.worker.inflight import BatchesInFlight


class Recorder:
    def __init__(self) -> None:
        self.finished: list[int] = []
        self.running = 0
        self.most_running = 0

    def work(self, n: int, seconds: float, fail: bool = False):
        async def run() -> int:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            try:
                await asyncio.sleep(seconds)
                if fail:
                    raise RuntimeError(f"batch {n} failed")
                return n
            finally:
                self.running -= 1

        return run

    async def finish(self, n: int) -> None:
        self.finished.append(n)


def test_finishes_in_order_when_a_later_batch_is_done_first():
    async def main() -> Recorder:
        rec = Recorder()
        flight = BatchesInFlight(2)
        await flight.start(rec.work(1, 0.05), rec.finish)
        await flight.start(rec.work(2, 0.0), rec.finish)  # done long before batch 1
        await flight.start(rec.work(3, 0.0), rec.finish)
        while flight.busy:
            await asyncio.sleep(0.01)
        return rec

    rec = asyncio.run(main())
    assert rec.finished == [1, 2, 3]
    assert rec.most_running == 2  # two at once, never more


def test_one_in_flight_is_one_at_a_time():
    async def main() -> Recorder:
        rec = Recorder()
        flight = BatchesInFlight(1)
        for n in range(1, 4):
            await flight.start(rec.work(n, 0.01), rec.finish)
            assert rec.finished == list(range(1, n + 1))  # start returns only when the batch is finished
        return rec

    assert asyncio.run(main()).most_running == 1


def test_a_failure_surfaces_and_nothing_after_it_is_finished():
    async def main() -> tuple[Recorder, BaseException]:
        rec = Recorder()
        flight = BatchesInFlight(2)
        await flight.start(rec.work(1, 0.02, fail=True), rec.finish)
        with pytest.raises(RuntimeError, match="batch 1 failed") as raised:
            await flight.start(rec.work(2, 0.0), rec.finish)  # the caller now waits for batch 1: it raises
        await asyncio.sleep(0.05)
        return rec, raised.value

    rec, _ = asyncio.run(main())
    assert rec.finished == []  # batch 2 waited for batch 1 to finish, which failed: not acknowledged


def test_finish_runs_without_the_caller_taking_another_batch():
    # the agent may sit in Faust's take (a paused stream yields nothing); the batch must still be acked
    async def main() -> Recorder:
        rec = Recorder()
        flight = BatchesInFlight(2)
        await flight.start(rec.work(1, 0.01), rec.finish)
        await asyncio.sleep(0.1)  # the caller does not come back
        assert not flight.busy
        return rec

    assert asyncio.run(main()).finished == [1]


def test_cancel_stops_batches_in_flight_and_reports_idle():
    async def main() -> tuple[Recorder, list[bool]]:
        rec, idle = Recorder(), []
        flight = BatchesInFlight(3, on_idle=lambda: idle.append(True))
        await flight.start(rec.work(1, 10.0), rec.finish)
        await flight.start(rec.work(2, 10.0), rec.finish)
        assert flight.busy
        flight.cancel()
        await asyncio.sleep(0.01)
        return rec, idle

    rec, idle = asyncio.run(main())
    assert rec.finished == [] and idle == [True]


def test_limit_is_checked():
    with pytest.raises(ValueError, match="LYTTER_WORKER_BATCHES_IN_FLIGHT"):
        BatchesInFlight(0)
