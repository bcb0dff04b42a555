"""CPU accounting for the bench: /proc parsing, the per-mention budget and its ceiling."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from streams.bench.cpu import CpuBudget, CpuMeter, budget_rows, cpu_seconds_from_stat, process_cpu_seconds

# /proc/<pid>/stat of a process whose name holds a space and a parenthesis; utime 250, stime 50 ticks
STAT = "4242 (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 10 18446744073709551615"


def test_stat_fields_are_counted_from_the_last_parenthesis():
    assert cpu_seconds_from_stat(STAT, 100) == pytest.approx(3.0)
    assert cpu_seconds_from_stat(STAT, 250) == pytest.approx(1.2)


def test_budget_per_mention_total_utilisation_and_ceiling():
    budget = CpuBudget(mentions=1000, seconds=4.0, cores=2, spent={"worker": 3.0, "elasticsearch": 1.0})
    assert budget.per_mention_ms("worker") == pytest.approx(3.0)
    assert budget.per_mention_ms("kafka") == 0.0  # a part that was not measured costs nothing
    assert budget.total_ms == pytest.approx(4.0)
    assert budget.utilisation == pytest.approx(0.5)  # 4 CPU seconds of 8 available
    assert budget.ceiling == pytest.approx(500.0)  # 2 cores / 4 ms per mention


def test_rows_compare_model_on_with_off():
    on = CpuBudget(1000, 4.0, 2, {"worker": 3.0, "kafka": 1.0})
    off = CpuBudget(1000, 1.0, 2, {"worker": 1.0, "kafka": 1.0})
    rows = {row[0]: row for row in budget_rows(("worker", "kafka"), on, off)}
    assert rows["CPU ms per mention: worker"][1:] == ("3.00", "1.00 (model off)", "3.00x")
    assert rows["CPU ms per mention: all parts"][3] == "2.00x"
    assert rows["ceiling mentions/s (2 cores / CPU per mention)"][1:3] == ("500", "1,000 (model off)")


def test_meter_budget_of_a_busy_process():
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        meter = CpuMeter(pids={"child": child.pid}, groups={"group": child.pid})
        meter.start()
        time.sleep(1.0)
        budget = meter.stop(mentions=100, seconds=1.0, cores=2)
    finally:
        child.kill()
        child.wait()
    assert budget.spent["child"] > 0.3  # a spinning process burns most of a core
    assert budget.spent["group"] == pytest.approx(budget.spent["child"], abs=0.1)
    assert budget.per_mention_ms("child") == pytest.approx(budget.spent["child"] * 10)
    assert process_cpu_seconds(child.pid) is None  # gone: no reading rather than an error


def test_unknown_pids_are_left_out():
    meter = CpuMeter(pids={"not started": None}, groups={"no service": None})
    assert meter.pids == {} and meter.groups == {}
    meter.start()
    assert meter.stop(mentions=10, seconds=1.0).spent == {}
