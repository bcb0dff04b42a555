from datetime import timedelta

import pytest

from streams.alerting.config import AlertConfig
from streams.alerting.incidents import IncidentBook
from streams.alerting.rules import AlertCandidate
from streams.answer import ReplyTracker, UnansweredWatch, close_quiet_incidents, waiting_severity

from .conftest import T0

BRAND = "did:plc:nordlys"
DEADLINE = (T0 + timedelta(minutes=30)).timestamp()  # Nordlys on Bluesky: 30 min


@pytest.fixture
def tracker(store, watch, clock):
    return ReplyTracker(store, lambda: watch, clock)


@pytest.fixture
def alerts(store):
    return UnansweredWatch(store, update_interval_s=60)


def ask(tracker, alerts, mention, mention_id="q1", minutes=0.0, **kw):
    item = mention(mention_id, "@nordlys.bsky.social hvornår kommer min regning?", minutes=minutes, **kw)
    alerts.track(tracker.observe([item]))
    return item


def reply(tracker, alerts, mention, parent, minutes):
    alerts.track(tracker.observe([mention(f"r-{parent}", "Vi kigger på det", author=BRAND, parent=parent, minutes=minutes)]))


def test_fires_exactly_at_the_deadline_and_closes_on_the_reply(tracker, alerts, mention):
    ask(tracker, alerts, mention)
    assert alerts.tick(DEADLINE - 1) == []
    [opened] = alerts.tick(DEADLINE)
    assert (opened.kind, opened.alert.rule, opened.alert.brand, opened.alert.severity) == ("open", "unanswered", "Nordlys", "info")
    evidence = opened.alert.evidence
    assert (evidence["waiting"], evidence["oldest_waiting_minutes"], evidence["target_minutes"]) == (1, 30.0, 30.0)
    assert [t["id"] for t in evidence["top_mentions"]] == ["q1"]
    assert alerts.tick(DEADLINE + 5) == []  # nothing new
    reply(tracker, alerts, mention, "q1", minutes=40)
    [closed] = alerts.tick(DEADLINE + 700)
    assert (closed.kind, closed.alert.alert_id, closed.alert.status) == ("close", opened.alert.alert_id, "closed")
    assert alerts.tick(DEADLINE + 800) == []


def test_an_answer_in_time_raises_nothing(tracker, alerts, mention):
    ask(tracker, alerts, mention)
    reply(tracker, alerts, mention, "q1", minutes=10)
    assert alerts.tick(DEADLINE + 3600) == []


def test_one_incident_per_brand_lists_the_waiting_mentions_and_updates_rate_limited(tracker, alerts, mention):
    ask(tracker, alerts, mention, "q1", minutes=0)
    ask(tracker, alerts, mention, "q2", minutes=0.5)
    [opened] = alerts.tick(DEADLINE)
    assert opened.alert.evidence["waiting"] == 1
    assert alerts.tick(DEADLINE + 30) == []  # q2 is overdue, but the last send was 30 s ago
    [updated] = alerts.tick(DEADLINE + 60)
    assert (updated.kind, updated.alert.alert_id, updated.alert.updates) == ("update", opened.alert.alert_id, 1)
    assert updated.alert.evidence["waiting"] == 2
    assert updated.alert.evidence["mention_ids"] == ["q1", "q2"]  # the longest waiting first


def test_a_rise_in_severity_is_sent_at_once(tracker, alerts, mention):
    ask(tracker, alerts, mention, "q1", minutes=0)
    ask(tracker, alerts, mention, "q2", minutes=15.5, influence=80)  # critical: 15 min target
    [opened] = alerts.tick(DEADLINE)
    [updated] = alerts.tick(DEADLINE + 30)  # within the update interval
    assert (opened.alert.severity, updated.kind, updated.alert.severity) == ("info", "update", "critical")


def test_restart_rebuilds_the_deadlines_and_keeps_the_open_incident(store, tracker, mention):
    ask(tracker, UnansweredWatch(store), mention)
    [opened] = UnansweredWatch(store).tick(DEADLINE)
    restarted = UnansweredWatch(store)
    assert restarted.tick(DEADLINE + 120) == []  # no second open
    reply(tracker, restarted, mention, "q1", minutes=50)
    [closed] = restarted.tick(DEADLINE + 1300)
    assert (closed.kind, closed.alert.alert_id) == ("close", opened.alert.alert_id)


def test_a_handled_mention_closes_the_incident_without_a_reply(tracker, alerts, mention):
    ask(tracker, alerts, mention)
    assert alerts.tick(DEADLINE)[0].kind == "open"
    alerts.track(tracker.mark_handled("q1"))
    assert [a.kind for a in alerts.tick(DEADLINE + 1)] == ["close"]


def test_a_critical_mention_gets_the_critical_target(tracker, alerts, mention):
    item = ask(tracker, alerts, mention, influence=75)
    assert item.reply_due_at == T0 + timedelta(minutes=15)
    assert alerts.tick((T0 + timedelta(minutes=15)).timestamp())[0].alert.severity == "critical"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "info"),
        ({"influence": 70}, "critical"),
        ({"influence": 69.9}, "warning"),
        ({"sentiment": "negative", "reach": 10_000}, "critical"),
        ({"sentiment": "negative", "reach": 500}, "warning"),
        ({"sentiment": "negative", "reach": 50_000, "brand_sentiment": {"Nordlys": "positive"}}, "warning"),  # reach only
        ({"intent": "complaint"}, "warning"),
        ({"reach": 999}, "info"),
    ],
)
def test_severity_from_influence_negativity_and_reach(mention, kw, expected):
    assert waiting_severity(mention("m", "x", **kw), "Nordlys") == expected


def _brand_state_with_incident(fired_at: float) -> dict:
    book = IncidentBook(AlertConfig().incidents)
    book.consider(AlertCandidate(rule="crisis_keyword", brand="Nordlys", severity="warning", title="t", evidence={}), fired_at)
    return {"incidents": book.to_dict(), "watermark": fired_at}


def test_close_quiet_incidents_closes_after_the_cooldown_on_the_wall_clock():
    config = AlertConfig()
    states = {"Nordlys": _brand_state_with_incident(1000.0), "Fjordbank": {"watermark": 5.0}}
    assert close_quiet_incidents(states, config, 1000.0 + config.incidents.cooldown_s - 1) == ([], [])
    actions, pending = close_quiet_incidents(states, config, 1000.0 + config.incidents.cooldown_s)
    assert [(a.kind, a.alert.brand) for a in actions] == [("close", "Nordlys")]
    [(brand, value)] = pending
    assert brand == "Nordlys" and value["incidents"]["incidents"] == [] and value["watermark"] == 1000.0
    assert states["Nordlys"]["incidents"]["incidents"]  # nothing written: the caller commits after sending
