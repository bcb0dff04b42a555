"""Alert rules: per-brand window state, baselines, and the rules that turn them into alert candidates.

Pure functions over small, JSON-serialisable values (``to_dict()`` / ``from_dict()``), for the stream
processor to keep in Faust tables keyed by brand. Nothing here does I/O or reads the clock: the caller
passes ``now`` (epoch seconds; the worker passes event time, a brand's watermark; an aware ``datetime`` is accepted too).

Per brand the processor (:mod:`streams.alerting.brands`) keeps the open 1-minute tumbling windows
(:class:`WindowCounts`, one per minute of *publication* still within ``allowed_lateness_s`` of the brand's
watermark) and one :class:`Baseline` made of the windows already closed; per mention it does::

    info = MentionInfo.from_enriched(enriched)                      # once per mention and brand
    state.advance(published, lateness)                              # closes windows past the lateness
    window = state.window_for(published, lateness)                  # the mention's own minute, or None (late)
    window = window.add(info, now, max_top=config.top_mentions)
    candidates = evaluate_window(brand, window, baseline, config, now) + evaluate_mention(brand, info, config)
    for c in candidates: action = book.consider(c, now)             # streams.alerting.incidents

``roll_window`` is the single-window form of the same (arrival order), kept for callers that need no
lateness.

All state classes are immutable: methods return the new value (``window = window.add(info)``).

Windows and baseline
--------------------
Windows are aligned to the minute (``start = floor(now / 60) * 60``). The rules evaluate the **open**
window every time it changes, so an alert fires seconds into a burst instead of at the minute's end;
a partial minute is compared with the expectation for a whole minute, which only makes early firing
conservative.

:class:`Baseline` holds bias-corrected EWMAs (an exponentially weighted mean, not a running value
seeded with the first window) of the per-minute volume (half-life ``half_life_minutes``, default 60)
and of the negative share (half-life ``share_half_life_minutes``, default 360; the share is the ratio of
the EWMA of negative counts to the EWMA of sentiment-labelled counts, so it is volume-weighted and quiet
minutes do not disturb it). Minutes with no mentions count as zero-volume windows: when a window is
absorbed after a gap, or :meth:`Baseline.catch_up` runs, the missing minutes are applied in closed form.
``windows`` (minutes absorbed, quiet ones included) is the warm-up count: no window rule fires before
``warmup_windows`` (default 30). Note that a processor outage looks like quiet minutes.

Rules and statistics
--------------------
``volume_spike`` (:func:`volume_spike_rule`): with ``k`` mentions in the open window and ``λ =
max(λ_floor, EWMA per-minute volume)``, the Poisson upper tail ``p = P(X ≥ k | X ~ Poisson(λ))`` (computed
in log space, :func:`poisson_log_sf`). Fires when ``p < p_threshold`` (1e-4) and ``k ≥ min_count`` (10)
and ``k ≥ min_ratio · λ`` (3×); ``λ_floor`` = 0.5. Critical when ``p < critical_p`` (1e-6) and ``k ≥
critical_ratio · λ`` (5×), else warning.

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
in the mention's title or text. Words are matched after the normalisation of :mod:`streams.query.text`
(case-insensitive, æ≡ä, ø≡ö, å≡aa, accents folded, ``#boykot`` found by ``boykot``); a trailing ``*`` is a
prefix (``tilbagekald*``), and a keyword of several words is a phrase. With ``cross_language`` (default)
every list is tried whatever language was detected (Danish and Norwegian are often confused on short
texts); otherwise the mention's language's list (all lists for ``other``). Info for a non-negative
mention, warning for a negative one, critical for a negative one by an author with influence ≥
``critical_influence`` (70).

Every candidate carries ``rule``, ``brand``, ``severity`` (info/warning/critical), a human-readable
``title`` and an ``evidence`` dict (scalars and ``counts`` for display, ``top_mentions`` with links).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.influence import to_epoch
from streams.query.text import forms, query_key, tokenize

__all__ = [
    "RULES",
    "SEVERITIES",
    "WINDOW_SECONDS",
    "AlertCandidate",
    "AlertConfig",
    "Baseline",
    "BaselineConfig",
    "CrisisKeywordConfig",
    "IncidentConfig",
    "InfluencerConfig",
    "MentionInfo",
    "NegativeSurgeConfig",
    "TopMention",
    "VolumeSpikeConfig",
    "WindowCounts",
    "binomial_log_sf",
    "evaluate_mention",
    "evaluate_window",
    "influencer_rule",
    "is_fresh",
    "keyword_rule",
    "match_keywords",
    "negative_surge_rule",
    "poisson_log_sf",
    "poisson_sf",
    "roll_window",
    "severity_rank",
    "volume_spike_rule",
    "window_start",
]

WINDOW_SECONDS = 60
SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
RULES = ("volume_spike", "negative_surge", "influential_critic", "crisis_keyword")
#: Characters of a mention's text kept in evidence.
SNIPPET_CHARS = 280


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical."""
    return SEVERITIES.index(severity)


def iso(ts: float) -> str:
    """ISO 8601 with timezone (UTC) of epoch seconds."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def window_start(now: float | datetime) -> float:
    """Start (epoch seconds) of the 1-minute window that contains ``now``."""
    return float(math.floor(to_epoch(now) / WINDOW_SECONDS) * WINDOW_SECONDS)


def _r(value: float | None, digits: int = 4) -> float | None:
    """A JSON-safe, rounded float (``None`` for None/NaN/inf)."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _finite(value: float | None) -> float:
    """``value`` as a float, 0.0 for None/NaN/inf."""
    if value is None:
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0


# --------------------------------------------------------------------------------------------------
# Configuration


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BaselineConfig(_Config):
    half_life_minutes: float = Field(60.0, gt=0, description="Half-life (minutes) of the EWMA of mentions per minute")
    share_half_life_minutes: float = Field(
        360.0, gt=0, description="Half-life (minutes) of the EWMAs behind the baseline negative share"
    )
    warmup_windows: int = Field(
        30, ge=0, description="Minutes (quiet ones included) a brand's baseline must have absorbed before window rules fire"
    )


class VolumeSpikeConfig(_Config):
    enabled: bool = Field(True, description="Evaluate the volume-spike rule")
    p_threshold: float = Field(1e-4, gt=0, lt=1, description="Fire when P(X >= observed | Poisson(expected)) is below this")
    min_count: int = Field(10, ge=1, description="Fire only with at least this many mentions in the window")
    min_ratio: float = Field(3.0, ge=1, description="Fire only when observed >= min_ratio x expected")
    lambda_floor: float = Field(0.5, gt=0, description="Expected mentions per minute are at least this (quiet brands)")
    critical_p: float = Field(1e-6, gt=0, lt=1, description="Critical when p is below this (and the ratio condition holds)")
    critical_ratio: float = Field(5.0, ge=1, description="Critical when observed >= critical_ratio x expected (and p condition)")


class NegativeSurgeConfig(_Config):
    enabled: bool = Field(True, description="Evaluate the negative-share-surge rule")
    min_negative: int = Field(5, ge=1, description="Fire only with at least this many negative mentions in the window")
    min_share_delta: float = Field(0.25, ge=0, le=1, description="Fire only when the share exceeds the baseline by this much")
    z_threshold: float = Field(4.0, gt=0, description="Fire when the one-sided binomial z statistic is at least this")
    max_binomial_p: float = Field(
        1e-4, gt=0, lt=1, description="... and the exact binomial tail P(X >= negative | labelled, baseline share) is at most this"
    )
    share_floor: float = Field(0.02, gt=0, lt=0.5, description="Baseline share is clipped to [floor, 1 - floor] in the variance")
    min_baseline_labelled: float = Field(
        20.0, ge=0, description="Effective number of sentiment-labelled mentions the baseline share needs before the rule fires"
    )
    critical_z: float = Field(6.0, gt=0, description="Critical when z is at least this (and the share delta condition holds)")
    critical_share_delta: float = Field(0.4, ge=0, le=1, description="Critical when the share exceeds the baseline by this much (and z)")


class InfluencerConfig(_Config):
    enabled: bool = Field(True, description="Evaluate the influential-critic rule")
    min_influence: float = Field(70.0, ge=0, le=100, description="Author influence (0-100) at which a negative mention alerts")
    max_sentiment_score: float = Field(
        -0.4, ge=-1, le=1, description="A mention is negative when its label is negative or its score is at most this"
    )
    critical_influence: float = Field(90.0, ge=0, le=100, description="Critical at this influence or more")


DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "da": ["boykot", "tilbagekald*", "skandale"],
    "nb": ["boikott", "tilbakekalling*", "skandale"],
    "nn": ["boikott", "tilbakekalling*", "skandale"],
    "sv": ["bojkott", "återkallelse*", "återkalla*", "skandal"],
    "en": ["boycott", "recall*", "scandal"],
}


class CrisisKeywordConfig(_Config):
    enabled: bool = Field(True, description="Evaluate the crisis-keyword rule")
    keywords: dict[Literal["da", "nb", "nn", "sv", "en"], list[str]] = Field(
        default_factory=lambda: {lang: list(words) for lang, words in DEFAULT_KEYWORDS.items()},
        description="Keywords per language; a trailing * is a prefix, several words are a phrase",
    )
    cross_language: bool = Field(
        True, description="Try every language's list whatever language was detected (else only the mention's)"
    )
    require_negative: bool = Field(False, description="Only alert on keyword mentions whose sentiment is negative")
    negative_score: float = Field(
        -0.4, ge=-1, le=1, description="A mention is negative when its label is negative or its score is at most this"
    )
    critical_influence: float = Field(
        70.0, ge=0, le=100, description="A negative keyword mention by an author this influential is critical"
    )

    @field_validator("keywords")
    @classmethod
    def _valid_keywords(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, words in value.items():
            for word in words:
                _compile_keyword(word)  # raises ValueError with the reason
        return value


class IncidentConfig(_Config):
    cooldown_s: float = Field(1800.0, gt=0, description="An incident closes after this many seconds without a firing candidate")
    update_interval_s: float = Field(
        300.0, ge=0, description="At most one update per incident per this many seconds, unless the severity rises"
    )
    max_evidence_mentions: int = Field(10, ge=1, description="Top mentions kept in an alert's evidence")


class AlertConfig(_Config):
    """Alerting thresholds of one brand watch (embedded in the brand-watch YAML)."""

    baseline: BaselineConfig = Field(default_factory=BaselineConfig, description="Per-brand baseline")
    volume_spike: VolumeSpikeConfig = Field(default_factory=VolumeSpikeConfig, description="Volume-spike rule")
    negative_surge: NegativeSurgeConfig = Field(default_factory=NegativeSurgeConfig, description="Negative-share-surge rule")
    influencer: InfluencerConfig = Field(default_factory=InfluencerConfig, description="Influential-critic rule")
    crisis_keyword: CrisisKeywordConfig = Field(default_factory=CrisisKeywordConfig, description="Crisis-keyword rule")
    incidents: IncidentConfig = Field(default_factory=IncidentConfig, description="De-duplication and cool-down")
    top_mentions: int = Field(10, ge=1, description="Top mentions by |impact| kept per window")
    max_mention_age_s: float = Field(
        3600.0, gt=0, description="Mentions published longer ago than this (backfills) are not counted in windows"
    )
    allowed_lateness_s: float = Field(
        600.0,
        ge=0,
        description="How far behind a brand's newest mention (its watermark) a mention may arrive and still be counted "
        "in the 1-minute window of its own publication time; windows further back are closed into the baseline",
    )


# --------------------------------------------------------------------------------------------------
# Mentions as the rules see them


@dataclass(frozen=True)
class MentionInfo:
    """What the rules need of one enriched mention."""

    id: str
    text: str = ""
    title: str | None = None
    url: str | None = None
    author: str | None = None
    lang: str = "other"
    published_at: float | None = None
    sentiment_label: str | None = None
    sentiment_score: float | None = None
    influence: float | None = None
    reach: float | None = None
    impact: float | None = None

    @classmethod
    def from_enriched(cls, enriched: Any, brand: str | None = None) -> MentionInfo:
        """From a :class:`~streams.schema.EnrichedMention`; with ``brand``, that brand's own sentiment
        (a mention can praise one brand and run down another), else the mention's."""
        m = enriched.mention
        sentiment = enriched.sentiment
        if brand is not None and getattr(enriched, "sentiment_for", None) is not None:
            sentiment = enriched.sentiment_for(brand) or sentiment
        return cls(
            id=m.id,
            text=m.text,
            title=m.title,
            url=m.url,
            author=m.author.handle if m.author is not None else None,
            lang=enriched.lang,
            published_at=m.published_at.timestamp(),
            sentiment_label=sentiment.label if sentiment is not None else None,
            sentiment_score=float(sentiment.score) if sentiment is not None else None,
            influence=enriched.influence,
            reach=enriched.reach,
            impact=enriched.impact,
        )

    def is_negative(self, max_score: float = -0.4) -> bool:
        """Label ``negative``, or score at most ``max_score``."""
        if self.sentiment_label == "negative":
            return True
        return self.sentiment_score is not None and self.sentiment_score <= max_score

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MentionInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def is_fresh(info: MentionInfo, now: float | datetime, config: AlertConfig) -> bool:
    """False for a mention published more than ``max_mention_age_s`` before ``now`` (a backfill, which
    must not look like a burst). Unknown publication time counts as fresh."""
    if info.published_at is None:
        return True
    return to_epoch(now) - info.published_at <= config.max_mention_age_s


@dataclass(frozen=True)
class TopMention:
    """A mention kept as evidence: the keys are those alert delivery shows."""

    id: str
    impact: float = 0.0
    url: str | None = None
    text: str = ""
    author: str | None = None
    influence: float | None = None
    sentiment: float | None = None

    @classmethod
    def of(cls, info: MentionInfo) -> TopMention:
        text = " ".join(info.text.split())
        if info.title:
            text = " ".join(info.title.split()) + " — " + text
        if len(text) > SNIPPET_CHARS:
            text = text[: SNIPPET_CHARS - 1].rstrip() + "…"
        return cls(
            id=info.id,
            impact=_r(info.impact) or 0.0,
            url=info.url,
            text=text,
            author=info.author,
            influence=_r(info.influence, 2),
            sentiment=_r(info.sentiment_score),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TopMention:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def merge_top(existing: Iterable[TopMention], new: Iterable[TopMention], limit: int) -> tuple[TopMention, ...]:
    """The ``limit`` mentions of largest ``|impact|`` (ties: earlier first), one per id (the newer wins)."""
    by_id: dict[str, TopMention] = {}
    order: dict[str, int] = {}
    for i, item in enumerate([*existing, *new]):
        order.setdefault(item.id, i)
        by_id[item.id] = item
    ranked = sorted(by_id.values(), key=lambda t: (-abs(t.impact), order[t.id]))
    return tuple(ranked[:limit])


# --------------------------------------------------------------------------------------------------
# Window state


@dataclass(frozen=True)
class WindowCounts:
    """Counts of one brand's 1-minute tumbling window starting at ``start`` (epoch seconds)."""

    start: float
    volume: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    reach_sum: float = 0.0
    impact_sum: float = 0.0
    first_at: float | None = None
    last_at: float | None = None
    top: tuple[TopMention, ...] = ()

    @classmethod
    def open(cls, now: float | datetime) -> WindowCounts:
        """An empty window for the minute that contains ``now``."""
        return cls(start=window_start(now))

    @property
    def end(self) -> float:
        return self.start + WINDOW_SECONDS

    @property
    def labelled(self) -> int:
        """Mentions with a sentiment label."""
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.labelled if self.labelled else None

    def contains(self, now: float | datetime) -> bool:
        return self.start <= to_epoch(now) < self.end

    def add(self, info: MentionInfo, now: float | datetime | None = None, *, max_top: int = 10) -> WindowCounts:
        """The window with ``info`` counted (``now`` = arrival time, for ``first_at`` / ``last_at``)."""
        at = to_epoch(now) if now is not None else None
        label = info.sentiment_label
        return replace(
            self,
            volume=self.volume + 1,
            negative=self.negative + (label == "negative"),
            neutral=self.neutral + (label == "neutral"),
            positive=self.positive + (label == "positive"),
            reach_sum=self.reach_sum + _finite(info.reach),
            impact_sum=self.impact_sum + _finite(info.impact),
            first_at=self.first_at if self.first_at is not None or at is None else at,
            last_at=at if at is not None else self.last_at,
            top=merge_top(self.top, (TopMention.of(info),), max_top),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["top"] = [t.to_dict() for t in self.top]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowCounts:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["top"] = tuple(TopMention.from_dict(t) for t in data.get("top", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class Baseline:
    """One brand's normal: EWMAs of mentions per minute and of the negative share (see module docstring).

    ``volume_sum`` / ``weight`` is the exponentially weighted mean of per-minute volume (``weight`` is the
    decayed number of minutes, which removes the start-up bias); ``negative_sum`` / ``labelled_sum`` is
    the baseline negative share. ``windows`` counts the minutes absorbed (warm-up); ``last_start`` is the
    start of the last minute absorbed.
    """

    half_life_minutes: float = 60.0
    share_half_life_minutes: float = 360.0
    volume_sum: float = 0.0
    weight: float = 0.0
    negative_sum: float = 0.0
    labelled_sum: float = 0.0
    windows: int = 0
    last_start: float | None = None

    @classmethod
    def from_config(cls, config: AlertConfig | BaselineConfig | None = None) -> Baseline:
        cfg = config.baseline if isinstance(config, AlertConfig) else (config or BaselineConfig())
        return cls(half_life_minutes=cfg.half_life_minutes, share_half_life_minutes=cfg.share_half_life_minutes)

    @property
    def volume_per_minute(self) -> float:
        """Expected mentions per minute (0 before the first window)."""
        return self.volume_sum / self.weight if self.weight > 0 else 0.0

    @property
    def negative_share(self) -> float | None:
        """Baseline share of negative among sentiment-labelled mentions (``None`` before any)."""
        return self.negative_sum / self.labelled_sum if self.labelled_sum > 0 else None

    def _decay(self, minutes: int) -> tuple[float, float]:
        a = 0.5 ** (minutes / self.half_life_minutes)
        b = 0.5 ** (minutes / self.share_half_life_minutes)
        return a, b

    def _quiet(self, minutes: int) -> Baseline:
        """``minutes`` zero-volume windows, in closed form."""
        if minutes <= 0:
            return self
        a1 = 0.5 ** (1.0 / self.half_life_minutes)
        a, b = self._decay(minutes)
        # weight' = weight * a1^m + sum_{j<m} a1^j
        return replace(
            self,
            volume_sum=self.volume_sum * a,
            weight=self.weight * a + (1.0 - a) / (1.0 - a1),
            negative_sum=self.negative_sum * b,
            labelled_sum=self.labelled_sum * b,
            windows=self.windows + minutes,
        )

    def absorb(self, closed: WindowCounts) -> Baseline:
        """The baseline with the closed window ``closed`` absorbed, after the quiet minutes between the last
        absorbed window and this one. A window at or before ``last_start`` is ignored (idempotent)."""
        if self.last_start is not None:
            if closed.start <= self.last_start:
                return self
            gap = int(round((closed.start - self.last_start) / WINDOW_SECONDS)) - 1
        else:
            gap = 0
        base = self._quiet(gap)
        a, b = base._decay(1)
        return replace(
            base,
            volume_sum=base.volume_sum * a + closed.volume,
            weight=base.weight * a + 1.0,
            negative_sum=base.negative_sum * b + closed.negative,
            labelled_sum=base.labelled_sum * b + closed.labelled,
            windows=base.windows + 1,
            last_start=closed.start,
        )

    def catch_up(self, now: float | datetime) -> Baseline:
        """Absorb as quiet every whole minute between the last absorbed window and the window containing
        ``now`` (nothing before the first window: a brand never seen has no baseline yet)."""
        if self.last_start is None:
            return self
        current = window_start(now)
        gap = int(round((current - self.last_start) / WINDOW_SECONDS)) - 1
        if gap <= 0:
            return self
        return replace(self._quiet(gap), last_start=current - WINDOW_SECONDS)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def roll_window(
    window: WindowCounts | None, baseline: Baseline, now: float | datetime
) -> tuple[WindowCounts, Baseline, WindowCounts | None]:
    """Make sure the open window is the one containing ``now``.

    Returns ``(open_window, baseline, closed)``: when ``now`` is past the window, the window is closed,
    absorbed into the baseline (with the quiet minutes since), and a fresh window is opened; ``closed``
    is the window just closed (``None`` otherwise). A ``now`` before the open window (clock skew)
    keeps the open window.
    """
    start = window_start(now)
    if window is not None and window.start >= start:
        return window, baseline, None
    if window is not None:
        baseline = baseline.absorb(window)
    baseline = baseline.catch_up(now)
    return WindowCounts(start=start), baseline, window


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
# Statistics


def poisson_log_sf(k: int, lam: float) -> float:
    """``log P(X ≥ k)`` for ``X ~ Poisson(lam)``, accurate far into the tail (no underflow to -inf).

    For ``k > lam`` the terms ``e^-λ λ^j / j!`` for ``j ≥ k`` decrease geometrically: sum them in log
    space from ``j = k``. Otherwise the tail is large and ``1 − P(X ≤ k − 1)`` is summed the same way
    downwards from ``j = k − 1``.
    """
    if k <= 0:
        return 0.0
    if lam <= 0:
        return -math.inf
    log_lam = math.log(lam)

    def log_term(j: int) -> float:
        return -lam + j * log_lam - math.lgamma(j + 1)

    if k > lam:
        total, term, j = 1.0, 1.0, k
        while True:
            j += 1
            term *= lam / j
            total += term
            if term < 1e-17 * total:
                break
        return log_term(k) + math.log(total)
    # k <= lam: cdf of k - 1, summed downwards (terms decrease as j goes down from below the mode)
    total, term, j = 1.0, 1.0, k - 1
    while j > 0:
        term *= j / lam
        j -= 1
        total += term
        if term < 1e-17 * total:
            break
    cdf = math.exp(log_term(k - 1)) * total
    return math.log1p(-min(cdf, 1.0)) if cdf < 1.0 else -math.inf


def poisson_sf(k: int, lam: float) -> float:
    """``P(X ≥ k)`` for ``X ~ Poisson(lam)`` (may underflow to 0.0 far in the tail; see :func:`poisson_log_sf`)."""
    return math.exp(poisson_log_sf(k, lam))


def binomial_log_sf(x: int, n: int, p: float) -> float:
    """``log P(X ≥ x)`` for ``X ~ Binomial(n, p)``, summed in log space from ``j = x`` (exact)."""
    if x <= 0:
        return 0.0
    if x > n or p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)

    def log_term(j: int) -> float:
        return base - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q

    terms = [log_term(j) for j in range(x, n + 1)] if n - x < 10_000 else None
    if terms is None:  # very large windows: the normal tail is accurate there
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        return math.log(max(1e-300, 0.5 * math.erfc((x - 0.5 - mean) / (sd * math.sqrt(2.0)))))
    top = max(terms)
    return min(0.0, top + math.log(sum(math.exp(t - top) for t in terms)))


def _wilson_lower(x: int, n: int, z: float = 1.959964) -> float:
    if n == 0:
        return 0.0
    p = x / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / den)


def _window_evidence(window: WindowCounts, now: float) -> dict[str, Any]:
    return {
        "window_start": iso(window.start),
        "window_end": iso(window.end),
        "window_elapsed_s": _r(min(WINDOW_SECONDS, max(0.0, now - window.start)), 1),
        "top_mentions": [t.to_dict() for t in window.top],
    }


def _warm(baseline: Baseline, config: AlertConfig) -> bool:
    return baseline.windows >= config.baseline.warmup_windows and baseline.weight > 0


# --------------------------------------------------------------------------------------------------
# Window rules: (brand, window, baseline, config, now) -> AlertCandidate | None


def volume_spike_rule(
    brand: str, window: WindowCounts, baseline: Baseline, config: AlertConfig, now: float | datetime
) -> AlertCandidate | None:
    """Volume spike in the open window: Poisson upper tail ``P(X ≥ k | λ)`` with ``λ = max(λ_floor,
    EWMA mentions per minute)``; fires when ``p < p_threshold`` and ``k ≥ min_count`` and ``k ≥ min_ratio·λ``."""
    c = config.volume_spike
    if not c.enabled or not _warm(baseline, config):
        return None
    k = window.volume
    if k < c.min_count:
        return None
    expected = baseline.volume_per_minute
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
            "observed": k,
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
        title=f"Volume spike for {brand}: {k} mentions in the last minute vs {expected:.1f} expected",
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
        title=(
            f"Negative surge for {brand}: {share:.0%} negative ({x} of {n}) in the last minute "
            f"vs {p0:.0%} usually"
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


def _mention_evidence(info: MentionInfo) -> dict[str, Any]:
    return {
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


def influencer_rule(brand: str, info: MentionInfo, config: AlertConfig) -> AlertCandidate | None:
    """A negative mention (label negative or score ≤ ``max_sentiment_score``) by an author with influence
    ≥ ``min_influence``."""
    c = config.influencer
    if not c.enabled or info.influence is None or info.influence < c.min_influence:
        return None
    if not info.is_negative(c.max_sentiment_score):
        return None
    who = info.author or "an unknown author"
    evidence = _mention_evidence(info)
    evidence["critics"] = [who]
    return AlertCandidate(
        rule="influential_critic",
        brand=brand,
        severity="critical" if info.influence >= c.critical_influence else "warning",
        title=f"Influential critic for {brand}: {who} (influence {info.influence:.0f}) posted a negative mention",
        evidence=evidence,
    )


@functools.lru_cache(maxsize=4096)
def _compile_keyword(keyword: str) -> tuple[tuple[str, bool], ...]:
    """A keyword as a sequence of (folded word, is_prefix)."""
    words = keyword.split()
    if not words:
        raise ValueError("empty keyword")
    out: list[tuple[str, bool]] = []
    for i, word in enumerate(words):
        prefix = word.endswith("*")
        core = word[:-1] if prefix else word
        if "*" in core:
            raise ValueError(f"keyword {keyword!r}: '*' is only allowed at the end of a word")
        parts = tokenize(core)
        if not parts:
            raise ValueError(f"keyword {keyword!r}: {word!r} has no letters or digits")
        for j, part in enumerate(parts):
            out.append((query_key(part), prefix and j == len(parts) - 1))
    return tuple(out)


def _matches_at(keys: Sequence[tuple[str, ...]], i: int, pattern: tuple[tuple[str, bool], ...]) -> bool:
    if i + len(pattern) > len(keys):
        return False
    for (word, prefix), token_keys in zip(pattern, keys[i : i + len(pattern)]):
        if not any(key == word or (prefix and key.startswith(word)) for key in token_keys):
            return False
    return True


def match_keywords(text: str, lang: str, config: CrisisKeywordConfig) -> list[tuple[str, str]]:
    """The configured keywords found in ``text``: ``(keyword, the words of the text that matched)``, one per
    keyword, in order of first occurrence."""
    if config.cross_language or lang not in config.keywords:
        keywords = [kw for words in config.keywords.values() for kw in words]
    else:
        keywords = list(config.keywords[lang])
    keywords = list(dict.fromkeys(keywords))
    if not keywords or not text:
        return []
    tokens = tokenize(text)
    keys = [forms(token) for token in tokens]
    found: list[tuple[int, str, str]] = []
    for keyword in keywords:
        pattern = _compile_keyword(keyword)
        for i in range(len(keys)):
            if _matches_at(keys, i, pattern):
                found.append((i, keyword, " ".join(tokens[i : i + len(pattern)])))
                break
    found.sort(key=lambda f: f[0])
    return [(kw, matched) for _i, kw, matched in found]


def keyword_rule(brand: str, info: MentionInfo, config: AlertConfig) -> AlertCandidate | None:
    """A crisis keyword in the mention's title or text (see the module docstring)."""
    c = config.crisis_keyword
    if not c.enabled:
        return None
    text = f"{info.title}\n{info.text}" if info.title else info.text
    matches = match_keywords(text, info.lang, c)
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
    evidence = _mention_evidence(info)
    evidence["keywords"] = [kw for kw, _m in matches]
    evidence["matched"] = [m for _kw, m in matches]
    return AlertCandidate(
        rule="crisis_keyword",
        brand=brand,
        severity=severity,
        title=f"Crisis keyword for {brand}: {words} in a {'negative ' if negative else ''}mention by {info.author or 'an unknown author'}",
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
