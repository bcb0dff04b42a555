"""Faults: Elasticsearch goes away for over a minute in the middle of a replay, and comes back."""

from __future__ import annotations

import time

import pytest

from streams.sources.replay.generate import generate_mentions
from streams.sources.producer import publish_all
from tests.integration.helpers import indexed_count, topic_count, wait_for
from tests.integration.test_metrics import scrape, total

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 65


def test_worker_rides_out_an_elasticsearch_outage_and_catches_up(services, lytter, worker_factory):
    first = list(generate_mentions(3000, seed=31))
    second = list(generate_mentions(2000, seed=32))
    publish_all(lytter, first)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= 300, 120, "the replay under way", worker, interval=0.2)
    services.launcher.down(names=["elasticsearch"])
    try:
        publish_all(lytter, second)  # ingest goes on during the outage
        time.sleep(OUTAGE_SECONDS)
        assert worker.alive(), worker.log_tail()
        log = worker.log_tail(3000)
        assert "Elasticsearch unavailable" in log
        retries = total(scrape(lytter), "lytter_worker_es_retries_total")
        assert retries >= 1, "the outage is not visible in the metrics"
    finally:
        services.launcher.up(names=["elasticsearch"])
    expected = {m.id for m in first} | {m.id for m in second}
    wait_for(lambda: indexed_count(lytter) >= len(expected), 300, "catching up after the outage", worker)
    time.sleep(2)
    assert indexed_count(lytter) == len(expected)
    assert topic_count(lytter, lytter.topic_deadletter) == 0
