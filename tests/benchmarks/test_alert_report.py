"""benchmarks/alert_latency.py's pure half: waiting for every expected alert, misses beside p50/p99."""

from __future__ import annotations

import pytest

from benchmarks.alert_report import WIDTH, IncidentRun, first_open, report, wait_for_alerts

RULES = ("volume_spike", "crisis_keyword")


def alert(rule, brand="B 00x", status="open", trigger=None):
    return {"rule": rule, "brand": brand, "status": status, "evidence": {"mention_id": trigger} if trigger else {}}


def test_first_open_alert_of_each_rule_for_the_brand_only():
    alerts = [(5.0, alert("volume_spike")), (3.0, alert("volume_spike")), (1.0, alert("crisis_keyword", brand="other")),
              (2.0, alert("crisis_keyword", status="resolved"))]
    got = first_open(alerts, "B 00x")
    assert list(got) == ["volume_spike"] and got["volume_spike"][0] == 3.0


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_waits_until_every_expected_alert_arrived_not_a_fixed_time():
    clock = Clock()
    script = {0.0: [], 1.0: [(1.0, alert("volume_spike"))], 7.0: [(1.0, alert("volume_spike")), (7.0, alert("crisis_keyword"))]}

    def fetch():
        return max(((t, a) for t, a in script.items() if t <= clock.now), key=lambda kv: kv[0])[1]

    got = wait_for_alerts(fetch, "B 00x", RULES, timeout=30, step=1.0, sleep=clock.sleep, clock=clock)
    assert set(got) == set(RULES)
    assert clock.now == pytest.approx(7.0)  # past the old fixed 4 s, and no longer than needed


def test_stops_at_the_timeout_with_what_arrived():
    clock = Clock()
    got = wait_for_alerts(lambda: [(1.0, alert("volume_spike"))], "B 00x", RULES, timeout=10, step=0.5, sleep=clock.sleep, clock=clock)
    assert list(got) == ["volume_spike"]
    assert clock.now == pytest.approx(10.0)


def test_run_measures_and_misses():
    sent = {"m1": 100.0, "m2": 101.0}
    arrived = {"volume_spike": (104.0, alert("volume_spike", trigger="m2"))}
    run = IncidentRun(3, start=100.0, expected=RULES, arrived=arrived, sent=sent)
    assert run.missing == ["crisis_keyword"]
    assert run.first_alert == pytest.approx(4.0)
    assert run.detection("volume_spike") == pytest.approx(4.0) and run.detection("crisis_keyword") is None
    assert run.pipeline("volume_spike") == pytest.approx(3.0)
    assert run.line(60) == "run 3: first alert after 4.00s; rules volume_spike; MISS crisis_keyword (not within 60 s)"
    assert IncidentRun(4, 0.0, RULES).line(60).startswith("run 4: no alert; rules none; MISS volume_spike, crisis_keyword")


def test_report_prints_misses_beside_the_percentiles_of_the_alerts_that_arrived():
    runs = [
        IncidentRun(0, 0.0, RULES, {"volume_spike": (2.0, alert("volume_spike")), "crisis_keyword": (3.0, alert("crisis_keyword"))}),
        IncidentRun(1, 0.0, RULES, {"volume_spike": (4.0, alert("volume_spike"))}),
        IncidentRun(2, 0.0, RULES, {}),
    ]
    lines = report(runs, RULES, timeout=45, speed=240)
    assert "waited up to 45 s" in lines[0]
    by_measure = {line[:WIDTH].strip(): line[WIDTH:].split() for line in lines[2:-1]}
    assert by_measure["first alert after first incident mention"] == ["2", "MISS", "1", "2.00", "4.00"]
    assert by_measure["detection, volume_spike"] == ["2", "MISS", "1", "2.00", "4.00"]
    assert by_measure["detection, crisis_keyword"] == ["1", "MISS", "2", "3.00", "3.00"]
    # the alert named no sent trigger mention: no pipeline figure for it; the misses are those of the rule
    assert by_measure["pipeline (trigger sent -> webhook), crisis_keyword"] == ["0", "MISS", "2", "-", "-"]
    assert lines[-1] == "misses: 3 of 6 expected alerts did not arrive within 45 s"


def test_report_without_misses_and_with_an_unexpected_rule():
    runs = [IncidentRun(0, 0.0, ("volume_spike",), {"volume_spike": (1.0, alert("volume_spike")), "extra": (2.0, alert("extra"))})]
    lines = report(runs, ("volume_spike",), timeout=30, speed=100)
    by_measure = {line[:WIDTH].strip(): line[WIDTH:].split() for line in lines[2:-1]}
    assert by_measure["detection, volume_spike"][:2] == ["1", "0"]
    assert by_measure["detection, extra"][:2] == ["1", "-"]  # not expected: neither arrived-as-expected nor missed
    assert lines[-1] == "every expected alert arrived within 30 s"
