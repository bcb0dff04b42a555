"""Crash loop: ``kill -9`` the worker ten times at random points while it works through 20,000 mentions.

Whatever the kill interrupts (start-up, table recovery, a batch half indexed, an alert half delivered),
the run must end with every mention indexed or dead-lettered exactly once, every incident opened once
(one alert id), the changelog-backed tables (authors, brand windows) counting each mention once, and a
webhook delivery repeated only where a kill fell between a POST and its record.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import httpx
import pytest
import yaml

from models.influence import author_key
from streams.sources.replay.generate import _BRANDS, generate_mentions
from tests.integration.helpers import Publisher, alert_docs, dead_letters, drained, indexed_count, opened_on_webhook, wait_for
from tests.integration.webhook import WebhookReceiver

pytestmark = pytest.mark.integration

MENTIONS = 20_000
KILLS = 10
KEYWORDS = {"da": ["forsinkelse"], "nb": ["gebyrer"], "sv": ["kom aldrig fram"], "en": ["useless"]}


def brand_of(text: str) -> str | None:
    """The brand a generated mention is about (each names exactly one)."""
    found = [b for b in _BRANDS if re.search(rf"(?<!\w){re.escape(b)}(?!\w)", text)]
    return found[0] if len(found) == 1 else None


@pytest.fixture
def crash_settings(lytter, tmp_path):
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        yaml.safe_dump(
            {
                "brands": [{"name": b, "query": b} for b in _BRANDS],
                "alerts": {"crisis_keyword": {"keywords": KEYWORDS}, "incidents": {"update_interval_s": 120}},
            }
        )
    )
    return lytter.model_copy(update={"watch_file": watch, "worker_batch_size": 256})


def test_ten_kills_during_a_20k_replay_lose_and_duplicate_nothing(crash_settings, worker_factory):
    settings = crash_settings
    rng = random.Random(20_000)
    mentions = list(generate_mentions(MENTIONS, seed=41))
    with WebhookReceiver() as hook:
        # ~2 minutes of publishing: every kill lands while the replay is still coming in
        publisher = Publisher(settings, mentions, rate=160.0)
        publisher.start()
        kills = []
        in_startup = set(rng.sample(range(KILLS), 2))  # two kills during start-up / table recovery
        for n in range(KILLS):
            worker = worker_factory(settings, LYTTER_WEBHOOK_URL=hook.url, LYTTER_WORKER_SESSION_TIMEOUT="8")
            before = indexed_count(settings)
            if n in in_startup:
                time.sleep(rng.uniform(1.0, 6.0))
            else:  # the others in the middle of processing: after this worker has indexed something
                wait_for(lambda: indexed_count(settings) > before, 120, f"worker {n} processing", worker, interval=0.2)
                time.sleep(rng.uniform(0.0, 2.0))
            done = indexed_count(settings)
            assert done < MENTIONS, f"the replay finished after {n} kills; the test must kill mid-run"
            assert worker.alive(), f"worker {n} died by itself:\n{worker.log_tail()}"
            worker.kill()
            kills.append((n in in_startup, before, done))
        publisher.join(120)
        assert publisher.error is None and publisher.report.published == MENTIONS, (publisher.error, publisher.report)

        worker = worker_factory(settings, LYTTER_WEBHOOK_URL=hook.url, LYTTER_WORKER_SESSION_TIMEOUT="8")
        wait_for(lambda: indexed_count(settings) >= MENTIONS, 600, "the whole replay indexed after the kills", worker)
        # the rest of the pipeline (influence, brand windows, alerts) drains too: every mention was scored
        wait_for(lambda: indexed_count(settings, {"exists": {"field": "influence"}}) >= MENTIONS, 180, "influence on every mention", worker)
        # and the later stages have caught up: brand windows and alerts, then their delivery
        for topic in (settings.topic_by_brand, settings.topic_alerts):
            wait_for(lambda: drained(settings, topic), 180, f"the worker through {topic}", worker)
        wait_for(lambda: opened_on_webhook(hook, settings), 120, "every alert opened on the webhook", worker)
        time.sleep(3)
        authors = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/authors/", timeout=30).json()
        windows = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/brands/", timeout=30).json()
        docs = alert_docs(settings)
        received = hook.alerts()

    assert len(kills) == KILLS, kills
    assert sum(1 for startup, before, done in kills if not startup and done > before) >= KILLS - 2, kills
    # nothing lost, nothing doubled: indexed + dead-lettered == published, one document per mention id
    assert indexed_count(settings) + len(dead_letters(settings)) == MENTIONS
    assert dead_letters(settings) == []
    # the author table counted each mention once, whatever was replayed after each kill
    expected_authors = Counter(author_key(m) for m in mentions if m.author is not None)
    assert {key: state["mentions"] for key, state in authors.items()} == dict(expected_authors)
    # the brand windows too: each brand's newest window holds exactly the mentions of its minute
    for brand, summary in windows.items():
        assert summary is not None, brand
        start_ms = int(summary["window_start"] * 1000)
        in_minute = indexed_count(
            settings,
            {"bool": {"filter": [{"term": {"brands": brand}}, {"range": {"published_at": {"gte": start_ms, "lt": start_ms + 60_000, "format": "epoch_millis"}}}]}},
        )
        assert summary["volume"] == in_minute, (brand, summary, in_minute)
    # alerts: one crisis-keyword incident per brand whose mentions carry a keyword, each opened once
    keyword_brands = {
        brand_of(m.text)
        for m in mentions
        if any(word in m.text.lower() for words in KEYWORDS.values() for word in words)
    } - {None}
    assert keyword_brands, "the generated replay carries no keyword: the alert check would prove nothing"
    opened = Counter((doc["brand"], doc["rule"]) for doc in docs)
    assert opened == Counter({(brand, "crisis_keyword"): 1 for brand in keyword_brands}), opened
    opens = Counter(alert["alert_id"] for _, alert in received if alert["status"] == "open")
    assert set(opens) == {doc["alert_id"] for doc in docs}, opens
    # Delivery to the outside is at-least-once: a kill between a POST and the record of it (flushed right
    # after) repeats that one delivery on restart. Nothing else may repeat: at most one repeat per kill.
    deliveries = Counter((alert["alert_id"], alert["status"], alert.get("updates", 0)) for _, alert in received)
    repeated = {d: n for d, n in deliveries.items() if n > 1}
    assert len(repeated) <= KILLS and all(n == 2 for n in repeated.values()), repeated
