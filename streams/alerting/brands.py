"""Per-brand windows, baselines and incidents in the stream: the alert rules applied to live state.

Time is event time. Each brand's clock is its **watermark**, the latest ``published_at`` seen for it,
and each mention is counted in the 1-minute tumbling window of its *own* publication minute, however
late or out of order it arrives, as long as that window is still open: windows stay open until the
watermark is ``allowed_lateness_s`` (default 10 min) past their end, then they are closed into the
baseline in order. That makes the counts independent of arrival order, which matters in practice:
after a restart or a consumer lag the stages upstream deliver a backlog from several partitions at
once, one partition ahead of another, and counting by arrival spread a burst over the wrong minutes
(the spike was missed). Mentions too late for their window (or older than ``max_mention_age_s``) are
not counted in any window (``late`` in the state); the per-mention rules still see them.

The rules evaluate the window a mention was counted in, every time it changes, so a spike alerts
seconds into the burst; the baseline they compare with is made of closed windows only.

Replays are idempotent: the ids counted in each open window are kept with it, and a mention counted
already changes nothing (at-least-once delivery after a crash must not inflate the counts).

State per brand, one JSON value in the ``brands`` table: ``{"windows": {"<start>": {window counts...,
"seen": [ids]}}, "baseline": {...}, "watermark": <epoch s>, "late": <count>, "incidents": {...}}``.
Windows and incidents are one value, so one changelog record: a crash can never restore the windows
that counted a mention without the incident that mention opened (which then opened again, under
another id, when the next keyword mention came).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

from streams.alerting.config import AlertConfig
from streams.alerting.incidents import AlertAction, IncidentBook
from streams.alerting.mentions import MentionInfo
from streams.alerting.rules import evaluate_mention, evaluate_window
from streams.alerting.windows import WINDOW_SECONDS, Baseline, WindowCounts, window_start


@dataclass
class BrandWindows:
    """One brand's open windows (by start), their counted ids, the baseline and the watermark."""

    baseline: Baseline
    windows: dict[float, WindowCounts] = field(default_factory=dict)
    seen: dict[float, set[str]] = field(default_factory=dict)  # ids counted per open window
    watermark: float = 0.0
    late: int = 0

    @classmethod
    def load(cls, stored: dict[str, Any] | None, config: AlertConfig) -> BrandWindows:
        if not stored:
            return cls(baseline=Baseline.from_config(config))
        windows, seen = {}, {}
        for start, data in (stored.get("windows") or {}).items():
            windows[float(start)] = WindowCounts.from_dict(data)
            seen[float(start)] = set(data.get("seen", []))
        return cls(
            baseline=Baseline.from_dict(stored["baseline"]),
            windows=windows,
            seen=seen,
            watermark=float(stored.get("watermark", 0.0)),
            late=int(stored.get("late", 0)),
        )

    def dump(self) -> dict[str, Any]:
        windows = {}
        for start in sorted(self.windows):
            windows[repr(start)] = {**self.windows[start].to_dict(), "seen": sorted(self.seen.get(start, ()))}
        return {"windows": windows, "baseline": self.baseline.to_dict(), "watermark": self.watermark, "late": self.late}

    def counted(self, mention_id: str) -> bool:
        return any(mention_id in ids for ids in self.seen.values())

    def advance(self, watermark: float, lateness: float) -> None:
        """Move the watermark forward and close (absorb into the baseline, in order) every window that
        ended more than ``lateness`` before it; the quiet minutes up to there are absorbed as zeros."""
        self.watermark = max(self.watermark, watermark)
        horizon = self.watermark - lateness
        for start in sorted(self.windows):
            if start + WINDOW_SECONDS <= horizon:
                self.baseline = self.baseline.absorb(self.windows.pop(start))
                self.seen.pop(start, None)
        self.baseline = self.baseline.catch_up(horizon)

    def window_for(self, published: float, lateness: float) -> WindowCounts | None:
        """The open window of ``published``'s minute (opened if needed), or None when it is closed already."""
        start = window_start(published)
        if start + WINDOW_SECONDS <= self.watermark - lateness:
            return None  # closed: absorbed into the baseline (``advance`` closes exactly these)
        return self.windows.get(start) or WindowCounts(start=start)

    def baseline_for(self, window: WindowCounts) -> Baseline:
        """The baseline the rules compare ``window`` with: the closed windows only (a burst still open
        must not raise its own expectation). For the warm-up, though, the minutes before ``window`` that
        are still open count as observed too, or the lateness would delay every brand's warm-up by it."""
        if self.baseline.last_start is not None:
            first_open = self.baseline.last_start + WINDOW_SECONDS
        else:
            first_open = min(self.windows, default=window.start)
        minutes_open = max(0, int(round((window.start - first_open) / WINDOW_SECONDS)))
        return replace(
            self.baseline,
            windows=self.baseline.windows + minutes_open,
            story_windows=self.baseline.story_windows + minutes_open,
        )

    @property
    def newest(self) -> WindowCounts | None:
        return self.windows[max(self.windows)] if self.windows else None


class BrandAlerting:
    def __init__(self, states: MutableMapping, config: Callable[[], AlertConfig]) -> None:
        self.states = states
        self.config = config

    def _book(self, stored: dict[str, Any] | None, config: AlertConfig) -> IncidentBook:
        incidents = (stored or {}).get("incidents")
        return IncidentBook.from_dict(incidents, config.incidents) if incidents else IncidentBook(config.incidents)

    def on_mention(self, brand: str, info: MentionInfo) -> list[AlertAction]:
        """Evaluate and commit at once (for callers whose alert output needs no ordering)."""
        actions, pending = self.evaluate(brand, info)
        self.commit(pending)
        return actions

    def commit(self, pending: tuple | None) -> None:
        """Write the state ``evaluate`` computed. The worker calls it only after the alert actions are
        durably in the alerts topic: a crash in between replays the mention, which (event time, stable
        alert ids) yields the same actions again instead of losing them."""
        if pending is None:
            return
        brand, value = pending
        self.states[brand] = value

    def evaluate(self, brand: str, info: MentionInfo) -> tuple[list[AlertAction], tuple | None]:
        """The alert actions for one mention, and the new state to ``commit`` (nothing is written here)."""
        return self.evaluate_batch(brand, [info])

    def evaluate_batch(self, brand: str, infos: list[MentionInfo]) -> tuple[list[AlertAction], tuple | None]:
        """The alert actions for a brand's mentions in arrival order, and the brand's new state to
        ``commit`` (``None`` when nothing changed). The worker commits once per batch, not per mention:
        each commit is a changelog record of the whole brand state."""
        config = self.config()
        stored = self.states.get(brand)
        state = BrandWindows.load(stored, config)
        book = self._book(stored, config)
        actions: list[AlertAction] = []
        changed = False
        for info in infos:
            if state.counted(info.id):
                continue  # a replay after a crash: counted already, its alerts were sent
            changed = True
            actions += self._step(brand, info, state, book, config)
        if not changed:
            return [], None
        return actions, (brand, {**state.dump(), "incidents": book.to_dict()})

    @staticmethod
    def _step(brand: str, info: MentionInfo, state: BrandWindows, book: IncidentBook, config: AlertConfig) -> list[AlertAction]:
        published = info.published_at if info.published_at is not None else state.watermark
        state.advance(published, config.allowed_lateness_s)
        now = state.watermark
        candidates = []
        window = state.window_for(published, config.allowed_lateness_s) if published >= now - config.max_mention_age_s else None
        if window is None:
            state.late += 1
        else:
            window = window.add(
                info, now=now, max_top=config.top_mentions, max_stories=config.max_window_stories, campaign=config.campaign
            )
            state.windows[window.start] = window
            state.seen.setdefault(window.start, set()).add(info.id)
            candidates += evaluate_window(brand, window, state.baseline_for(window), config, now)
        candidates += evaluate_mention(brand, info, config)
        actions = book.tick(now)
        for candidate in candidates:
            action = book.consider(candidate, now)
            if action is not None:
                actions.append(action)
        return actions

    def windows_detail(self, brand: str) -> dict[str, Any] | None:
        """Every open window of a brand with its counts and the ids it counted, and the mentions counted
        in none (``late``): what an audit or a crash test compares with the indexed mentions."""
        stored = self.states.get(brand)
        if not stored:
            return None
        state = BrandWindows.load(stored, self.config())
        windows = {
            repr(start): {"volume": w.volume, "negative": w.negative, "neutral": w.neutral, "positive": w.positive,
                          "seen": sorted(state.seen.get(start, ()))}
            for start, w in sorted(state.windows.items())
        }
        return {"brand": brand, "windows": windows, "late": state.late, "watermark": state.watermark}

    def window_summary(self, brand: str) -> dict[str, Any] | None:
        """The newest open window and the baseline of a brand (for status views)."""
        stored = self.states.get(brand)
        if not stored:
            return None
        state = BrandWindows.load(stored, self.config())
        window = state.newest
        if window is None:
            return None
        net = (window.positive - window.negative) / (window.positive + window.negative) if window.positive + window.negative else None
        return {
            "brand": brand,
            "window_start": window.start,
            "volume": window.volume,
            "stories": window.story_count,
            "negative": window.negative,
            "neutral": window.neutral,
            "positive": window.positive,
            "net_sentiment": net,
            "reach": window.reach_sum,
            "baseline_per_minute": state.baseline.volume_per_minute,
            "baseline_stories_per_minute": state.baseline.stories_per_minute,
            "open_windows": len(state.windows),
            "late": state.late,
            "top_authors": sorted({t.author for t in window.top if t.author}),
        }
