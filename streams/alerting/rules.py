"""Alert rules: the four rules that turn a brand's window state and mentions into alert candidates.

Pure functions over small, JSON-serialisable values; nothing here does I/O or reads the clock: the
caller passes ``now`` (epoch seconds; the worker passes event time, a brand's watermark; an aware
``datetime`` is accepted too). The pieces live beside this module:

* :mod:`streams.alerting.config` — :class:`~streams.alerting.config.AlertConfig` and the rules' thresholds;
* :mod:`streams.alerting.mentions` — :class:`~streams.alerting.mentions.MentionInfo`,
  :class:`~streams.alerting.mentions.TopMention` (mentions as the rules see them);
* :mod:`streams.alerting.windows` — the per-brand 1-minute windows and the baseline;
* :mod:`streams.alerting.statistics` — the Poisson and binomial tails;
* :mod:`streams.alerting.keywords` — crisis-keyword matching.

Per brand the processor (:mod:`streams.alerting.brands`) keeps the open 1-minute tumbling windows
(:class:`~streams.alerting.windows.WindowCounts`, one per minute of *publication* still within
``allowed_lateness_s`` of the brand's watermark) and one :class:`~streams.alerting.windows.Baseline`
made of the windows already closed; per mention it does::

    info = MentionInfo.from_enriched(enriched)                      # once per mention and brand
    state.advance(published, lateness)                              # closes windows past the lateness
    window = state.window_for(published, lateness)                  # the mention's own minute, or None (late)
    window = window.add(info, now, max_top=config.top_mentions)
    candidates = evaluate_window(brand, window, baseline, config, now) + evaluate_mention(brand, info, config)
    for c in candidates: action = book.consider(c, now)             # streams.alerting.incidents

Rules and statistics
--------------------
``volume_spike`` (:func:`volume_spike_rule`): with ``k`` mentions in the open window and ``λ =
max(λ_floor, EWMA per-minute volume)``, the Poisson upper tail ``p = P(X ≥ k | X ~ Poisson(λ))`` (computed
in log space, :func:`~streams.alerting.statistics.poisson_log_sf`). Fires when ``p < p_threshold`` (1e-4)
and ``k ≥ min_count`` (10) and ``k ≥ min_ratio · λ`` (3×); ``λ_floor`` = 0.5. Critical when ``p <
critical_p`` (1e-6) and ``k ≥ critical_ratio · λ`` (5×), else warning.

``negative_surge`` (:func:`negative_surge_rule`): ``x`` negative of ``n`` sentiment-labelled mentions in the
open window, share ``s = x / n``, baseline share ``p0``; one-sided binomial z-test ``z = (s − p0) /
sqrt(p̃0 (1 − p̃0) / n)`` with ``p̃0 = clip(p0, share_floor, 1 − share_floor)`` (``share_floor`` 0.02, so a
brand that never had a negative mention does not divide by zero). Fires when ``x ≥ min_negative`` (5),
``s − p0 ≥ min_share_delta`` (0.25) and ``z ≥ z_threshold`` (4.0 — stricter than a one-off test's 3
because the test is re-run on every mention of the open window), and, because the normal approximation
overstates significance in small windows (5 of 5 negative against a usual 18 % gives z = 4.8, but
``P = 0.18^5 ≈ 2e-4``), the exact binomial tail ``P(X ≥ x | n, p̃0) ≤ max_binomial_p`` (1e-4). Needs the warm-up and
``min_baseline_labelled`` (20) effective labelled mentions in the baseline. Critical when ``z ≥
critical_z`` (6) and ``s − p0 ≥ critical_share_delta`` (0.4). The evidence also gives the one-sided
normal p-value and the Wilson 95 % lower bound of ``s``.

``influential_critic`` (:func:`influencer_rule`, per mention): a negative mention (label ``negative`` or
score ≤ ``max_sentiment_score``, −0.4) by an author with influence ≥ ``min_influence`` (70). Critical at
influence ≥ ``critical_influence`` (90).

``crisis_keyword`` (:func:`keyword_rule`, per mention): a keyword of the configured per-language lists
in the mention's title or text (matching: :mod:`streams.alerting.keywords`). Info for a non-negative
mention, warning for a negative one, critical for a negative one by an author with influence ≥
``critical_influence`` (70).

With ``volume_spike.count: stories`` the rule counts distinct stories instead of mentions (``k`` = stories
in the window, ``λ`` from the EWMA of stories per minute, warm-up on the story baseline's minutes): a wave
of reposts of one post is one story, so the rule then fires when many different things are said.

Stories and campaigns: the window rules' evidence ``counts`` always show ``mentions`` and ``stories``.
When the window holds a story that meets the campaign rule (:func:`streams.stories.campaign.is_campaign`,
``AlertConfig.campaign``), the evidence gets ``campaign: {story_id, authors, similarity, seconds, example}``
and the title ends with "(possible coordinated campaign)"; the per-mention rules do the same when the
mention's own story is one.

Every candidate carries ``rule``, ``brand``, ``severity`` (info/warning/critical), a human-readable
``title`` and an ``evidence`` dict (scalars and ``counts`` for display, ``top_mentions`` with links).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from models.influence import to_epoch
from streams.alerting.config import AlertConfig
from streams.alerting.keywords import match_keywords
from streams.alerting.mentions import MentionInfo, TopMention
from streams.alerting.statistics import _wilson_lower, binomial_log_sf, poisson_log_sf
from streams.alerting.values import _r, iso
from streams.alerting.windows import WINDOW_SECONDS, Baseline, WindowCounts
from streams.stories.campaign import is_campaign

__all__ = [
    "CAMPAIGN_NOTE",
    "RULES",
    "SEVERITIES",
    "AlertCandidate",
    "evaluate_mention",
    "evaluate_window",
    "influencer_rule",
    "keyword_rule",
    "negative_surge_rule",
    "severity_rank",
    "volume_spike_rule",
    "with_campaign_note",
]

SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
RULES = ("volume_spike", "negative_surge", "influential_critic", "crisis_keyword")
#: Appended to the title of a candidate whose evidence has a campaign.
CAMPAIGN_NOTE = "(possible coordinated campaign)"


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical."""
    return SEVERITIES.index(severity)


# --------------------------------------------------------------------------------------------------
# Candidates


@dataclass(frozen=True)
class AlertCandidate:
    """A rule's finding, before de-duplication (``streams.alerting.incidents``)."""

    rule: str
    brand: str
    severity: Severity
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Incidents are de-duplicated per (brand, rule)."""
        return (self.brand, self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "brand": self.brand, "severity": self.severity, "title": self.title, "evidence": self.evidence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertCandidate:
        return cls(rule=data["rule"], brand=data["brand"], severity=data["severity"], title=data["title"], evidence=dict(data.get("evidence") or {}))


# --------------------------------------------------------------------------------------------------
# Evidence and warm-up shared by the window rules


def _window_evidence(window: WindowCounts, now: float) -> dict[str, Any]:
    out = {
        "window_start": iso(window.start),
        "window_end": iso(window.end),
        "window_elapsed_s": _r(min(WINDOW_SECONDS, max(0.0, now - window.start)), 1),
        "top_mentions": [t.to_dict() for t in window.top],
    }
    if window.campaign:
        out["campaign"] = dict(window.campaign)
    return out


def with_campaign_note(title: str, evidence: Mapping[str, Any]) -> str:
    """``title`` with :data:`CAMPAIGN_NOTE` appended when ``evidence`` has a campaign (once)."""
    if evidence.get("campaign") and not title.endswith(CAMPAIGN_NOTE):
        return f"{title} {CAMPAIGN_NOTE}"
    return title


def _warm(baseline: Baseline, config: AlertConfig, stories: bool = False) -> bool:
    if stories:
        return baseline.story_windows >= config.baseline.warmup_windows and baseline.story_weight > 0
    return baseline.windows >= config.baseline.warmup_windows and baseline.weight > 0


# --------------------------------------------------------------------------------------------------
# Window rules: (brand, window, baseline, config, now) -> AlertCandidate | None


def volume_spike_rule(
    brand: str, window: WindowCounts, baseline: Baseline, config: AlertConfig, now: float | datetime
) -> AlertCandidate | None:
    """Volume spike in the open window: Poisson upper tail ``P(X ≥ k | λ)`` with ``λ = max(λ_floor,
    EWMA mentions per minute)``; fires when ``p < p_threshold`` and ``k ≥ min_count`` and ``k ≥ min_ratio·λ``.
    With ``count: stories``, ``k`` and ``λ`` are distinct stories instead of mentions."""
    c = config.volume_spike
    stories = c.count == "stories"
    if not c.enabled or not _warm(baseline, config, stories):
        return None
    k = window.story_count if stories else window.volume
    if k < c.min_count:
        return None
    expected = baseline.stories_per_minute if stories else baseline.volume_per_minute
    lam = max(c.lambda_floor, expected)
    ratio = k / lam
    if ratio < c.min_ratio:
        return None
    log_p = poisson_log_sf(k, lam)
    if not log_p < math.log(c.p_threshold):
        return None
    p = math.exp(log_p)
    critical = log_p < math.log(c.critical_p) and ratio >= c.critical_ratio
    now_ts = to_epoch(now)
    evidence = {
        "statistic": "poisson_upper_tail",
        "p_value": p,
        "log10_p_value": _r(log_p / math.log(10), 3),
        "counts": {
            "counted": c.count,
            "observed": k,
            "mentions": window.volume,
            "stories": window.story_count,
            "expected_per_minute": _r(expected, 3),
            "lambda": _r(lam, 3),
            "ratio": _r(ratio, 2),
            "negative": window.negative,
            "neutral": window.neutral,
            "positive": window.positive,
            "reach": _r(window.reach_sum, 1),
        },
        "baseline_windows": baseline.windows,
        **_window_evidence(window, now_ts),
    }
    return AlertCandidate(
        rule="volume_spike",
        brand=brand,
        severity="critical" if critical else "warning",
        title=with_campaign_note(f"Volume spike for {brand}: {k} {c.count} in the last minute vs {expected:.1f} expected", evidence),
        evidence=evidence,
    )


def negative_surge_rule(
    brand: str, window: WindowCounts, baseline: Baseline, config: AlertConfig, now: float | datetime
) -> AlertCandidate | None:
    """Negative-share surge in the open window: one-sided binomial z-test of the window's negative share
    against the baseline share (see the module docstring)."""
    c = config.negative_surge
    if not c.enabled or not _warm(baseline, config):
        return None
    p0 = baseline.negative_share
    if p0 is None or baseline.labelled_sum < c.min_baseline_labelled:
        return None
    x, n = window.negative, window.labelled
    if x < c.min_negative or n == 0:
        return None
    share = x / n
    delta = share - p0
    if delta < c.min_share_delta:
        return None
    pv = min(max(p0, c.share_floor), 1.0 - c.share_floor)
    z = delta / math.sqrt(pv * (1.0 - pv) / n)
    if z < c.z_threshold:
        return None
    log_p_exact = binomial_log_sf(x, n, pv)
    if log_p_exact > math.log(c.max_binomial_p):
        return None
    p = 0.5 * math.erfc(z / math.sqrt(2.0))
    critical = z >= c.critical_z and delta >= c.critical_share_delta
    now_ts = to_epoch(now)
    evidence = {
        "statistic": "binomial_z_one_sided",
        "z": _r(z, 3),
        "p_value": p,
        "binomial_p_value": math.exp(log_p_exact),
        "counts": {
            "negative": x,
            "labelled": n,
            "volume": window.volume,
            "mentions": window.volume,
            "stories": window.story_count,
            "negative_share": _r(share, 4),
            "baseline_share": _r(p0, 4),
            "share_delta": _r(delta, 4),
            "wilson_lower_95": _r(_wilson_lower(x, n), 4),
            "reach": _r(window.reach_sum, 1),
        },
        "baseline_windows": baseline.windows,
        **_window_evidence(window, now_ts),
    }
    return AlertCandidate(
        rule="negative_surge",
        brand=brand,
        severity="critical" if critical else "warning",
        title=with_campaign_note(
            f"Negative surge for {brand}: {share:.0%} negative ({x} of {n}) in the last minute vs {p0:.0%} usually",
            evidence,
        ),
        evidence=evidence,
    )


def evaluate_window(
    brand: str, window: WindowCounts, baseline: Baseline, config: AlertConfig, now: float | datetime
) -> list[AlertCandidate]:
    """Every window rule's candidate for the open window."""
    out = []
    for rule in (volume_spike_rule, negative_surge_rule):
        candidate = rule(brand, window, baseline, config, now)
        if candidate is not None:
            out.append(candidate)
    return out


# --------------------------------------------------------------------------------------------------
# Per-mention rules: (brand, mention_info, config) -> AlertCandidate | None


def _mention_evidence(info: MentionInfo, config: AlertConfig | None = None) -> dict[str, Any]:
    out = {
        "mention_id": info.id,
        "url": info.url,
        "author": info.author,
        "lang": info.lang,
        "influence": _r(info.influence, 2),
        "sentiment_label": info.sentiment_label,
        "sentiment_score": _r(info.sentiment_score),
        "reach": _r(info.reach, 1),
        "impact": _r(info.impact, 2),
        "published_at": iso(info.published_at) if info.published_at is not None else None,
        "top_mentions": [TopMention.of(info).to_dict()],
    }
    if info.story_id is not None:
        out["story_id"] = info.story_id
    signal = info.campaign_signal()
    if config is not None and is_campaign(signal, config.campaign):
        out["campaign"] = signal.to_dict()
    return out


def influencer_rule(brand: str, info: MentionInfo, config: AlertConfig) -> AlertCandidate | None:
    """A negative mention (label negative or score ≤ ``max_sentiment_score``) by an author with influence
    ≥ ``min_influence``."""
    c = config.influencer
    if not c.enabled or info.influence is None or info.influence < c.min_influence:
        return None
    if not info.is_negative(c.max_sentiment_score):
        return None
    who = info.author or "an unknown author"
    evidence = _mention_evidence(info, config)
    evidence["critics"] = [who]
    return AlertCandidate(
        rule="influential_critic",
        brand=brand,
        severity="critical" if info.influence >= c.critical_influence else "warning",
        title=with_campaign_note(f"Influential critic for {brand}: {who} (influence {info.influence:.0f}) posted a negative mention", evidence),
        evidence=evidence,
    )


def keyword_rule(brand: str, info: MentionInfo, config: AlertConfig) -> AlertCandidate | None:
    """A crisis keyword in the mention's title or text (see the module docstring)."""
    c = config.crisis_keyword
    if not c.enabled:
        return None
    text = f"{info.title}\n{info.text}" if info.title else info.text
    # with cross_language off, a short text whose language was in doubt is checked against each
    # candidate language's keyword list
    matches = []
    for lang in dict.fromkeys((info.lang, *info.lang_candidates)):
        matches = match_keywords(text, lang, c)
        if matches:
            break
    if not matches:
        return None
    negative = info.is_negative(c.negative_score)
    if c.require_negative and not negative:
        return None
    if negative and info.influence is not None and info.influence >= c.critical_influence:
        severity: Severity = "critical"
    elif negative:
        severity = "warning"
    else:
        severity = "info"
    words = ", ".join(f'"{matched}"' for _kw, matched in matches)
    evidence = _mention_evidence(info, config)
    evidence["keywords"] = [kw for kw, _m in matches]
    evidence["matched"] = [m for _kw, m in matches]
    return AlertCandidate(
        rule="crisis_keyword",
        brand=brand,
        severity=severity,
        title=with_campaign_note(
            f"Crisis keyword for {brand}: {words} in a {'negative ' if negative else ''}mention by {info.author or 'an unknown author'}",
            evidence,
        ),
        evidence=evidence,
    )


def evaluate_mention(brand: str, info: MentionInfo, config: AlertConfig) -> list[AlertCandidate]:
    """Every per-mention rule's candidate for one mention."""
    out = []
    for rule in (influencer_rule, keyword_rule):
        candidate = rule(brand, info, config)
        if candidate is not None:
            out.append(candidate)
    return out
