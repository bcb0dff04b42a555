"""Broker faults: a three-node Kafka cluster (replication 3, min ISR 2) loses a broker mid-replay, with the
worker in the production configuration (the model on, the default batches in flight) and 5 % of the
replay broken records: nothing lost, nothing doubled (distinct dead letters + indexed == published).

The cluster is the project's own (``streams.ops.services.cluster``), started for this module on its own ports
(``LYTTER_TEST_CLUSTER_PORT``, default 19092, below Linux's ephemeral range 32768-60999 so no outgoing connection can hold one: nodes on 19092/19094/19096, controllers one port up) next to
the session's single-node Kafka, and wiped first so every run starts from an empty cluster.
"""

from __future__ import annotations

import os
import time

import pytest

from streams.ops.kafka_admin import ensure_topics
from streams.ops.services.cluster import LocalKafkaCluster
from streams.sources.replay.generate import generate_mentions
from tests.integration.helpers import (
    Publisher,
    accounting,
    broken_feed_records,
    check_brand_windows,
    check_broken_dead_lettered,
    distinct_dead_letters,
    drained,
    generated_brands_watch,
    indexed_count,
    packed,
    start_or_fail,
    wait_for,
)

pytestmark = pytest.mark.integration

MENTIONS = 6_000
BROKEN = 300


@pytest.fixture(scope="module")
def kafka_cluster(services):
    cluster = LocalKafkaCluster(
        services.settings,
        nodes=3,
        base_port=int(os.environ.get("LYTTER_TEST_CLUSTER_PORT", "19092")),
        directory=services.settings.services_dir / "kafka-cluster",
    )
    cluster.wipe()
    try:
        start_or_fail("the three-node Kafka cluster", lambda: cluster.up(timeout=240))
    except BaseException:  # pytest.fail included: stop the nodes that did start
        cluster.down()
        raise
    yield cluster
    cluster.down()


def test_killing_a_broker_mid_replay_loses_nothing_and_nobody_restarts(lytter_production, kafka_cluster, worker_factory, tmp_path):
    started = time.monotonic()
    settings = lytter_production.model_copy(
        update={"kafka_bootstrap": kafka_cluster.bootstrap, "topic_replication": 3, "watch_file": generated_brands_watch(tmp_path / "watch.yaml")}
    )
    ensure_topics(settings)
    assert all(len(isr) == 3 for isr in kafka_cluster.in_sync(settings.topic_raw).values())
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    worker_pid = worker.pid

    mentions = packed(generate_mentions(MENTIONS, seed=23), seconds_apart=0.05)  # 5 minutes: every brand window open
    broken = broken_feed_records(BROKEN, seed=23)
    items: list = list(mentions)
    for n, (key, value, _) in enumerate(broken):
        items.insert(n * (MENTIONS // BROKEN) + n, (key, value))
    published = len(items)
    publisher = Publisher(settings, items, rate=150.0)  # ~40 s of publishing
    publisher.start()
    wait_for(lambda: publisher.sent >= MENTIONS // 3, 60, "a third of the replay published", worker)
    # Kill the broker that leads partition 0 of the raw topic: the producer, the worker's consumer and
    # its producer all lose a leader at once.
    victim = kafka_cluster.leaders(settings.topic_raw)[0]
    kafka_cluster.kill(victim)
    killed_at = publisher.sent
    time.sleep(15)  # long enough for the controller to fence it and move leadership
    assert publisher.is_alive() and publisher.sent > killed_at, "publishing stalled while a broker was down"
    kafka_cluster.start(victim)
    publisher.join(240)
    assert not publisher.is_alive(), "the publisher did not finish"
    assert publisher.error is None, f"the ingest producer failed: {publisher.error!r}"
    assert publisher.report.published == published and publisher.report.failed == 0, publisher.report

    wait_for(lambda: indexed_count(settings) >= MENTIONS, 240, "every mention indexed after the broker fault", worker)
    wait_for(lambda: len(distinct_dead_letters(settings)) >= BROKEN, 60, "every broken record dead-lettered", worker)
    time.sleep(2)
    # _id = mention id, dead letters keyed by their raw record: equal counts mean none lost, none doubled
    figures = accounting(settings, published)
    assert figures["indexed"] == MENTIONS and figures["dead_letters_distinct"] == BROKEN, figures
    assert indexed_count(settings, {"exists": {"field": "sentiment"}}) == MENTIONS, "the model did not score every mention"
    check_broken_dead_lettered(settings, broken, distinct_dead_letters(settings))
    wait_for(lambda: drained(settings, settings.topic_by_brand), 180, "the brand windows caught up", worker)
    brands, windows = check_brand_windows(settings, label_tolerance=2)  # model on: see the helper
    assert brands == 10 and windows >= brands * 4, (brands, windows)
    # recovered without a restart: the same worker process, still running
    assert worker.alive() and worker.pid == worker_pid
    # and the restarted broker caught up: every raw partition is fully replicated again
    wait_for(lambda: all(len(isr) == 3 for isr in kafka_cluster.in_sync(settings.topic_raw).values()), 120, "ISR back to 3")
    print(f"broker fault: broker {victim} killed, {figures}, {windows} windows of {brands} brands checked, {time.monotonic() - started:.0f}s")
