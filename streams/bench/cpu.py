"""CPU time of the processes behind one benchmark run, from ``/proc``: where the cores went, per mention.

A throughput figure alone does not say whether a faster pipeline is possible on the same machine. The
CPU each process spent per mention (worker, Elasticsearch, Kafka, the publisher) does: their sum is what
one mention costs the machine, and ``cores / cost`` is the most any pipeline of those parts can do here
(the *ceiling*), however well its stages overlap.

Linux only (``/proc``); elsewhere every reading is empty and the bench prints no budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

_PROC = Path("/proc")


def cpu_seconds_from_stat(stat: str, ticks_per_second: int) -> float:
    """User + system CPU seconds of all threads of a process, from the text of ``/proc/<pid>/stat``.

    The command name (field 2) may hold spaces and parentheses, so the fields are counted from the
    last ``)``; utime and stime are fields 14 and 15.
    """
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def _ticks() -> int:
    return os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    try:
        return cpu_seconds_from_stat((_PROC / str(pid) / "stat").read_text(), _ticks())
    except (OSError, ValueError, IndexError):
        return None


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of the live processes of a process group (a service and what its launcher started)."""
    from streams.ops.services.process import _group_members

    return sum(process_cpu_seconds(pid) or 0.0 for pid in _group_members(pgid))


@dataclass(frozen=True)
class CpuBudget:
    """CPU seconds each part spent on ``mentions`` mentions in ``seconds`` of wall time on ``cores`` cores."""

    mentions: int
    seconds: float
    cores: int
    spent: Mapping[str, float] = field(default_factory=dict)  # part -> CPU seconds

    def per_mention_ms(self, part: str) -> float:
        return self.spent.get(part, 0.0) * 1000 / self.mentions if self.mentions else float("nan")

    @property
    def total_ms(self) -> float:
        """CPU milliseconds one mention cost the machine, all parts together."""
        return sum(self.spent.values()) * 1000 / self.mentions if self.mentions else float("nan")

    @property
    def utilisation(self) -> float:
        """Share of the machine's cores busy with these parts during the run."""
        return sum(self.spent.values()) / (self.seconds * self.cores) if self.seconds and self.cores else float("nan")

    @property
    def ceiling(self) -> float:
        """Mentions/s these parts could reach with every core busy: cores / CPU cost of one mention."""
        return self.cores * 1000 / self.total_ms if self.total_ms else float("nan")


class CpuMeter:
    """Reads the CPU seconds of named processes (pids) and process groups at start and stop."""

    def __init__(self, pids: Mapping[str, int | None] | None = None, groups: Mapping[str, int | None] | None = None) -> None:
        self.pids = {k: v for k, v in (pids or {}).items() if v}
        self.groups = {k: v for k, v in (groups or {}).items() if v}
        self._start: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, pid in self.pids.items():
            value = process_cpu_seconds(pid)
            if value is not None:
                out[name] = value
        for name, pgid in self.groups.items():
            out[name] = group_cpu_seconds(pgid)
        return out

    def start(self) -> None:
        self._start = self.read()

    def stop(self, mentions: int, seconds: float, cores: int | None = None) -> CpuBudget:
        end = self.read()
        spent = {name: max(0.0, end[name] - self._start[name]) for name in end if name in self._start}
        return CpuBudget(mentions=mentions, seconds=seconds, cores=cores or os.cpu_count() or 1, spent=spent)


def budget_rows(parts: Iterable[str], with_model: CpuBudget, without: CpuBudget) -> list[tuple[str, str, str, str]]:
    """Bench table rows: CPU ms per mention per part, the total, utilisation and the ceiling, model on vs off."""
    rows = []
    for part in parts:
        on, off = with_model.per_mention_ms(part), without.per_mention_ms(part)
        rows.append((f"CPU ms per mention: {part}", f"{on:.2f}", f"{off:.2f} (model off)", f"{on / off:.2f}x" if off else "-"))
    rows.append(("CPU ms per mention: all parts", f"{with_model.total_ms:.2f}", f"{without.total_ms:.2f} (model off)", f"{with_model.total_ms / without.total_ms:.2f}x" if without.total_ms else "-"))
    rows.append(("cores busy during the run", f"{with_model.utilisation:.0%}", f"{without.utilisation:.0%} (model off)", "-"))
    rows.append((f"ceiling mentions/s ({with_model.cores} cores / CPU per mention)", f"{with_model.ceiling:,.0f}", f"{without.ceiling:,.0f} (model off)", f"{with_model.ceiling / without.ceiling:.2f}x" if without.ceiling else "-"))
    return rows


def median_budget(budgets: Iterable[CpuBudget | None]) -> CpuBudget | None:
    """One budget from several runs of one side: the median wall time and, per part, the median CPU
    seconds (parts a run did not measure count as 0 there); ``None`` without any budget."""
    import statistics

    measured = [b for b in budgets if b is not None]
    if not measured:
        return None
    parts = sorted({part for b in measured for part in b.spent})
    return CpuBudget(
        mentions=measured[0].mentions,
        seconds=statistics.median(b.seconds for b in measured),
        cores=measured[0].cores,
        spent={part: statistics.median(b.spent.get(part, 0.0) for b in measured) for part in parts},
    )
