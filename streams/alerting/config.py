"""Alerting configuration of one brand watch: :class:`AlertConfig` (embedded in the brand-watch YAML)
with the baseline, the four rules' thresholds and the incident de-duplication.

Unknown keys are errors (``extra="forbid"``), so a typo in the YAML does not silently fall back to a
default. The rules that read these are in :mod:`streams.alerting.rules`, the baseline in
:mod:`streams.alerting.windows`, the incidents in :mod:`streams.alerting.incidents`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.alerting.keywords import _compile_keyword
from streams.stories.campaign import CampaignConfig

__all__ = [
    "DEFAULT_KEYWORDS",
    "AlertConfig",
    "BaselineConfig",
    "CampaignConfig",
    "CrisisKeywordConfig",
    "IncidentConfig",
    "InfluencerConfig",
    "NegativeSurgeConfig",
    "VolumeSpikeConfig",
]


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
    count: Literal["mentions", "stories"] = Field(
        "mentions",
        description="What the rule counts per minute: every mention, or distinct stories (a repost wave of one post "
        "is one story, so 'stories' alerts on many things being said, not on one thing being copied)",
    )
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
    campaign: CampaignConfig = Field(
        default_factory=CampaignConfig, description="When a story in an alert's window counts as a possible coordinated campaign"
    )
    top_mentions: int = Field(10, ge=1, description="Top mentions by |impact| kept per window")
    max_window_stories: int = Field(
        500, ge=1, description="Story ids kept per 1-minute window to count distinct stories; beyond it every mention counts as a new story"
    )
    max_mention_age_s: float = Field(
        3600.0, gt=0, description="Mentions published longer ago than this (backfills) are not counted in windows"
    )
    allowed_lateness_s: float = Field(
        600.0,
        ge=0,
        description="How far behind a brand's newest mention (its watermark) a mention may arrive and still be counted "
        "in the 1-minute window of its own publication time; windows further back are closed into the baseline",
    )
