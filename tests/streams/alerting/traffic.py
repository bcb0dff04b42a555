"""Simulated traffic for the alerting tests: mentions, baselines and windows built from counts."""

from __future__ import annotations

from streams.alerting.config import AlertConfig
from streams.alerting.mentions import MentionInfo
from streams.alerting.windows import Baseline, WindowCounts

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


def burst_window(n: int, start: float = T0 + 60 * 60, label: str = "neutral") -> WindowCounts:
    w = WindowCounts(start=start)
    for i in range(n):
        w = w.add(info(f"b{i}", label=label), now=start + i * 0.5)
    return w


def mixed_window(negative: int, other: int, start: float = T0 + 3600) -> WindowCounts:
    w = WindowCounts(start=start)
    for i in range(negative):
        w = w.add(info(f"n{i}", label="negative"), now=start + i)
    for i in range(other):
        w = w.add(info(f"o{i}", label="neutral"), now=start + negative + i)
    return w
