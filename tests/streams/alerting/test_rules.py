"""Alert rules: windows, baselines, the four rules and their statistics, on simulated traffic."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest
from pydantic import ValidationError

from streams.alerting.rules import (
    AlertCandidate,
    AlertConfig,
    Baseline,
    binomial_log_sf,
    CrisisKeywordConfig,
    MentionInfo,
    TopMention,
    WindowCounts,
    evaluate_mention,
    evaluate_window,
    influencer_rule,
    is_fresh,
    keyword_rule,
    match_keywords,
    negative_surge_rule,
    poisson_log_sf,
    poisson_sf,
    roll_window,
    volume_spike_rule,
    window_start,
)
from streams.schema import Author, BrandSentiment, EnrichedMention, Mention, Sentiment

T0 = 1_700_000_040.0  # a minute boundary
assert T0 % 60 == 0

CONFIG = AlertConfig()


def info(
    i: int | str = 0,
    label: str | None = "neutral",
    score: float | None = None,
    influence: float | None = 10.0,
    impact: float | None = None,
    text: str = "Lego er fint",
    lang: str = "da",
    author: str = "someone",
    published_at: float | None = None,
) -> MentionInfo:
    if score is None:
        score = {"negative": -0.8, "neutral": 0.0, "positive": 0.8, None: None}[label]
    return MentionInfo(
        id=f"m{i}",
        text=text,
        url=f"https://example.org/{i}",
        author=author,
        lang=lang,
        published_at=published_at,
        sentiment_label=label,
        sentiment_score=score,
        influence=influence,
        reach=100.0,
        impact=impact if impact is not None else (100.0 * score if score is not None else None),
    )


def baseline_with(per_minute: list[int], negative: list[int] | None = None, start: float = T0) -> Baseline:
    """A baseline that absorbed one window per entry (labelled counts = volume)."""
    b = Baseline.from_config(CONFIG)
    for m, volume in enumerate(per_minute):
        neg = negative[m] if negative else 0
        w = WindowCounts(start=start + 60 * m, volume=volume, negative=neg, neutral=volume - neg)
        b = b.absorb(w)
    return b


# --------------------------------------------------------------------------------------------------
# Poisson tail


def brute_sf(k: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam + j * math.log(lam) - math.lgamma(j + 1)) for j in range(k))


@pytest.mark.parametrize("k,lam", [(1, 3.0), (2, 3.0), (3, 3.0), (10, 3.0), (12, 3.0), (15, 3.0), (5, 0.5), (30, 0.5),
                                   (40, 50.0), (50, 50.0), (80, 50.0), (0, 3.0), (200, 150.0)])
def test_poisson_tail_matches_brute_force(k, lam):
    expected = brute_sf(k, lam) if k > 0 else 1.0
    assert poisson_sf(k, lam) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_poisson_tail_known_values_and_extremes():
    assert poisson_sf(10, 3.0) == pytest.approx(0.0011024881301154826, rel=1e-12)
    # far in the tail: P(X >= 30 | 3) = e^-3 3^30/30! (1 + 3/31 + ...), by hand in log space
    log_first = -3 + 30 * math.log(3) - math.lgamma(31)
    ratios = [math.prod(3 / j for j in range(31, 31 + n)) for n in range(40)]  # 1, 3/31, 9/(31*32), ...
    assert poisson_log_sf(30, 3.0) == pytest.approx(log_first + math.log(sum(ratios)), rel=1e-12)
    # no underflow in log space even where the probability does
    assert math.isfinite(poisson_log_sf(2000, 0.5)) and poisson_log_sf(2000, 0.5) < -10_000
    # around the mean of a large lambda: about one half
    assert poisson_sf(1_000_000, 1_000_000.0) == pytest.approx(0.5, abs=0.001)
    assert poisson_log_sf(5, 0.0) == -math.inf


@pytest.mark.parametrize("x,n,p", [(5, 5, 0.18), (6, 12, 0.1), (8, 10, 0.1), (1, 10, 0.3), (0, 4, 0.5), (30, 100, 0.2), (3, 3, 0.02)])
def test_binomial_tail_matches_brute_force(x, n, p):
    expected = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(x, n + 1))
    assert math.exp(binomial_log_sf(x, n, p)) == pytest.approx(expected, rel=1e-9)
    assert binomial_log_sf(11, 10, 0.5) == -math.inf


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


def test_top_mention_snippet_is_bounded():
    t = TopMention.of(MentionInfo(id="a", title="Overskrift", text="ord " * 500, impact=-1.0))
    assert len(t.text) <= 280 and t.text.startswith("Overskrift — ord ord") and t.text.endswith("…")


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
    m = info(9, label="negative", published_at=T0)
    c = volume_spike_rule("Lego", burst_window(40), baseline_with([3] * 40), CONFIG, T0 + 20)
    for obj, cls in ((w, WindowCounts), (b, Baseline), (m, MentionInfo), (c, AlertCandidate), (w.top[0], TopMention)):
        data = json.loads(json.dumps(obj.to_dict()))
        assert cls.from_dict(data) == obj


# --------------------------------------------------------------------------------------------------
# Volume spike


def burst_window(n: int, start: float = T0 + 60 * 60, label: str = "neutral") -> WindowCounts:
    w = WindowCounts(start=start)
    for i in range(n):
        w = w.add(info(f"b{i}", label=label), now=start + i * 0.5)
    return w


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


def mixed_window(negative: int, other: int, start: float = T0 + 3600) -> WindowCounts:
    w = WindowCounts(start=start)
    for i in range(negative):
        w = w.add(info(f"n{i}", label="negative"), now=start + i)
    for i in range(other):
        w = w.add(info(f"o{i}", label="neutral"), now=start + negative + i)
    return w


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


@pytest.mark.parametrize(
    "lang,text,keyword",
    [
        ("da", "Nu er det nok: BOYKOT Lego!", "boykot"),
        ("da", "Lego tilbagekalder 10.000 sæt", "tilbagekald*"),
        ("da", "Endnu en skandale hos Lego", "skandale"),
        ("nb", "Vi oppfordrer til #boikott av Lego", "boikott"),
        ("nb", "Tilbakekallingen gjelder alle sett", "tilbakekalling*"),
        ("nn", "Ein skandale for Lego", "skandale"),
        ("nn", "Tilbakekallinga av leikane", "tilbakekalling*"),
        ("sv", "Dags för bojkott av Lego", "bojkott"),
        ("sv", "Återkallelsen omfattar alla", "återkallelse*"),
        ("sv", "Lego återkallar leksaker", "återkalla*"),
        ("sv", "En skandal utan like", "skandal"),
        ("en", "Time to boycott Lego", "boycott"),
        ("en", "Lego RECALLED the sets", "recall*"),
        ("en", "What a scandal", "scandal"),
    ],
)
def test_keywords_in_every_language(lang, text, keyword):
    found = match_keywords(text, lang, CONFIG.crisis_keyword)
    assert keyword in [kw for kw, _ in found]
    strict = CONFIG.crisis_keyword.model_copy(update={"cross_language": False})
    assert keyword in [kw for kw, _ in match_keywords(text, lang, strict)]
    c = keyword_rule("Lego", info(1, text=text, lang=lang), CONFIG)
    assert c is not None and c.rule == "crisis_keyword" and keyword in c.evidence["keywords"]


def test_keyword_normalisation_and_non_matches():
    kw = CONFIG.crisis_keyword
    # Swedish/Danish letter equivalences: a Norwegian word written with Swedish letters still matches
    assert [k for k, _ in match_keywords("Aterkallelse", "sv", kw)] == []  # a without ring is another letter
    assert [k for k, _ in match_keywords("aaterkallelse", "sv", kw)] == ["återkallelse*"]  # aa = å
    assert match_keywords("uncalled-for recalcitrant boycotts", "en", kw) == []  # exact words, prefix only with *
    assert match_keywords("skandalen", "da", kw) == []
    assert match_keywords("", "da", kw) == []
    # several matches come in text order with the words that matched
    assert match_keywords("Recall og boykot", "da", kw) == [("recall*", "Recall"), ("boykot", "boykot")]


def test_keyword_language_scoping():
    strict = CONFIG.crisis_keyword.model_copy(update={"cross_language": False})
    assert match_keywords("Vi opfordrer til boykot", "sv", strict) == []  # Danish word, Swedish list
    assert match_keywords("Vi opfordrer til boykot", "da", strict) == [("boykot", "boykot")]
    assert match_keywords("Vi opfordrer til boykot", "other", strict) == [("boykot", "boykot")]  # unknown: all lists
    assert match_keywords("Vi opfordrer til boykot", "sv", CONFIG.crisis_keyword) == [("boykot", "boykot")]


def test_keyword_phrases_and_config_validation():
    cfg = CrisisKeywordConfig(keywords={"en": ["product recall*", "data breach"]})
    assert match_keywords("A big Product Recalls story", "en", cfg) == [("product recall*", "Product Recalls")]
    assert match_keywords("recall the product", "en", cfg) == []
    assert match_keywords("The data-breach at Lego", "en", cfg) == [("data breach", "data breach")]
    for bad in (["bo*kot"], ["*"], ["   "], ["*lego"]):
        with pytest.raises(ValidationError):
            CrisisKeywordConfig(keywords={"da": bad})
    with pytest.raises(ValidationError):
        CrisisKeywordConfig(keywords={"de": ["boykott"]})


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


# --------------------------------------------------------------------------------------------------
# Config, mentions


def test_alert_config_defaults_and_strictness():
    cfg = AlertConfig()
    assert cfg.volume_spike.p_threshold == 1e-4 and cfg.volume_spike.min_count == 10 and cfg.volume_spike.min_ratio == 3
    assert cfg.volume_spike.lambda_floor == 0.5
    assert cfg.negative_surge.min_negative == 5 and cfg.negative_surge.min_share_delta == 0.25
    assert cfg.influencer.min_influence == 70 and cfg.influencer.max_sentiment_score == -0.4
    assert set(cfg.crisis_keyword.keywords) == {"da", "nb", "nn", "sv", "en"}
    with pytest.raises(ValidationError):
        AlertConfig(volume_spike={"p_treshold": 0.01})  # typo: extra fields are errors
    with pytest.raises(ValidationError):
        AlertConfig(volume_spike={"p_threshold": 2})
    # what a YAML loader gives back
    again = AlertConfig.model_validate(json.loads(cfg.model_dump_json()))
    assert again == cfg
    for field_info in type(cfg.volume_spike).model_fields.values():
        assert field_info.description


def test_mention_info_from_enriched_and_freshness():
    m = Mention(
        id="x1",
        source="mastodon",
        url="https://mastodon.social/@a/1",
        text="Boykot Lego",
        author=Author(handle="a"),
        published_at=datetime.fromtimestamp(T0, tz=timezone.utc),
    )
    em = EnrichedMention(
        mention=m,
        lang="da",
        lang_confidence=0.9,
        sentiment=Sentiment(label="negative", score=-0.7, probabilities={}, model_version="t"),
        brands=["Lego"],
        influence=80.0,
        reach=1000.0,
        impact=-700.0,
    )
    mi = MentionInfo.from_enriched(em)
    assert (mi.id, mi.author, mi.lang, mi.sentiment_label, mi.impact, mi.published_at) == ("x1", "a", "da", "negative", -700.0, T0)
    assert is_fresh(mi, T0 + 60, CONFIG) and not is_fresh(mi, T0 + 7200, CONFIG)
    assert is_fresh(MentionInfo(id="n"), T0, CONFIG)
    assert window_start(datetime.fromtimestamp(T0 + 61, tz=timezone.utc)) == T0 + 60


def test_each_brand_reads_its_own_sentiment():
    m = Mention(id="x2", source="push", text="Fjordbank er mye bedre enn Nordlys Energi", published_at=datetime.fromtimestamp(T0, tz=timezone.utc))
    em = EnrichedMention(
        mention=m, lang="nb", lang_confidence=0.9,
        sentiment=Sentiment(label="positive", score=0.8, probabilities={}, model_version="t"),
        brands=["Fjordbank", "Nordlys Energi"],
        brand_sentiment=[BrandSentiment(brand="Fjordbank", label="positive", score=0.8), BrandSentiment(brand="Nordlys Energi", label="negative", score=-0.8)],
    )
    assert MentionInfo.from_enriched(em, "Nordlys Energi").is_negative()
    assert not MentionInfo.from_enriched(em, "Fjordbank").is_negative()
    assert MentionInfo.from_enriched(em).sentiment_label == "positive"  # no brand: the mention's own
    assert MentionInfo.from_enriched(em, "Ukjent").sentiment_label == "positive"
