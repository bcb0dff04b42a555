"""The worker's Prometheus endpoint, scraped while it processes a replay: counters match what happened."""

from __future__ import annotations

import re

import httpx
import pytest

from streams.sources.replay.generate import generate_mentions
from streams.sources.producer import MentionProducer
from tests.integration.helpers import indexed_count, topic_count, wait_for

pytestmark = pytest.mark.integration


def scrape(settings) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/metrics", timeout=5).text
    values: dict[str, float] = {}
    for name, labels, value in re.findall(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", text, re.M):
        values[name + labels] = values.get(name + labels, 0.0) + float(value)
    return values


def total(values: dict[str, float], name: str) -> float:
    return sum(v for k, v in values.items() if k == name or k.startswith(name + "{"))


def test_metrics_count_what_the_worker_processed(lytter_production, worker_factory):
    lytter = lytter_production  # the model on, the default batches in flight
    mentions = list(generate_mentions(600, seed=21))
    with MentionProducer(lytter) as producer:
        for mention in mentions:
            producer.send_mention(mention)
        producer.send_raw(b"bad-1", b"{broken")
        producer.send_raw(b"bad-2", b'{"id": "x"}')
    worker = worker_factory(lytter)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    assert "worker ready: sentiment=on" in worker.log_tail(400)
    during = scrape(lytter)  # scraping while it works must not disturb it
    assert "lytter_worker_received_total" in during
    wait_for(lambda: indexed_count(lytter) + topic_count(lytter, lytter.topic_deadletter) >= 602, 120, "all processed", worker)
    wait_for(lambda: total(scrape(lytter), "lytter_worker_received_total") >= 602, 30, "metrics caught up", worker)
    values = scrape(lytter)
    assert total(values, "lytter_worker_received_total") == 602
    assert total(values, "lytter_worker_indexed_total") == 600 == indexed_count(lytter)
    assert total(values, "lytter_worker_dead_lettered_total") == 2
    assert values['lytter_worker_dead_lettered_total{stage="decode"}'] == 1
    assert values['lytter_worker_dead_lettered_total{stage="validate"}'] == 1
    # publish -> indexed, for every mention indexed (a dead letter is never indexed)
    assert total(values, "lytter_worker_latency_seconds_count") == 600
    assert total(values, "lytter_worker_batch_size_sum") == 602
    lags = {k: v for k, v in values.items() if k.startswith("lytter_worker_consumer_lag{") and lytter.topic_raw in k}
    assert len(lags) == lytter.topic_partitions and all(v == 0 for v in lags.values()), lags
