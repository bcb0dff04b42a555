"""Per-brand window state: 1-minute windows, the bias-corrected baseline, quiet minutes, round trips."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from streams.alerting.mentions import TopMention
from streams.alerting.windows import Baseline, WindowCounts, roll_window, window_start
from tests.streams.alerting.traffic import CONFIG, T0, baseline_with, info


# --------------------------------------------------------------------------------------------------
# Windows and baselines


def test_window_counts_and_top_mentions():
    w = WindowCounts.open(T0 + 12.5)
    assert w.start == T0 and w.end == T0 + 60 and w.contains(T0 + 59.9) and not w.contains(T0 + 60)
    impacts = [5, -80, 20, -3, 60, 1, -70, 2, 9, 10, 11, -40]
    for i, imp in enumerate(impacts):
        label = "negative" if imp < 0 else "positive"
        w = w.add(info(i, label=label, impact=float(imp)), now=T0 + i, max_top=5)
    w = w.add(info("x", label=None, impact=None), now=T0 + 30, max_top=5)
    assert w.volume == 13 and w.negative == 4 and w.positive == 8 and w.neutral == 0 and w.labelled == 12
    assert w.negative_share == pytest.approx(4 / 12)
    assert w.first_at == T0 and w.last_at == T0 + 30
    assert [t.impact for t in w.top] == [-80, -70, 60, -40, 20]
    assert w.reach_sum == pytest.approx(1300.0)
    assert w.top[0].url == "https://example.org/1" and w.top[0].text == "Lego er fint"


def test_baseline_is_bias_corrected_mean():
    b = baseline_with([7])
    assert b.volume_per_minute == pytest.approx(7.0) and b.windows == 1
    b = baseline_with([4] * 100)
    assert b.volume_per_minute == pytest.approx(4.0)
    # recent minutes weigh more: after a level shift the estimate moves towards the new level
    b = baseline_with([2] * 120 + [10] * 60)
    assert 6.0 < b.volume_per_minute < 10.0  # 60 minutes = one half-life: about halfway


def test_quiet_minutes_after_a_gap_equal_explicit_empty_windows():
    explicit = baseline_with([5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 3], negative=[1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    b = baseline_with([5, 5, 5], negative=[1, 1, 1])
    b = b.absorb(WindowCounts(start=T0 + 600, volume=3, negative=2, neutral=1))  # 7 quiet minutes in between
    assert b.windows == explicit.windows == 11
    assert b.volume_per_minute == pytest.approx(explicit.volume_per_minute, rel=1e-12)
    assert b.weight == pytest.approx(explicit.weight, rel=1e-12)
    assert b.negative_share == pytest.approx(explicit.negative_share, rel=1e-12)
    assert b.last_start == T0 + 600


def test_catch_up_and_idempotent_absorb():
    b = baseline_with([6] * 10)
    assert Baseline().catch_up(T0 + 10_000) == Baseline()  # no history: nothing to decay
    caught = b.catch_up(T0 + 10 * 60 + 30)  # in the minute right after the last absorbed one: nothing missing
    assert caught == b
    caught = b.catch_up(T0 + 15 * 60 + 30)  # minutes 10..14 were quiet
    assert caught.windows == 15 and caught.last_start == T0 + 14 * 60
    assert caught.volume_per_minute == pytest.approx(baseline_with([6] * 10 + [0] * 5).volume_per_minute)
    # absorbing the same (or an older) window again changes nothing
    last = WindowCounts(start=T0 + 9 * 60, volume=100)
    assert b.absorb(last) == b


def test_negative_share_is_volume_weighted():
    b = baseline_with([10, 0, 0, 2], negative=[1, 0, 0, 2])
    # not the mean of per-minute shares (0.1, -, -, 1.0): big minutes count more
    assert 0.1 < b.negative_share < 0.55


def test_roll_window_closes_absorbs_and_catches_up():
    b = Baseline.from_config(CONFIG)
    w, b, closed = roll_window(None, b, T0 + 5)
    assert w.start == T0 and closed is None and b.windows == 0
    w = w.add(info(1), now=T0 + 5)
    same, b2, closed = roll_window(w, b, T0 + 59)
    assert same is w and b2 is b and closed is None
    w2, b, closed = roll_window(w, b, T0 + 60 * 4 + 1)  # three quiet minutes, then a new one
    assert closed is w and w2.start == T0 + 240 and w2.volume == 0
    assert b.windows == 4 and b.last_start == T0 + 180
    assert b.volume_per_minute == pytest.approx(baseline_with([1, 0, 0, 0]).volume_per_minute)
    # a clock that goes back keeps the newer window
    kept, b3, closed = roll_window(w2, b, T0 + 10)
    assert kept is w2 and b3 is b and closed is None


def test_state_round_trips():
    w = WindowCounts.open(T0)
    for i in range(3):
        w = w.add(info(i, label="negative"), now=T0 + i)
    b = baseline_with([3, 4, 5], negative=[1, 0, 2])
    for obj, cls in ((w, WindowCounts), (b, Baseline), (w.top[0], TopMention)):
        data = json.loads(json.dumps(obj.to_dict()))
        assert cls.from_dict(data) == obj


def test_window_start_of_an_aware_datetime():
    assert window_start(datetime.fromtimestamp(T0 + 61, tz=timezone.utc)) == T0 + 60
