"""Alert rules: the four rules on simulated traffic, their severities, titles and evidence."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest

from streams.alerting.mentions import MentionInfo
from streams.alerting.rules import (
    AlertCandidate,
    evaluate_mention,
    evaluate_window,
    influencer_rule,
    keyword_rule,
    negative_surge_rule,
    volume_spike_rule,
)
from streams.alerting.statistics import poisson_sf
from streams.alerting.windows import Baseline, WindowCounts, roll_window
from tests.streams.alerting.traffic import CONFIG, T0, baseline_with, burst_window, info, mixed_window


# --------------------------------------------------------------------------------------------------
# Candidates


def test_candidate_round_trips():
    c = volume_spike_rule("Lego", burst_window(40), baseline_with([3] * 40), CONFIG, T0 + 20)
    data = json.loads(json.dumps(c.to_dict()))
    assert AlertCandidate.from_dict(data) == c


# --------------------------------------------------------------------------------------------------
# Volume spike


def test_quiet_traffic_never_alarms_then_a_burst_fires_within_seconds():
    rng = np.random.default_rng(20240601)
    baseline = Baseline.from_config(CONFIG)
    window = None
    false_alarms: list[AlertCandidate] = []
    mid = 0
    for minute in range(60):
        count = int(rng.poisson(3.0))
        times = np.sort(rng.uniform(0, 60, size=count)) + T0 + 60 * minute
        for t in times:
            window, baseline, _closed = roll_window(window, baseline, t)
            label = str(rng.choice(["negative", "neutral", "positive"], p=[0.2, 0.5, 0.3]))
            window = window.add(info(mid, label=label), now=t)
            mid += 1
            false_alarms += evaluate_window("Lego", window, baseline, CONFIG, t)
        # evaluated again at the minute's end (a timer) too
        end = T0 + 60 * minute + 59.9
        window, baseline, _closed = roll_window(window, baseline, end)
        false_alarms += evaluate_window("Lego", window, baseline, CONFIG, end)
    assert false_alarms == []
    assert baseline.windows >= CONFIG.baseline.warmup_windows
    assert 2.0 < baseline.volume_per_minute < 4.5

    # a burst: 30 mentions in 20 seconds, starting 5 s into minute 60
    burst_start = T0 + 60 * 60 + 5
    fired: list[tuple[int, float, AlertCandidate]] = []
    for i in range(30):
        t = burst_start + i * (20 / 30)
        window, baseline, _closed = roll_window(window, baseline, t)
        window = window.add(info(f"burst{i}"), now=t)
        fired += [(i + 1, t, c) for c in evaluate_window("Lego", window, baseline, CONFIG, t)]
    assert fired, "the burst did not fire"
    count, t, first = fired[0]
    assert first.rule == "volume_spike"
    assert count <= 15 and t - burst_start < 10  # seconds into the burst, not at the minute's end
    assert first.title == f"Volume spike for Lego: {count} mentions in the last minute vs {baseline.volume_per_minute:.1f} expected"
    ev = first.evidence
    assert ev["statistic"] == "poisson_upper_tail" and ev["p_value"] < 1e-4
    assert ev["counts"]["observed"] == count
    assert ev["window_start"] == datetime.fromtimestamp(T0 + 3600, tz=timezone.utc).isoformat()
    assert ev["top_mentions"] and ev["top_mentions"][0]["url"].startswith("https://")
    # by the end of the burst it is critical (p < 1e-6 and >= 5x)
    assert fired[-1][2].severity == "critical" and fired[-1][1] - burst_start < 20


def test_min_count_protects_quiet_brands():
    b = baseline_with([1 if m % 10 == 0 else 0 for m in range(120)])  # about 0.1 a minute
    assert b.volume_per_minute < 0.2
    assert volume_spike_rule("Tiny", burst_window(2), b, CONFIG, T0 + 3601) is None
    # even an unlikely 9 stays below min_count; 10 fires (lambda floored at 0.5)
    assert volume_spike_rule("Tiny", burst_window(9), b, CONFIG, T0 + 3601) is None
    c = volume_spike_rule("Tiny", burst_window(10), b, CONFIG, T0 + 3601)
    assert c is not None and c.evidence["counts"]["lambda"] == 0.5


def test_warm_up_blocks_new_brands():
    young = baseline_with([3] * (CONFIG.baseline.warmup_windows - 1))
    assert volume_spike_rule("New", burst_window(100), young, CONFIG, T0 + 3601) is None
    assert volume_spike_rule("New", burst_window(100), Baseline(), CONFIG, T0 + 3601) is None
    grown = young.absorb(WindowCounts(start=young.last_start + 60, volume=3))
    assert volume_spike_rule("New", burst_window(100), grown, CONFIG, T0 + 3601) is not None


def test_ratio_condition_keeps_big_brands_calm():
    big = baseline_with([100] * 60)
    # 150 vs 100: very improbable under Poisson, but only 1.5x
    assert poisson_sf(150, 100.0) < 1e-4
    assert volume_spike_rule("Big", burst_window(150), big, CONFIG, T0 + 3601) is None
    assert volume_spike_rule("Big", burst_window(300), big, CONFIG, T0 + 3601) is not None


def test_spike_severity():
    b = baseline_with([3] * 60)
    warning = volume_spike_rule("Lego", burst_window(12), b, CONFIG, T0 + 3601)
    assert warning is not None and warning.severity == "warning"  # 4x
    critical = volume_spike_rule("Lego", burst_window(16), b, CONFIG, T0 + 3601)
    assert critical is not None and critical.severity == "critical"
    off = CONFIG.model_copy(update={"volume_spike": CONFIG.volume_spike.model_copy(update={"enabled": False})})
    assert volume_spike_rule("Lego", burst_window(16), b, off, T0 + 3601) is None


# --------------------------------------------------------------------------------------------------
# Negative surge

def test_negative_surge_fires_on_a_shift_in_share():
    b = baseline_with([10] * 60, negative=[1] * 60)  # 10 % negative
    assert b.negative_share == pytest.approx(0.1)
    c = negative_surge_rule("Lego", mixed_window(8, 2), b, CONFIG, T0 + 3611)
    assert c is not None and c.rule == "negative_surge" and c.severity == "critical"
    ev = c.evidence
    z = (0.8 - 0.1) / math.sqrt(0.1 * 0.9 / 10)
    assert ev["z"] == pytest.approx(z, abs=1e-3)
    assert ev["counts"]["negative"] == 8 and ev["counts"]["labelled"] == 10
    assert ev["counts"]["baseline_share"] == pytest.approx(0.1)
    assert 0 < ev["counts"]["wilson_lower_95"] < 0.8
    assert c.title == "Negative surge for Lego: 80% negative (8 of 10) in the last minute vs 10% usually"
    assert ev["binomial_p_value"] == pytest.approx(sum(math.comb(10, j) * 0.1**j * 0.9 ** (10 - j) for j in range(8, 11)))
    warning = negative_surge_rule("Lego", mixed_window(10, 10), b, CONFIG, T0 + 3611)  # 50 %: z = 5.96
    assert warning is not None and warning.severity == "warning"


def test_negative_surge_guards():
    b = baseline_with([10] * 60, negative=[1] * 60)
    assert negative_surge_rule("Lego", mixed_window(4, 0), b, CONFIG, T0 + 3601) is None  # < min_negative
    assert negative_surge_rule("Lego", mixed_window(6, 14), b, CONFIG, T0 + 3601) is None  # 30 %: delta 0.2
    assert negative_surge_rule("Lego", mixed_window(5, 0), b, CONFIG, T0 + 3601) is not None
    # small windows: z overstates significance, the exact tail guards (6 of 12: z = 4.6, P = 5e-4)
    assert negative_surge_rule("Lego", mixed_window(6, 6), b, CONFIG, T0 + 3601) is None
    assert negative_surge_rule("Lego", mixed_window(5, 2), b, CONFIG, T0 + 3601) is None  # z = 7.4, P = 2e-4
    busy = baseline_with([10] * 60, negative=[3] * 60)  # 30 % negative normally
    assert negative_surge_rule("Lego", mixed_window(5, 1), busy, CONFIG, T0 + 3601) is None  # z = 2.9
    # a brand with too little labelled history
    thin = baseline_with([0] * 59 + [5], negative=[0] * 59 + [0])
    assert negative_surge_rule("Lego", mixed_window(9, 0), thin, CONFIG, T0 + 3601) is None
    # never a negative mention before: the share floor keeps z finite
    clean = baseline_with([10] * 60)
    c = negative_surge_rule("Lego", mixed_window(5, 5), clean, CONFIG, T0 + 3601)
    assert c is not None and math.isfinite(c.evidence["z"])


# --------------------------------------------------------------------------------------------------
# Influential critic


def test_influencer_rule():
    assert influencer_rule("Lego", info(1, label="negative", influence=75), CONFIG).severity == "warning"
    c = influencer_rule("Lego", info(1, label="negative", influence=95, author="@bigcritic"), CONFIG)
    assert c.severity == "critical" and c.evidence["critics"] == ["@bigcritic"]
    assert c.title == "Influential critic for Lego: @bigcritic (influence 95) posted a negative mention"
    assert c.evidence["top_mentions"][0]["id"] == "m1"
    assert influencer_rule("Lego", info(1, label="negative", influence=60), CONFIG) is None
    assert influencer_rule("Lego", info(1, label="positive", influence=95), CONFIG) is None
    assert influencer_rule("Lego", info(1, label="negative", influence=None), CONFIG) is None
    # the score alone, or the label alone, makes a mention negative
    assert influencer_rule("Lego", info(1, label="neutral", score=-0.45, influence=80), CONFIG) is not None
    assert influencer_rule("Lego", info(1, label="negative", score=-0.2, influence=80), CONFIG) is not None
    assert influencer_rule("Lego", info(1, label="neutral", score=-0.3, influence=80), CONFIG) is None


# --------------------------------------------------------------------------------------------------
# Crisis keywords

def test_keyword_rule_severity_and_title():
    neutral = keyword_rule("Lego", info(1, text="Boykot?", author="anna"), CONFIG)
    assert neutral.severity == "info"
    assert neutral.title == 'Crisis keyword for Lego: "Boykot" in a mention by anna'
    negative = keyword_rule("Lego", info(1, label="negative", text="Boykot!", influence=20), CONFIG)
    assert negative.severity == "warning"
    loud = keyword_rule("Lego", info(1, label="negative", text="Boykot!", influence=80), CONFIG)
    assert loud.severity == "critical"
    only_negative = CONFIG.model_copy(update={"crisis_keyword": CONFIG.crisis_keyword.model_copy(update={"require_negative": True})})
    assert keyword_rule("Lego", info(1, text="Boykot?"), only_negative) is None
    # the title is searched too
    titled = MentionInfo(id="t", title="Skandale i Billund", text="Læs mere", lang="da")
    assert keyword_rule("Lego", titled, CONFIG) is not None
    assert [c.rule for c in evaluate_mention("Lego", info(1, label="negative", text="Boykot!", influence=80), CONFIG)] == [
        "influential_critic",
        "crisis_keyword",
    ]
