"""Incident de-duplication: one alert per incident, rate-limited updates, escalation, cool-down."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from streams.alerting.delivery import render_plain_text, slack_payload
from streams.alerting.incidents import Alert, AlertAction, IncidentBook, make_alert_id, merge_evidence
from streams.alerting.config import AlertConfig, IncidentConfig
from streams.alerting.mentions import MentionInfo
from streams.alerting.rules import AlertCandidate, influencer_rule

T0 = 1_700_000_040.0
CFG = IncidentConfig(cooldown_s=600, update_interval_s=60, max_evidence_mentions=3)


def spike(observed: int, severity: str = "warning", brand: str = "Lego", elapsed: float = 10.0) -> AlertCandidate:
    return AlertCandidate(
        rule="volume_spike",
        brand=brand,
        severity=severity,
        title=f"Volume spike for {brand}: {observed} mentions in the last minute vs 3.0 expected",
        evidence={
            "p_value": 1e-9,
            "counts": {"observed": observed, "expected_per_minute": 3.0},
            "window_elapsed_s": elapsed,
            "top_mentions": [
                {"id": f"m{observed}", "impact": -float(observed), "url": f"https://x.org/{observed}", "text": "hm", "author": "a"}
            ],
        },
    )


def test_ten_candidates_give_one_open_and_rate_limited_updates():
    book = IncidentBook(CFG)
    actions = [book.consider(spike(10 + i), T0 + 10 * i) for i in range(10)]  # every 10 s for 90 s
    kinds = [a.kind if a else None for a in actions]
    assert kinds == ["open", None, None, None, None, None, "update", None, None, None]
    opened, updated = actions[0].alert, actions[6].alert
    assert opened.status == "open" and opened.updates == 0 and opened.opened_at == opened.updated_at == T0
    assert updated.alert_id == opened.alert_id
    assert updated.status == "updated" and updated.updates == 1 and updated.updated_at == T0 + 60
    assert updated.evidence["counts"]["observed"] == 16
    assert len(book) == 1
    # the evidence of t = 70..90 goes out with the next update once the interval has passed
    assert book.tick(T0 + 100) == []
    (later,) = book.tick(T0 + 120)
    assert later.kind == "update" and later.alert.updates == 2 and later.alert.evidence["counts"]["observed"] == 19
    # top mentions are merged across candidates, ranked by |impact|, bounded
    assert [m["id"] for m in later.alert.evidence["top_mentions"]] == ["m19", "m18", "m17"]
    assert book.tick(T0 + 200) == []  # nothing new


def test_same_evidence_is_not_an_update():
    book = IncidentBook(CFG)
    assert book.consider(spike(12, elapsed=5), T0).kind == "open"
    # only the clock-driven elapsed time differs: no new evidence
    assert book.consider(spike(12, elapsed=50), T0 + 120) is None
    assert book.tick(T0 + 300) == []


def test_severity_escalation_updates_at_once_and_never_goes_down():
    book = IncidentBook(CFG)
    assert book.consider(spike(12), T0).kind == "open"
    action = book.consider(spike(40, "critical"), T0 + 5)  # within the rate limit
    assert action.kind == "update" and action.alert.severity == "critical" and action.alert.updates == 1
    assert book.consider(spike(41, "warning"), T0 + 10) is None
    assert book.get("Lego", "volume_spike").severity == "critical"
    (update,) = book.tick(T0 + 70)
    assert update.alert.severity == "critical" and update.alert.evidence["counts"]["observed"] == 41


def test_cooldown_closes_and_a_later_candidate_opens_a_new_incident():
    book = IncidentBook(CFG)
    first = book.consider(spike(12), T0).alert
    book.consider(spike(13), T0 + 30)
    assert book.tick(T0 + 30 + CFG.cooldown_s - 1) == [AlertAction("update", book.get("Lego", "volume_spike"))]
    (closed,) = book.tick(T0 + 30 + CFG.cooldown_s)
    assert closed.kind == "close" and closed.alert.status == "closed" and closed.alert.alert_id == first.alert_id
    assert closed.alert.updated_at == T0 + 30 + CFG.cooldown_s
    assert len(book) == 0 and book.tick(T0 + 10_000) == []
    again = book.consider(spike(12), T0 + 10_000)
    assert again.kind == "open" and again.alert.alert_id != first.alert_id and again.alert.updates == 0


def test_expired_incident_found_by_consider_is_closed_by_the_next_tick():
    book = IncidentBook(CFG)
    first = book.consider(spike(12), T0).alert
    reopened = book.consider(spike(12), T0 + CFG.cooldown_s + 5)  # no tick in between
    assert reopened.kind == "open" and reopened.alert.alert_id != first.alert_id
    actions = book.tick(T0 + CFG.cooldown_s + 6)
    assert [(a.kind, a.alert.alert_id) for a in actions] == [("close", first.alert_id)]
    assert actions[0].alert.updated_at == T0 + CFG.cooldown_s


def test_incidents_are_per_brand_and_rule():
    book = IncidentBook(CFG)
    assert book.consider(spike(12, brand="Lego"), T0).kind == "open"
    assert book.consider(spike(12, brand="Carlsberg"), T0).kind == "open"
    critic = influencer_rule(
        "Lego",
        MentionInfo(id="c1", text="Skidt", author="@critic", sentiment_label="negative", sentiment_score=-0.9, influence=80.0, impact=-5000.0),
        AlertConfig(),
    )
    assert book.consider(critic, T0).kind == "open"
    assert len(book) == 3 and {(a.brand, a.rule) for a in book.open_alerts()} == {
        ("Lego", "volume_spike"),
        ("Carlsberg", "volume_spike"),
        ("Lego", "influential_critic"),
    }


def test_influencer_alerts_collect_critics_in_one_incident():
    book = IncidentBook(CFG)
    cfg = AlertConfig()

    def critic(i: int, influence: float) -> AlertCandidate:
        info = MentionInfo(
            id=f"c{i}", text=f"Lego skuffer {i}", url=f"https://x.org/c{i}", author=f"@critic{i}",
            sentiment_label="negative", sentiment_score=-0.8, influence=influence, impact=-1000.0 * (i + 1),
        )
        return influencer_rule("Lego", info, cfg)

    assert book.consider(critic(0, 75), T0).kind == "open"
    assert book.consider(critic(1, 80), T0 + 10) is None  # rate-limited, same severity
    escalated = book.consider(critic(2, 95), T0 + 20)  # a critical critic: at once
    assert escalated.kind == "update" and escalated.alert.severity == "critical"
    assert escalated.alert.evidence["critics"] == ["@critic0", "@critic1", "@critic2"]
    assert [m["id"] for m in escalated.alert.evidence["top_mentions"]] == ["c2", "c1", "c0"]
    assert escalated.alert.title.startswith("Influential critic for Lego: @critic2")


def test_alert_document_is_json_safe_with_aware_iso_times():
    book = IncidentBook(CFG)
    candidate = spike(12)
    candidate.evidence["weird"] = (float("nan"), float("inf"), 1.5)
    alert = book.consider(candidate, T0).alert
    doc = alert.to_document()
    json.dumps(doc, allow_nan=False)
    assert set(doc) == {"alert_id", "brand", "rule", "severity", "title", "status", "opened_at", "updated_at", "updates", "evidence"}
    opened = datetime.fromisoformat(doc["opened_at"])
    assert opened.tzinfo is not None and opened.timestamp() == T0
    assert doc["evidence"]["weird"] == [None, None, 1.5]
    assert doc["alert_id"] == make_alert_id("Lego", "volume_spike", T0)
    assert make_alert_id("Lego", "volume_spike", T0) != make_alert_id("Lego", "volume_spike", T0 + 1)
    assert make_alert_id("Lego", "volume_spike", T0) != make_alert_id("Lego", "negative_surge", T0)
    # what delivery makes of it
    text = render_plain_text(doc)
    assert "Volume spike for Lego" in text and "https://x.org/12" in text
    assert slack_payload(doc)["lytter_alert"] == doc


def test_actions_are_snapshots():
    book = IncidentBook(CFG)
    opened = book.consider(spike(12), T0).alert
    book.consider(spike(40, "critical"), T0 + 1)
    assert opened.status == "open" and opened.severity == "warning" and opened.updates == 0


def test_round_trips_keep_pending_state():
    book = IncidentBook(CFG)
    book.consider(spike(12), T0)
    book.consider(spike(13), T0 + 10)  # pending
    book.consider(spike(12, brand="Carlsberg"), T0)
    book.consider(spike(12, brand="Carlsberg"), T0 + CFG.cooldown_s + 1)  # leaves a close in the outbox
    data = json.loads(json.dumps(book.to_dict(), allow_nan=False))
    restored = IncidentBook.from_dict(data, CFG)
    assert restored.to_dict() == book.to_dict()
    assert restored.tick(T0 + 70) == book.tick(T0 + 70)
    alert = restored.get("Lego", "volume_spike")
    assert Alert.from_dict(json.loads(json.dumps(alert.to_dict()))) == alert


def test_merge_evidence_rules():
    old = {"counts": {"a": 1}, "critics": ["x"], "top_mentions": [{"id": "1", "impact": -5.0}], "p_value": 0.1}
    new = {"counts": {"b": 2}, "critics": ["y", "x"], "top_mentions": [{"id": "1", "impact": -9.0}, {"id": "2", "impact": 1.0}]}
    merged = merge_evidence(old, new, max_mentions=10)
    assert merged["counts"] == {"b": 2} and merged["p_value"] == 0.1 and merged["critics"] == ["x", "y"]
    assert [(m["id"], m["impact"]) for m in merged["top_mentions"]] == [("1", -9.0), ("2", 1.0)]
    assert old["critics"] == ["x"]  # inputs untouched


def test_datetime_clock_is_accepted():
    from datetime import timezone

    book = IncidentBook(CFG)
    action = book.consider(spike(12), datetime.fromtimestamp(T0, tz=timezone.utc))
    assert action.alert.opened_at == pytest.approx(T0)
