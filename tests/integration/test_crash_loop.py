"""Crash loop: ``kill -9`` the worker ten times at random points while it works through 20,000 mentions
and 1,200 broken records (5.7 %: every way of ``helpers.BROKEN_KINDS``), in the production configuration
(the sentiment model on, in its executor thread, with the default batches in flight).

Whatever the kill interrupts (start-up, table recovery, a batch half indexed, a dead letter written but
its batch not acknowledged, an alert half delivered), the run must end with every mention indexed once
and every broken record dead-lettered under its own raw coordinates (a dead letter written again after a
kill has the same key: distinct dead letters + indexed == published), every incident opened once (one
alert id), the changelog-backed tables (authors, every brand window) counting each mention once, and a
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
from streams.ops.health import collect_status
from streams.sources.replay.generate import _BRANDS, generate_mentions
from tests.integration.helpers import (
    Publisher,
    accounting,
    alert_docs,
    broken_feed_records,
    check_broken_dead_lettered,
    check_brand_windows,
    distinct_dead_letters,
    drained,
    indexed_count,
    opened_on_webhook,
    packed,
    topic_count,
    wait_for,
)
from tests.integration.webhook import WebhookReceiver

pytestmark = pytest.mark.integration

MENTIONS = 20_000
BROKEN = 1_200
NO_BRAND = 200  # valid mentions that name no brand: indexed, in no brand window
KILLS = 10
KEYWORDS = {"da": ["forsinkelse"], "nb": ["gebyrer"], "sv": ["kom aldrig fram"], "en": ["useless"]}


def brand_of(text: str) -> str | None:
    """The brand a generated mention is about (each names exactly one)."""
    found = [b for b in _BRANDS if re.search(rf"(?<!\w){re.escape(b)}(?!\w)", text)]
    return found[0] if len(found) == 1 else None


def replay(rng: random.Random) -> tuple[list, list, list]:
    """(what is published in order, the valid mentions, the broken records): 20,000 mentions packed into
    ~8 minutes of publication time (every brand window stays open to the end: all are checked), some
    naming no brand, with the broken records spread among them."""
    mentions = packed(generate_mentions(MENTIONS, seed=41), seconds_apart=0.025)
    for i in rng.sample(range(MENTIONS), NO_BRAND):
        mentions[i] = mentions[i].model_copy(update={"text": f"Ingen nævnt her, bare en regnvejrsdag nummer {i}."})
    broken = broken_feed_records(BROKEN, seed=41)
    items: list = list(mentions)
    for position, (key, value, _) in zip(sorted(rng.sample(range(MENTIONS + BROKEN), BROKEN)), broken):
        items.insert(position, (key, value))
    return items, mentions, broken


@pytest.fixture
def crash_settings(lytter_production, tmp_path):
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        yaml.safe_dump(
            {
                "brands": [{"name": b, "query": b} for b in _BRANDS],
                "alerts": {"crisis_keyword": {"keywords": KEYWORDS}, "incidents": {"update_interval_s": 120}},
            }
        )
    )
    return lytter_production.model_copy(update={"watch_file": watch})


def kill_ten_times(settings, worker_factory, hook, rng: random.Random, total: int) -> list:
    """Start a worker and ``kill -9`` it, ten times: two during start-up / table recovery, the others
    after this worker has indexed something. Returns (in start-up, indexed before, indexed at the kill)."""
    kills = []
    in_startup = set(rng.sample(range(KILLS), 2))
    for n in range(KILLS):
        worker = worker_factory(settings, LYTTER_WEBHOOK_URL=hook.url, LYTTER_WORKER_SESSION_TIMEOUT="8")
        before = indexed_count(settings)
        if n in in_startup:
            time.sleep(rng.uniform(1.0, 6.0))
        else:  # in the middle of processing: model scoring, batches in flight, dead letters on their way
            wait_for(lambda: indexed_count(settings) > before, 120, f"worker {n} processing", worker, interval=0.2)
            time.sleep(rng.uniform(0.0, 2.0))
        done = indexed_count(settings)
        assert done + topic_count(settings, settings.topic_deadletter) < total, f"the replay finished after {n} kills; the test must kill mid-run"
        assert worker.alive(), f"worker {n} died by itself:\n{worker.log_tail()}"
        worker.kill()
        kills.append((n in in_startup, before, done))
    return kills


def test_ten_kills_during_a_20k_replay_with_broken_records_lose_and_duplicate_nothing(crash_settings, worker_factory):
    settings = crash_settings
    rng = random.Random(20_000)
    items, mentions, broken = replay(rng)
    published = len(items)
    started = time.monotonic()
    with WebhookReceiver() as hook:
        # ~2 minutes of publishing: every kill lands while the replay is still coming in
        publisher = Publisher(settings, items, rate=165.0)
        publisher.start()
        kills = kill_ten_times(settings, worker_factory, hook, rng, published)
        publisher.join(120)
        assert publisher.error is None and publisher.report.published == published, (publisher.error, publisher.report)

        worker = worker_factory(settings, LYTTER_WEBHOOK_URL=hook.url, LYTTER_WORKER_SESSION_TIMEOUT="8")
        wait_for(lambda: indexed_count(settings) >= MENTIONS, 600, "the whole replay indexed after the kills", worker)
        wait_for(lambda: len(distinct_dead_letters(settings)) >= BROKEN, 120, "every broken record dead-lettered", worker)
        # the rest of the pipeline (influence, brand windows, alerts) drains too: every mention was scored
        wait_for(lambda: indexed_count(settings, {"exists": {"field": "influence"}}) >= MENTIONS, 180, "influence on every mention", worker)
        # and the later stages have caught up: brand windows and alerts, then their delivery
        for topic in (settings.topic_by_brand, settings.topic_alerts):
            wait_for(lambda: drained(settings, topic), 180, f"the worker through {topic}", worker)
        wait_for(lambda: opened_on_webhook(hook, settings), 120, "every alert opened on the webhook", worker)
        time.sleep(3)
        authors = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/authors/", timeout=30).json()
        docs = alert_docs(settings)
        received = hook.alerts()
        status = collect_status(settings)["dead letters"]

    assert len(kills) == KILLS, kills
    assert sum(1 for startup, before, done in kills if not startup and done > before) >= KILLS - 2, kills
    # nothing lost, nothing doubled: indexed + distinct dead letters == published, one document per mention id
    figures = accounting(settings, published)
    assert figures["indexed"] == MENTIONS and figures["dead_letters_distinct"] == BROKEN, figures
    assert indexed_count(settings, {"exists": {"field": "sentiment"}}) == MENTIONS, "the model did not score every mention"
    # each broken record under its own raw coordinates, with the reason for its kind
    check_broken_dead_lettered(settings, broken, distinct_dead_letters(settings))
    # `lytter status` counts them the same way
    # (status was read before the accounting: repeats written by a replay in between raise only the later total)
    assert status["distinct"] == BROKEN and BROKEN <= status["total"] <= figures["dead_letters_total"], (status, figures)
    # the author table counted each mention once, whatever was replayed after each kill
    expected_authors = Counter(author_key(m) for m in mentions if m.author is not None)
    assert {key: state["mentions"] for key, state in authors.items()} == dict(expected_authors)
    # every brand window (all still open: the replay is packed into fewer minutes than the lateness)
    brands, windows = check_brand_windows(settings, label_tolerance=2)  # model on: see the helper
    assert brands == len(_BRANDS) and windows >= len(_BRANDS) * 8, (brands, windows)
    assert indexed_count(settings, {"bool": {"must_not": {"exists": {"field": "brands"}}}}) >= NO_BRAND
    # alerts: one crisis-keyword incident per brand whose mentions carry a keyword; every incident
    # (whatever rule: the model's labels may raise others) opened once
    keyword_brands = {
        brand_of(m.text)
        for m in mentions
        if any(word in m.text.lower() for words in KEYWORDS.values() for word in words)
    } - {None}
    assert keyword_brands, "the generated replay carries no keyword: the alert check would prove nothing"
    opened = Counter((doc["brand"], doc["rule"]) for doc in docs)
    assert {brand for brand, rule in opened if rule == "crisis_keyword"} == keyword_brands, opened
    assert all(n == 1 for n in opened.values()), opened
    opens = Counter(alert["alert_id"] for _, alert in received if alert["status"] == "open")
    assert set(opens) == {doc["alert_id"] for doc in docs}, opens
    # Delivery to the outside is at-least-once: a kill between a POST and the record of it (flushed right
    # after) repeats that one delivery on restart. Nothing else may repeat: at most one repeat per kill.
    deliveries = Counter((alert["alert_id"], alert["status"], alert.get("updates", 0)) for _, alert in received)
    repeated = {d: n for d, n in deliveries.items() if n > 1}
    assert len(repeated) <= KILLS and all(n == 2 for n in repeated.values()), repeated
    print(f"crash loop: {len(kills)} kills survived, {figures}, alerts {dict(opened)}, {windows} brand windows checked, "
          f"{time.monotonic() - started:.0f}s")
