"""Mentions as the rules see them: :class:`MentionInfo` (what the rules need of one enriched mention,
with that brand's own sentiment) and :class:`TopMention` (a mention kept as evidence, with a bounded
snippet), plus :func:`merge_top` (the top mentions by ``|impact|``) and :func:`is_fresh` (backfills
are not counted in windows).

Story facts: ``story_id`` (near-duplicates share one, :mod:`streams.stories`) and the story's campaign
facts at the time of this mention (``story_size``, ``story_authors``, ``story_similarity``,
``story_seconds``, ``story_first_seen``; see :class:`streams.stories.campaign.CampaignSignal`). All are
optional: stored dicts from before stories existed load with ``None``, and a mention without a story
counts as a story of its own.

Immutable, JSON-serialisable values (``to_dict()`` / ``from_dict()``) for the Faust tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from models.influence import to_epoch
from streams.alerting.values import _r

from streams.stories.campaign import CampaignSignal

if TYPE_CHECKING:
    from streams.alerting.config import AlertConfig

__all__ = ["SNIPPET_CHARS", "MentionInfo", "TopMention", "is_fresh", "merge_top"]

#: Characters of a mention's text kept in evidence.
SNIPPET_CHARS = 280


@dataclass(frozen=True)
class MentionInfo:
    """What the rules need of one enriched mention."""

    id: str
    text: str = ""
    title: str | None = None
    url: str | None = None
    author: str | None = None
    lang: str = "other"
    lang_candidates: tuple[str, ...] = ()  # other languages within reach when the language was in doubt
    published_at: float | None = None
    sentiment_label: str | None = None
    sentiment_score: float | None = None
    influence: float | None = None
    reach: float | None = None
    impact: float | None = None
    story_id: str | None = None
    story_size: int | None = None  # members of the story so far
    story_authors: int | None = None  # distinct authors of the story so far
    story_similarity: float | None = None  # mean estimated Jaccard of the members to the first one
    story_seconds: float | None = None  # fastest run of the campaign rule's min_authors authors
    story_first_seen: float | None = None  # epoch s: the story's earliest publication time

    @classmethod
    def from_enriched(cls, enriched: Any, brand: str | None = None, story: Any = None) -> MentionInfo:
        """From a :class:`~streams.schema.EnrichedMention`; with ``brand``, that brand's own sentiment
        (a mention can praise one brand and run down another), else the mention's. ``story`` is the
        mention's :class:`~streams.stories.index.StoryMatch` or
        :class:`~streams.stories.campaign.CampaignSignal`, for the story facts (``story_id`` alone is
        read from ``enriched.story_id``)."""
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
            lang_candidates=tuple(getattr(enriched, "lang_candidates", ()) or ()),
            published_at=m.published_at.timestamp(),
            sentiment_label=sentiment.label if sentiment is not None else None,
            sentiment_score=float(sentiment.score) if sentiment is not None else None,
            influence=enriched.influence,
            reach=enriched.reach,
            impact=enriched.impact,
            story_id=getattr(enriched, "story_id", None),
            **_story_facts(story),
        )

    def campaign_signal(self) -> CampaignSignal | None:
        """The story's campaign signal as of this mention (None without story facts)."""
        if self.story_id is None or self.story_authors is None:
            return None
        return CampaignSignal(
            story_id=self.story_id,
            authors=self.story_authors,
            similarity=self.story_similarity if self.story_similarity is not None else 0.0,
            seconds=self.story_seconds,
            size=self.story_size or 1,
            first_seen=self.story_first_seen,
            example=TopMention.of(self).text,
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
        values = {k: v for k, v in data.items() if k in known}
        if "lang_candidates" in values:
            values["lang_candidates"] = tuple(values["lang_candidates"] or ())
        return cls(**values)


def _story_facts(story: Any) -> dict[str, Any]:
    """MentionInfo's story fields from a StoryMatch (its ``signal``) or a CampaignSignal."""
    signal = getattr(story, "signal", story)
    if not isinstance(signal, CampaignSignal):
        return {}
    return {
        "story_size": signal.size,
        "story_authors": signal.authors,
        "story_similarity": signal.similarity,
        "story_seconds": signal.seconds,
        "story_first_seen": signal.first_seen,
    }


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
