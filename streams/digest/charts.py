"""The digest's charts: plain data in, PNG bytes out (matplotlib, Agg).

``matplotlib.figure.Figure`` with its own Agg canvas, never ``pyplot``: no global figure state, so charts
can be drawn in a worker thread next to the event loop. A chart without data is a small "no data"
placeholder (``Chart.empty``), so a report never shows an empty axis as if it were a quiet week.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SENTIMENT_COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
BAR_COLOUR = "#1d70b8"
OTHER_COLOUR = "#b0c4de"
_SIZE = (8.0, 3.0)  # inches at 100 dpi: 800 x 300 px, readable in a mail client without scaling
_DPI = 100


@dataclass(frozen=True)
class Chart:
    name: str  # file-name-safe: the cid of the e-mail part
    title: str
    png: bytes
    empty: bool


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=_SIZE, layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def placeholder(name: str, title: str) -> Chart:
    figure = Figure(figsize=(_SIZE[0], 1.2))
    figure.text(0.5, 0.5, f"{title}: no data in this period", ha="center", va="center", color="#777777", fontsize=12)
    return Chart(name, title, _png(figure), empty=True)


def _day_labels(days: Sequence[date]) -> list[str]:
    # a month or more of days: every label would overlap, so label weeks
    step = 1 if len(days) <= 14 else 7
    return [d.strftime("%a %d %b") if i % step == 0 else "" for i, d in enumerate(days)]


def volume_per_day(per_day: Sequence[tuple[date, int]], title: str = "Mentions per day") -> Chart:
    if not any(count for _, count in per_day):
        return placeholder("volume-per-day", title)
    figure, axes = _figure()
    positions = range(len(per_day))
    axes.bar(positions, [count for _, count in per_day], color=BAR_COLOUR)
    axes.set_xticks(list(positions), _day_labels([day for day, _ in per_day]), fontsize=8)
    axes.set_ylabel("mentions")
    axes.set_title(title, loc="left")
    return Chart("volume-per-day", title, _png(figure), empty=False)


def volume_by_hour(per_hour: Sequence[int], title: str = "Mentions by hour of day") -> Chart:
    if len(per_hour) != 24:
        raise ValueError(f"volume_by_hour needs 24 hourly counts, got {len(per_hour)}")
    if not any(per_hour):
        return placeholder("volume-by-hour", title)
    figure, axes = _figure()
    axes.bar(range(24), list(per_hour), color=BAR_COLOUR)
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)], fontsize=8)
    axes.set_xlabel("hour of day")
    axes.set_ylabel("mentions")
    axes.set_title(title, loc="left")
    return Chart("volume-by-hour", title, _png(figure), empty=False)


def sentiment_mix(per_day: Sequence[tuple[date, dict[str, int]]], title: str = "Sentiment per day") -> Chart:
    if not any(sum(counts.values()) for _, counts in per_day):
        return placeholder("sentiment-mix", title)
    figure, axes = _figure()
    positions = list(range(len(per_day)))
    bottom = [0] * len(per_day)
    for label, colour in SENTIMENT_COLOURS.items():
        heights = [counts.get(label, 0) for _, counts in per_day]
        axes.bar(positions, heights, bottom=bottom, color=colour, label=label)
        bottom = [b + h for b, h in zip(bottom, heights)]
    axes.set_xticks(positions, _day_labels([day for day, _ in per_day]), fontsize=8)
    axes.set_ylabel("mentions")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)  # beside: never over a bar
    axes.set_title(title, loc="left")
    return Chart("sentiment-mix", title, _png(figure), empty=False)


def share_of_voice(counts: Sequence[tuple[str, int]], focus: str | None = None, title: str = "Share of voice") -> Chart:
    total = sum(count for _, count in counts)
    if not total:
        return placeholder("share-of-voice", title)
    ordered = sorted(counts, key=lambda item: item[1])  # largest on top of a horizontal bar chart
    figure = Figure(figsize=(_SIZE[0], max(1.6, 0.45 * len(ordered) + 0.8)), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    colours = [BAR_COLOUR if focus in (None, name) else OTHER_COLOUR for name, _ in ordered]
    bars = axes.barh([name for name, _ in ordered], [count for _, count in ordered], color=colours)
    axes.bar_label(bars, labels=[f"{count} ({count / total:.0%})" for _, count in ordered], padding=3, fontsize=8)
    axes.set_xlabel("mentions")
    axes.margins(x=0.15)  # room for the labels
    axes.set_title(title, loc="left")
    return Chart("share-of-voice", title, _png(figure), empty=False)
