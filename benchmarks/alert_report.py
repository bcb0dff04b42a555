"""The pure half of ``benchmarks/alert_latency.py``: waiting for the expected alerts, and the report.

Each run expects one open alert per rule in ``expected`` for its incident brand. The bench waits for all
of them up to a stated timeout; a rule whose alert did not arrive in time is a miss, printed as one
beside the p50/p99 of the alerts that did arrive (not left out, which would make the percentiles count
only the early alerts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from streams.bench.stats import NONE, percentile

#: The alerts an incident of the scenario raises (tests/integration/test_alerts_scenario.py).
INCIDENT_RULES = ("volume_spike", "negative_surge", "influential_critic", "crisis_keyword")

Received = tuple[float, dict]  # (wall-clock time the webhook received it, the alert)
#: Width of the report's measure column.
WIDTH = 57


def first_open(alerts: Iterable[Received], brand: str) -> dict[str, Received]:
    """The first open alert of each rule for ``brand``, by the time it was received."""
    out: dict[str, Received] = {}
    for at, alert in sorted(alerts, key=lambda item: item[0]):
        if alert.get("brand") == brand and alert.get("status") == "open":
            out.setdefault(alert["rule"], (at, alert))
    return out


def wait_for_alerts(fetch: Callable[[], Iterable[Received]], brand: str, expected: Sequence[str], timeout: float,
                    step: float = 0.1, sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic) -> dict[str, Received]:
    """Poll ``fetch()`` until an open alert of every rule in ``expected`` arrived for ``brand``, or
    ``timeout`` seconds passed; the first open alert of each rule that arrived by then."""
    deadline = clock() + timeout
    while True:
        arrived = first_open(fetch(), brand)
        if all(rule in arrived for rule in expected) or clock() >= deadline:
            return arrived
        sleep(step)


@dataclass
class IncidentRun:
    """One run: when its incident started (first incident mention sent) and the alerts that arrived."""

    run: int
    start: float
    expected: tuple[str, ...]
    arrived: Mapping[str, Received] = field(default_factory=dict)
    sent: Mapping[str, float] = field(default_factory=dict)  # mention id -> wall-clock send time

    @property
    def missing(self) -> list[str]:
        return [rule for rule in self.expected if rule not in self.arrived]

    @property
    def first_alert(self) -> float | None:
        """Seconds from the first incident mention to the first alert of any rule; ``None``: none arrived."""
        return min(at for at, _ in self.arrived.values()) - self.start if self.arrived else None

    def detection(self, rule: str) -> float | None:
        return self.arrived[rule][0] - self.start if rule in self.arrived else None

    def pipeline(self, rule: str) -> float | None:
        """Trigger mention sent -> alert received; ``None`` when it did not arrive or names no sent mention."""
        if rule not in self.arrived:
            return None
        at, alert = self.arrived[rule]
        trigger = (alert.get("evidence") or {}).get("mention_id")
        return at - self.sent[trigger] if trigger in self.sent else None

    def line(self, timeout: float) -> str:
        got = f"first alert after {self.first_alert:.2f}s" if self.arrived else "no alert"
        rules = ", ".join(sorted(self.arrived)) or "none"
        missed = f"; MISS {', '.join(self.missing)} (not within {timeout:g} s)" if self.missing else ""
        return f"run {self.run}: {got}; rules {rules}{missed}"


def _row(measure: str, values: Sequence[float], missed: int | None) -> str:
    p50 = f"{percentile(values, .5):.2f}" if values else NONE
    p99 = f"{percentile(values, .99):.2f}" if values else NONE
    miss = NONE if missed is None else (f"MISS {missed}" if missed else "0")
    return f"{measure:<{WIDTH}}{len(values):>8}{miss:>9}{p50:>9}{p99:>9}"


def report(runs: Sequence[IncidentRun], expected: Sequence[str], timeout: float, speed: float) -> list[str]:
    """The report lines: per measure the alerts that arrived (n, p50, p99 of them) and the misses."""
    lines = [
        f"alert latency over {len(runs)} incidents (speed {speed:g}x); waited up to {timeout:g} s after each replay "
        f"for the alerts {', '.join(expected)}; p50/p99 of the alerts that arrived, misses beside them",
        f"{'measure':<{WIDTH}}{'arrived':>8}{'missed':>9}{'p50 s':>9}{'p99 s':>9}",
    ]
    firsts = [r.first_alert for r in runs if r.first_alert is not None]
    lines.append(_row("first alert after first incident mention", firsts, len(runs) - len(firsts)))
    rules = list(expected) + sorted({rule for r in runs for rule in r.arrived} - set(expected))
    for rule in rules:
        missed = sum(rule not in r.arrived for r in runs) if rule in expected else None
        values = [v for r in runs if (v := r.detection(rule)) is not None]
        lines.append(_row(f"detection, {rule}", values, missed))
    for rule in rules:
        missed = sum(rule not in r.arrived for r in runs) if rule in expected else None
        values = [v for r in runs if (v := r.pipeline(rule)) is not None]
        lines.append(_row(f"pipeline (trigger sent -> webhook), {rule}", values, missed))
    misses = sum(len(r.missing) for r in runs)
    lines.append(f"misses: {misses} of {len(runs) * len(expected)} expected alerts did not arrive within {timeout:g} s"
                 if misses else f"every expected alert arrived within {timeout:g} s")
    return lines
