"""Per-brand windows, baselines and incidents in the stream: the alert rules applied to live state.

Time is event time: each brand's clock is the latest ``published_at`` seen for it (its watermark), so a
replay of yesterday's stream raises the alerts yesterday would have raised, and a backfill older than
``max_mention_age_s`` behind the watermark is not counted as a burst. The open 1-minute window is
evaluated on every mention, so a spike alerts seconds into the burst.

Replays are idempotent: the ids counted in the open window are kept with it, and a mention counted
already changes nothing (at-least-once delivery after a crash must not inflate the counts).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from streams.alerting.incidents import AlertAction, IncidentBook
from streams.alerting.rules import (
    AlertConfig,
    Baseline,
    MentionInfo,
    WindowCounts,
    evaluate_mention,
    evaluate_window,
    roll_window,
)


class BrandAlerting:
    def __init__(self, windows: MutableMapping, incidents: MutableMapping, config: Callable[[], AlertConfig]) -> None:
        self.windows = windows
        self.incidents = incidents
        self.config = config

    def _state(self, brand: str, config: AlertConfig) -> tuple[WindowCounts | None, Baseline, float, list[str]]:
        stored: dict[str, Any] | None = self.windows.get(brand)
        if not stored:
            return None, Baseline.from_config(config), 0.0, []
        window = WindowCounts.from_dict(stored["window"]) if stored.get("window") else None
        return window, Baseline.from_dict(stored["baseline"]), float(stored["watermark"]), list(stored.get("seen", []))

    def _book(self, brand: str, config: AlertConfig) -> IncidentBook:
        stored = self.incidents.get(brand)
        return IncidentBook.from_dict(stored, config.incidents) if stored else IncidentBook(config.incidents)

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
        brand, windows_value, book_value = pending
        self.windows[brand] = windows_value
        self.incidents[brand] = book_value

    def evaluate(self, brand: str, info: MentionInfo) -> tuple[list[AlertAction], tuple | None]:
        """The alert actions for one mention, and the new state to ``commit`` (nothing is written here)."""
        config = self.config()
        window, baseline, watermark, seen = self._state(brand, config)
        published = info.published_at if info.published_at is not None else watermark
        now = max(watermark, published)
        if info.id in seen:
            return [], None
        counted = published >= now - config.max_mention_age_s
        window, baseline, closed = roll_window(window, baseline, now)
        if closed is not None:
            seen = []
        candidates = []
        if counted:
            window = window.add(info, now=now, max_top=config.top_mentions)
            seen.append(info.id)
            candidates += evaluate_window(brand, window, baseline, config, now)
        candidates += evaluate_mention(brand, info, config)
        book = self._book(brand, config)
        actions = book.tick(now)
        for candidate in candidates:
            action = book.consider(candidate, now)
            if action is not None:
                actions.append(action)
        windows_value = {"window": window.to_dict(), "baseline": baseline.to_dict(), "watermark": now, "seen": seen}
        return actions, (brand, windows_value, book.to_dict())

    def window_summary(self, brand: str) -> dict[str, Any] | None:
        """The open window and baseline of a brand (for status views)."""
        stored = self.windows.get(brand)
        if not stored:
            return None
        window = WindowCounts.from_dict(stored["window"])
        baseline = Baseline.from_dict(stored["baseline"])
        net = (window.positive - window.negative) / (window.positive + window.negative) if window.positive + window.negative else None
        return {
            "brand": brand,
            "window_start": window.start,
            "volume": window.volume,
            "negative": window.negative,
            "neutral": window.neutral,
            "positive": window.positive,
            "net_sentiment": net,
            "reach": window.reach_sum,
            "baseline_per_minute": baseline.volume_per_minute,
            "top_authors": sorted({t.author for t in window.top if t.author}),
        }
