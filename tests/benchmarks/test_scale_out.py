"""benchmarks/scale_out.py's pure half: its arguments and the per-run figures it prints."""

from __future__ import annotations

import pytest

from benchmarks.scale_out import ScaleRun, parse_args


def test_worker_counts_are_parsed_and_checked_against_the_partitions():
    assert parse_args(["--workers", "1,2,3", "--partitions", "6"]).workers == [1, 2, 3]
    for bad in (["--workers", "1,x"], ["--workers", "0"], ["--workers", "4", "--partitions", "3"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_a_run_reports_rate_cost_per_part_busy_cores_and_the_ceiling():
    run = ScaleRun(
        workers=2, mentions=1000, seconds=10.0, indexed=1000, machine_busy=30.0, metered=20.0, cores=2,
        spent={"worker 1": 3.0, "worker 2": 2.0, "elasticsearch": 2.0, "kafka": 0.5, "publisher": 0.5},
    )
    assert run.rate == 100.0
    assert run.ms_per_mention("worker") == pytest.approx(5.0)  # both worker processes together
    assert run.total_ms == pytest.approx(8.0)
    text = "\n".join(run.lines())
    assert "100 mentions/s" in text and "3.0, 2.0" in text
    assert "cores busy: 75% of 2 over 20 s (these parts 20%, other processes 55%)" in text
    assert "ceiling here 250 mentions/s (2 cores / 8.00 ms)" in text


def test_a_miss_prints_no_figure():
    run = ScaleRun(workers=3, mentions=1000, seconds=None, indexed=640, machine_busy=0.0, metered=0.0, cores=2, spent={})
    assert run.rate is None and run.lines() == ["3 worker(s): MISS 640/1,000 indexed"]
