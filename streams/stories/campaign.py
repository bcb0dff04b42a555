"""Coordinated-campaign signal of a story: many distinct authors posting near-identical text fast.

A story's stored state (:mod:`streams.stories.index`) keeps, per distinct author, the publication time
of that author's first copy (at most ``max_authors`` authors: enough for any sensible ``min_authors``),
and the sum of the members' estimated Jaccard similarity to the story's first member.
:func:`signal_of` turns that into a :class:`CampaignSignal`; :func:`is_campaign` applies the rule.

Rule and defaults (:class:`CampaignConfig`): a story is a possible coordinated campaign when
**at least 8 distinct authors** posted it **within 10 minutes** (the fastest run of 8 consecutive new
authors, by publication time, spans at most 600 s) and the copies are **alike** (mean estimated
Jaccard to the first member at least 0.8: copy-paste, not organic quoting, which adds words).
Eight authors because organic reposting of one post by a handful of friends is common, and ten
minutes because a human audience spreads over hours while a bot network or a "post this now" call
lands within minutes. One author posting many times is never a campaign (that is spam, and counts
once per author here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CampaignConfig", "CampaignSignal", "is_campaign", "record_author", "signal_of"]

#: Distinct authors whose first-post time a story keeps.
MAX_AUTHORS = 64


class CampaignConfig(BaseModel):
    """Thresholds of the coordinated-campaign flag (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Flag stories that look like coordinated campaigns")
    min_authors: int = Field(8, ge=2, le=MAX_AUTHORS, description="Distinct authors a story needs")
    window_s: float = Field(600.0, gt=0, description="... whose first posts lie within this many seconds")
    min_similarity: float = Field(
        0.8, ge=0, le=1, description="Mean estimated Jaccard similarity of the copies to the story's first member"
    )


@dataclass(frozen=True)
class CampaignSignal:
    """How a story spread: ``authors`` distinct authors; ``similarity`` the mean estimated Jaccard of its
    members to its first member (1.0 for a story of one); ``seconds`` the shortest time in which
    ``min_authors`` distinct authors posted it (None with fewer authors); ``first_seen`` / ``last_seen``
    publication times (epoch s); ``example`` the first member's text (shortened)."""

    story_id: str
    authors: int
    similarity: float
    seconds: float | None
    size: int = 1
    first_seen: float | None = None
    last_seen: float | None = None
    example: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "authors": self.authors,
            "similarity": round(self.similarity, 3),
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "example": self.example,
        }


def record_author(story: dict[str, Any], author: str | None, published_ts: float, max_authors: int = MAX_AUTHORS) -> None:
    """Note ``author``'s earliest post time in the stored ``story`` (in place). Unknown authors are not
    counted: an anonymous feed is no evidence of many people."""
    if not author:
        return
    times: dict[str, float] = story.setdefault("authors", {})
    if author in times:
        times[author] = min(times[author], published_ts)
    elif len(times) < max_authors:
        times[author] = published_ts


def _fastest_run(times: list[float], n: int) -> float | None:
    """Shortest span of ``n`` consecutive sorted times (None with fewer than ``n``)."""
    if len(times) < n:
        return None
    ordered = sorted(times)
    return min(ordered[i + n - 1] - ordered[i] for i in range(len(ordered) - n + 1))


def signal_of(story_id: str, story: Mapping[str, Any], min_authors: int = 8) -> CampaignSignal:
    """The :class:`CampaignSignal` of a stored story (``seconds`` for ``min_authors`` authors)."""
    times = list((story.get("authors") or {}).values())
    size = int(story.get("size", 1))
    similarity = 1.0 if size <= 1 else (1.0 + float(story.get("sim_sum", 0.0))) / size
    return CampaignSignal(
        story_id=story_id,
        authors=len(times),
        similarity=similarity,
        seconds=_fastest_run(times, min_authors),
        size=size,
        first_seen=story.get("first_ts"),
        last_seen=story.get("last_ts"),
        example=str(story.get("example", "")),
    )


def is_campaign(signal: CampaignSignal | None, config: CampaignConfig | None = None) -> bool:
    """True when ``signal`` meets every threshold of ``config`` (defaults: module docstring).
    ``signal.seconds`` must have been computed for at least ``config.min_authors`` authors."""
    config = config or CampaignConfig()
    if signal is None or not config.enabled or signal.authors < config.min_authors:
        return False
    if signal.seconds is None or signal.seconds > config.window_s:
        return False
    return signal.similarity >= config.min_similarity
