"""The bench's arithmetic: the order of the runs, median (min-max), misses and ratios."""

from __future__ import annotations

import math

import pytest

from streams.bench.stats import Summary, miss_text, percentile, ratio, run_order


def test_two_sides_alternate_abba_so_neither_always_runs_first():
    assert run_order(1) == ["off", "on"]
    assert run_order(2) == ["off", "on", "on", "off"]
    assert run_order(3) == ["off", "on", "on", "off", "off", "on"]


def test_every_side_runs_repeats_times_and_three_sides_rotate():
    order = run_order(3, ("a", "b", "c"))
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {side: order.count(side) for side in "abc"} == {"a": 3, "b": 3, "c": 3}
    assert [order[i * 3] for i in range(3)] == ["a", "b", "c"]  # each side leads one round


def test_repeats_below_one_are_refused():
    with pytest.raises(ValueError):
        run_order(0)


def test_median_and_spread_are_printed_together():
    assert Summary.of([1200.0, 1000.0, 1100.0]).text() == "1,100 (1,000-1,200)"
    assert Summary.of([1000.0, 1300.0]).text() == "1,150 (1,000-1,300)"  # the median of two is their mean
    assert Summary.of([2.5, 3.25]).text(lambda v: f"{v:.2f}") == "2.88 (2.50-3.25)"


def test_a_miss_is_printed_as_a_miss_never_as_a_figure():
    assert miss_text(9500, 10_000) == "MISS 9,500/10,000"
    only_missed = Summary.of([], [miss_text(9500, 10_000)])
    assert only_missed.text() == "MISS 9,500/10,000"
    assert not only_missed.complete and math.isnan(only_missed.median)
    partly = Summary.of([1000.0], [miss_text(10, 20)])
    assert partly.text() == "1,000 (1,000-1,000); MISS 10/20"
    assert Summary().text() == "-"


def test_a_ratio_needs_every_run_of_both_sides_complete():
    on, off = Summary.of([500.0, 700.0]), Summary.of([1000.0, 1200.0])
    assert ratio(on, off) == "0.55x"
    assert ratio(on, off, digits=1) == "0.5x"
    assert ratio(Summary.of([500.0], ["MISS 1/2"]), off) == "-"
    assert ratio(on, Summary.of([], ["MISS 1/2"])) == "-"
    assert ratio(on, Summary.of([0.0])) == "-"


def test_percentile_by_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 51
    assert percentile(values, 0.99) == 99
    assert math.isnan(percentile([], 0.5))
