"""Faults: Elasticsearch goes away for over a minute in the middle of a replay, and comes back.

The worker runs the production configuration (the model on, the default batches in flight); 5 % of the
replay are broken records, dead-lettered (to Kafka) while Elasticsearch is down. After the outage:
distinct dead letters + indexed == published, every brand window counts exactly what was indexed.
"""

from __future__ import annotations

import time

import pytest

from streams.sources.producer import MentionProducer
from streams.sources.replay.generate import generate_mentions
from tests.integration.helpers import (
    accounting,
    broken_feed_records,
    check_brand_windows,
    check_broken_dead_lettered,
    distinct_dead_letters,
    drained,
    generated_brands_watch,
    indexed_count,
    packed,
    wait_for,
)
from tests.integration.test_metrics import scrape, total

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 65


def publish(settings, mentions, broken) -> int:
    """The mentions with a broken record after every ``len(mentions) // len(broken)``; returns how many."""
    every = len(mentions) // len(broken)
    with MentionProducer(settings) as producer:
        for i, mention in enumerate(mentions):
            producer.send_mention(mention)
            if i % every == every - 1 and i // every < len(broken):
                producer.send_raw(*broken[i // every][:2])
    assert producer.report.published == len(mentions) + len(broken) and producer.report.failed == 0, producer.report
    return producer.report.published


def test_worker_rides_out_an_elasticsearch_outage_and_catches_up(services, lytter_production, worker_factory, tmp_path):
    started = time.monotonic()
    settings = lytter_production.model_copy(update={"watch_file": generated_brands_watch(tmp_path / "watch.yaml")})
    everything = packed(generate_mentions(5000, seed=31), seconds_apart=0.1)  # 8 minutes: every brand window open
    first, second = everything[:3000], everything[3000:]
    broken = broken_feed_records(250, seed=31)
    published = publish(settings, first, broken[:150])
    worker = worker_factory(settings)
    wait_for(lambda: indexed_count(settings) >= 300, 180, "the replay under way", worker, interval=0.2)
    services.launcher.down(names=["elasticsearch"])
    try:
        published += publish(settings, second, broken[150:])  # ingest goes on during the outage
        time.sleep(OUTAGE_SECONDS)
        assert worker.alive(), worker.log_tail()
        log = worker.log_tail(3000)
        assert "Elasticsearch unavailable" in log
        retries = total(scrape(settings), "lytter_worker_es_retries_total")
        assert retries >= 1, "the outage is not visible in the metrics"
    finally:
        services.launcher.up(names=["elasticsearch"])
    wait_for(lambda: indexed_count(settings) >= len(everything), 300, "catching up after the outage", worker)
    wait_for(lambda: len(distinct_dead_letters(settings)) >= len(broken), 60, "every broken record dead-lettered", worker)
    time.sleep(2)
    figures = accounting(settings, published)
    assert figures["indexed"] == len(everything) and figures["dead_letters_distinct"] == len(broken), figures
    assert indexed_count(settings, {"exists": {"field": "sentiment"}}) == len(everything), "the model did not score every mention"
    check_broken_dead_lettered(settings, broken, distinct_dead_letters(settings))
    wait_for(lambda: drained(settings, settings.topic_by_brand), 180, "the brand windows caught up", worker)
    brands, windows = check_brand_windows(settings, label_tolerance=2)  # model on: see the helper
    assert brands == 10 and windows >= brands * 7, (brands, windows)
    print(f"Elasticsearch outage ({OUTAGE_SECONDS}s): {figures}, {windows} windows of {brands} brands checked, {time.monotonic() - started:.0f}s")
