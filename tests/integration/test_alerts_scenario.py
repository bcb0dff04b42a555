"""Brands, influence and alerts end to end: a scenario with an incident, replayed through the worker."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
import yaml

from streams.sources.producer import MentionProducer
from streams.sources.replay.scenario import Scenario, replay
from tests.integration.helpers import alert_docs, indexed_count, opened_on_webhook, wait_for
from tests.integration.webhook import WebhookReceiver

pytestmark = pytest.mark.integration

INCIDENT_RULES = {"volume_spike", "negative_surge", "influential_critic", "crisis_keyword"}
SPEED = 120.0  # an hour of scenario in 30 seconds


def scenario() -> Scenario:
    return Scenario(seed=11, baseline_minutes=45, incident_at_minute=36, burst_size=60)


def write_watch(path, sc: Scenario) -> None:
    config = sc.watch_config()
    watch = {
        "brands": [{"name": b["name"], "query": b["query"]} for b in config["brands"]],
        "alerts": {
            "crisis_keyword": {"keywords": config["crisis_keywords"]},
            "incidents": {"update_interval_s": 30},
        },
    }
    path.write_text(yaml.safe_dump(watch, allow_unicode=True))


def publish(settings, mentions, speed=SPEED) -> dict[str, float]:
    """Replay at speed; returns the wall-clock publish time of each mention id."""
    sent: dict[str, float] = {}
    with MentionProducer(settings) as producer:

        def send(mention):
            producer.send_mention(mention)
            sent[mention.id] = time.time()

        asyncio.run(replay(mentions, send, speed=speed))
    return sent


@pytest.fixture
def alerting_settings(lytter, sentiment_model_dir, tmp_path):
    watch = tmp_path / "watch.yaml"
    write_watch(watch, scenario())
    return lytter.model_copy(update={"watch_file": watch, "sentiment_enabled": True, "model_path": sentiment_model_dir})


def test_scenario_raises_each_incident_alert_once_and_nothing_for_quiet_brands(alerting_settings, worker_factory):
    sc = scenario()
    mentions = sc.mentions()
    with WebhookReceiver() as hook:
        worker = worker_factory(alerting_settings, LYTTER_WEBHOOK_URL=hook.url)
        wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
        sent = publish(alerting_settings, mentions)
        wait_for(lambda: indexed_count(alerting_settings) >= len(mentions), 180, "scenario indexed", worker)
        wait_for(lambda: {a["rule"] for a in alert_docs(alerting_settings)} >= INCIDENT_RULES, 60, "the four incident alerts", worker)
        wait_for(lambda: opened_on_webhook(hook, alerting_settings), 60, "every alert opened on the webhook", worker)
        time.sleep(3)
        docs = alert_docs(alerting_settings)
        received = hook.alerts()

    by_brand = Counter(doc["brand"] for doc in docs)
    assert set(by_brand) == {sc.incident_brand}, f"alerts for quiet brands: {by_brand}"
    rules = Counter(doc["rule"] for doc in docs)
    assert set(rules) == INCIDENT_RULES and all(count == 1 for count in rules.values()), rules
    opened = Counter(alert["rule"] for _, alert in received if alert["status"] == "open")
    assert opened == Counter({rule: 1 for rule in INCIDENT_RULES}), opened
    critic = next(doc for doc in docs if doc["rule"] == "influential_critic")
    assert sc.critic_mention_id() in {m["id"] for m in critic["evidence"]["top_mentions"]}
    # the webhook heard of the incident within seconds of its first mention being published
    first_incident = min(sent[i] for i in sc.incident_mention_ids())
    first_alert = min(at for at, _ in received)
    assert 0 < first_alert - first_incident < 10


def _web(settings, path):
    import httpx

    return httpx.get(f"http://127.0.0.1:{settings.worker_web_port}{path}", timeout=10).json()


def test_killing_the_worker_mid_incident_keeps_state_and_does_not_duplicate_alerts(alerting_settings, worker_factory):
    from models.influence import author_key

    sc = scenario()
    mentions = sc.mentions()
    with WebhookReceiver() as hook:
        worker = worker_factory(alerting_settings, LYTTER_WEBHOOK_URL=hook.url)
        wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
        incident = set(sc.incident_mention_ids())
        before = [m for m in mentions if m.id not in incident and m.published_at < sc.incident_window()[0]]
        during = [m for m in mentions if m not in before]
        publish(alerting_settings, before)
        publish(alerting_settings, during[: len(during) // 3])
        # Kill once the first delivery is recorded (changelog flushed): the one window where an alert can
        # reach a channel twice is between a POST and that record, and the Idempotency-Key covers it.
        wait_for(lambda: len(hook.alerts()) >= 1 and _web(alerting_settings, "/lytter/status/")["alerts_delivered"] >= 1, 60, "the first alert of the incident delivered and recorded", worker)
        worker.kill()  # SIGKILL in the middle of the incident
        worker = worker_factory(alerting_settings, LYTTER_WEBHOOK_URL=hook.url)
        publish(alerting_settings, during[len(during) // 3 :])
        wait_for(lambda: indexed_count(alerting_settings) >= len(mentions), 180, "scenario indexed after restart", worker)
        wait_for(lambda: {a["rule"] for a in alert_docs(alerting_settings)} >= INCIDENT_RULES, 60, "the four incident alerts", worker)
        wait_for(lambda: opened_on_webhook(hook, alerting_settings), 60, "every alert opened on the webhook", worker)
        time.sleep(3)
        authors = _web(alerting_settings, "/lytter/authors/")
        docs = alert_docs(alerting_settings)
        received = hook.distinct_alerts()
        log_text = worker.log_tail(5000)

    rules = Counter(doc["rule"] for doc in docs)
    assert set(rules) == INCIDENT_RULES and all(count == 1 for count in rules.values()), rules
    # each incident opened once for a receiver that honours the Idempotency-Key (delivery is at-least-once:
    # the kill can fall between a POST and its delivery record)
    opened = Counter(alert["rule"] for _, alert in received if alert["status"] == "open")
    heard = [(alert["rule"], alert["status"], alert.get("updates")) for _, alert in received]
    alert_lines = [line for line in log_text.splitlines() if "alert" in line.lower()]
    assert opened == Counter({rule: 1 for rule in INCIDENT_RULES}), (opened, heard, alert_lines[-30:])
    # every POST names its alert version; a version may repeat only if the kill fell between its POST and
    # its delivery record (at most the one delivery in flight), and the key lets the receiver drop it
    assert None not in hook.keys and len(hook.keys) - len(set(hook.keys)) <= 1, hook.keys
    # author state survived the crash (changelog) and no mention was counted twice by the replay
    expected = Counter(author_key(m) for m in mentions if m.author is not None)
    counted = {key: state["mentions"] for key, state in authors.items()}
    assert counted == dict(expected)
    assert "secret-token" not in log_text  # the webhook URL is a secret
