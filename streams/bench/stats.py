"""The arithmetic of the benchmarks, without services: run order, medians with their spread, misses.

Pure functions, shared by ``lytter bench`` (:mod:`streams.bench.endtoend`) and the scripts under
``benchmarks/``, and unit-tested on their own.

* :func:`run_order`: the order of the timed runs of two sides, alternated so that neither side always
  runs first (ABBA: off, on, on, off, off, on, ...);
* :class:`Summary`: the figures of the runs of one side that completed, and the runs that did not
  (misses); printed as ``median (min-max)``, with the misses beside it, never as a figure;
* :func:`percentile`, :func:`median`, :func:`ratio`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

#: The text of a missing figure (a side without a completed run, a ratio against one).
NONE = "-"


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest rank; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def run_order(repeats: int, sides: Sequence[str] = ("off", "on")) -> list[str]:
    """The order of ``repeats`` timed runs of each side: the sides' order rotates from one round to the
    next (two sides: ABBA, so ``off, on, on, off`` for two repeats): neither side is always the first
    after a warm-up or always the one that follows the other."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    names = list(sides)
    if not names:
        return []
    order: list[str] = []
    for rnd in range(repeats):
        shift = rnd % len(names)
        order.extend(names[shift:] + names[:shift])
    return order


def miss_text(done: int, expected: int) -> str:
    """``MISS 9,500/10,000``: what a run that did not finish within its timeout prints instead of a figure."""
    return f"MISS {done:,}/{expected:,}"


def integer(value: float) -> str:
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Summary:
    """The figures of one side over its runs: ``values`` from the runs that completed, ``misses`` (their
    texts, e.g. ``MISS 9,500/10,000``) from those that did not."""

    values: tuple[float, ...] = ()
    misses: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, values: Iterable[float | None], misses: Iterable[str] = ()) -> "Summary":
        return cls(tuple(v for v in values if v is not None), tuple(misses))

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    @property
    def complete(self) -> bool:
        """Every run completed and there was at least one."""
        return bool(self.values) and not self.misses

    def text(self, fmt: Callable[[float], str] = integer) -> str:
        """``median (min-max)`` of the completed runs, then the misses; only the misses if none completed."""
        parts = []
        if self.values:
            parts.append(f"{fmt(self.median)} ({fmt(self.low)}-{fmt(self.high)})")
        if self.misses:
            parts.append(", ".join(self.misses))
        return "; ".join(parts) if parts else NONE


def ratio(top: Summary, bottom: Summary, digits: int = 2) -> str:
    """The ratio of the medians, only when every run of both sides completed (a median over fewer runs
    on one side is not like with like); ``-`` otherwise or when the bottom is 0 or NaN."""
    if not (top.complete and bottom.complete):
        return NONE
    a, b = top.median, bottom.median
    if not b or b != b or a != a:
        return NONE
    return f"{a / b:.{digits}f}x"
