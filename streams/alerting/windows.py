"""Per-brand window state: the 1-minute tumbling windows (:class:`WindowCounts`) and the baseline made
of the windows already closed (:class:`Baseline`).

Pure functions over small, JSON-serialisable values (``to_dict()`` / ``from_dict()``), for the stream
processor (:mod:`streams.alerting.brands`) to keep in Faust tables keyed by brand. Nothing here does
I/O or reads the clock: the caller passes ``now`` (epoch seconds, or an aware ``datetime``). All state
classes are immutable: methods return the new value (``window = window.add(info)``).
``roll_window`` is the single-window form (arrival order), kept for callers that need no lateness.

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

Stories
-------
A window also counts distinct stories (``stories``; near-duplicates share a ``story_id``,
:mod:`streams.stories`; a mention without one is a story of its own). The ids are kept with the window
up to ``max_stories`` (``AlertConfig.max_window_stories``, 500); beyond that every further mention counts
as a new story, so the count can only err towards the mention count. Windows stored before stories
existed have ``stories = None`` and count each of their mentions as a story (``story_count``). The
baseline keeps an EWMA of stories per minute beside the volume one (same half-life), with its own
weight and warm-up count (``story_weight``, ``story_windows``), so a baseline stored before stories
existed warms up for stories from the first window absorbed after the upgrade.

A window keeps ``campaign``: the evidence (story id, authors, similarity, seconds, example) of the
story with the most authors among its mentions that meet the campaign rule
(:func:`streams.stories.campaign.is_campaign`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from models.influence import to_epoch
from streams.alerting.config import AlertConfig, BaselineConfig
from streams.alerting.mentions import MentionInfo, TopMention, merge_top
from streams.alerting.values import _finite
from streams.stories.campaign import CampaignConfig, is_campaign

__all__ = ["WINDOW_SECONDS", "Baseline", "WindowCounts", "roll_window", "window_start"]

WINDOW_SECONDS = 60


def window_start(now: float | datetime) -> float:
    """Start (epoch seconds) of the 1-minute window that contains ``now``."""
    return float(math.floor(to_epoch(now) / WINDOW_SECONDS) * WINDOW_SECONDS)


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
    stories: int | None = None  # distinct stories; None: a window stored before stories were counted
    story_ids: tuple[str, ...] = ()
    campaign: dict[str, Any] | None = None

    @classmethod
    def open(cls, now: float | datetime) -> WindowCounts:
        """An empty window for the minute that contains ``now``."""
        return cls(start=window_start(now))

    @property
    def end(self) -> float:
        return self.start + WINDOW_SECONDS

    @property
    def story_count(self) -> int:
        """Distinct stories (each mention a story of its own in a window stored before stories)."""
        return self.stories if self.stories is not None else self.volume

    @property
    def labelled(self) -> int:
        """Mentions with a sentiment label."""
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.labelled if self.labelled else None

    def contains(self, now: float | datetime) -> bool:
        return self.start <= to_epoch(now) < self.end

    def add(
        self,
        info: MentionInfo,
        now: float | datetime | None = None,
        *,
        max_top: int = 10,
        max_stories: int = 500,
        campaign: CampaignConfig | None = None,
    ) -> WindowCounts:
        """The window with ``info`` counted (``now`` = arrival time, for ``first_at`` / ``last_at``);
        with ``campaign``, the window's ``campaign`` evidence is updated from ``info``'s story facts."""
        at = to_epoch(now) if now is not None else None
        label = info.sentiment_label
        story = info.story_id or info.id
        new_story = story not in self.story_ids
        keep = new_story and len(self.story_ids) < max_stories
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
            stories=self.story_count + new_story,
            story_ids=(*self.story_ids, story) if keep else self.story_ids,
            campaign=_campaign_evidence(self.campaign, info, campaign),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["top"] = [t.to_dict() for t in self.top]
        out["story_ids"] = list(self.story_ids)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowCounts:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["top"] = tuple(TopMention.from_dict(t) for t in data.get("top", ()))
        kwargs["story_ids"] = tuple(data.get("story_ids") or ())
        return cls(**kwargs)


def _campaign_evidence(
    current: dict[str, Any] | None, info: MentionInfo, config: CampaignConfig | None
) -> dict[str, Any] | None:
    """The window's campaign evidence after ``info``: its story's, when that story is a campaign and has
    at least as many authors as the story shown so far (the same story: always, its facts are newer)."""
    if config is None:
        return current
    signal = info.campaign_signal()
    if signal is None or not is_campaign(signal, config):
        return current
    if current is not None and current.get("story_id") != signal.story_id and current.get("authors", 0) > signal.authors:
        return current
    return signal.to_dict()


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
    stories_sum: float = 0.0
    story_weight: float = 0.0
    story_windows: int = 0

    @classmethod
    def from_config(cls, config: AlertConfig | BaselineConfig | None = None) -> Baseline:
        cfg = config.baseline if isinstance(config, AlertConfig) else (config or BaselineConfig())
        return cls(half_life_minutes=cfg.half_life_minutes, share_half_life_minutes=cfg.share_half_life_minutes)

    @property
    def volume_per_minute(self) -> float:
        """Expected mentions per minute (0 before the first window)."""
        return self.volume_sum / self.weight if self.weight > 0 else 0.0

    @property
    def stories_per_minute(self) -> float:
        """Expected distinct stories per minute (0 before the first window with story counts)."""
        return self.stories_sum / self.story_weight if self.story_weight > 0 else 0.0

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
            stories_sum=self.stories_sum * a,
            story_weight=self.story_weight * a + (1.0 - a) / (1.0 - a1),
            story_windows=self.story_windows + minutes,
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
            stories_sum=base.stories_sum * a + closed.story_count,
            story_weight=base.story_weight * a + 1.0,
            story_windows=base.story_windows + 1,
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
