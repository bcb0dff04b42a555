"""Scale-out on the engines' own clustering: workers in one consumer group, Elasticsearch with replicas.

1. Several worker processes share one consumer group over six partitions while a replay (5 % of it
   invalid) comes in; one joins, one is killed with SIGKILL, another joins. Kafka's group protocol and
   Faust's changelog-backed tables move the partitions and their state: nothing may be lost or doubled
   (one document per mention id, published = indexed + distinct dead letters), the author and brand
   tables (read from their changelog topics, the state every next owner recovers) count each mention
   once in every open window, and every incident is opened once (one alert id).
   Not asserted, because the design does not give it: stories and the reply tracker are per partition
   of their own keys, so near-duplicates by authors on different partitions are separate stories.
2. Elasticsearch as a three-node cluster (``streams.ops.services.es_cluster``), mention indices with one
   replica: the node holding the write index's primary is killed mid-replay; the replica is promoted, the
   worker rides through without a restart, the cluster goes yellow and the replay completes, nothing lost.

Ports: the cluster's HTTP ports start at ``LYTTER_TEST_ES_CLUSTER_PORT`` (default 19200) and its transport
ports at ``LYTTER_TEST_ES_CLUSTER_TRANSPORT_PORT`` (default 19300), below Linux's ephemeral range; its
directory is ``LYTTER_TEST_ES_CLUSTER_DIR`` (default ``<services dir>/es-cluster``), wiped before each
session unless ``LYTTER_TEST_KEEP_SERVICES=1`` keeps a running cluster for the next one.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
import yaml
from kafka import KafkaConsumer, TopicPartition

from models.influence import author_key
from streams.ops.kafka_admin import ensure_topics
from streams.ops.services.es_cluster import LocalElasticsearchCluster
from streams.sinks.elasticsearch import setup_indices, sync_client
from streams.sources.replay.generate import _BRANDS, generate_mentions
from tests.integration.conftest import free_port
from tests.integration.helpers import Publisher, alert_docs, dead_letters, drained, indexed_count, opened_on_webhook, start_or_fail, wait_for
from tests.integration.webhook import WebhookReceiver

pytestmark = pytest.mark.integration

KEYWORDS = {"da": ["forsinkelse"], "nb": ["gebyrer"], "sv": ["kom aldrig fram"], "en": ["useless"]}
PARTITIONS = 6
WINDOW_MS = 60_000


# --------------------------------------------------------------------------- helpers


def invalid_record(i: int, rng: random.Random) -> bytes:
    """The ways real feeds are broken: truncated JSON, not UTF-8, a wrong type, a date without a zone."""
    base = {"id": f"bad:{i}", "source": "feed", "text": "Hej Lego", "published_at": "2026-11-23T08:00:00+01:00"}
    kind = i % 4
    if kind == 0:
        return json.dumps(base).encode()[: rng.randrange(5, 40)]
    if kind == 1:
        return b'{"id": "bad:%d", "text": "\xff\xfe\xc3\x28"}' % i
    if kind == 2:
        return json.dumps({**base, "text": 12}).encode()
    return json.dumps({**base, "published_at": "2026-11-23T08:00:00"}).encode()


def replay(count: int, seed: int, invalid_share: float = 0.05) -> tuple[list, list[tuple[bytes, bytes]]]:
    """(valid mentions, every record as (key, value) in publishing order, invalid ones mixed in)."""
    rng = random.Random(seed)
    mentions = list(generate_mentions(count, seed=seed))
    records: list[tuple[bytes, bytes]] = []
    for i, mention in enumerate(mentions):
        records.append((mention.id.encode(), mention.model_dump_json().encode()))
        if rng.random() < invalid_share:
            records.append((f"bad:{i}".encode(), invalid_record(i, rng)))
    return mentions, records


def table_from_changelog(settings, table: str) -> dict[str, object]:
    """A worker table as its changelog topic holds it (newest value per key, deletions removed): the
    state the next owner of each partition recovers, whichever worker wrote it."""
    topic = f"{settings.app_id}-{table}-changelog"
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    state: dict[str, object] = {}
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assert partitions, f"no changelog topic {topic}"
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        for record in consumer:
            key = json.loads(record.key) if record.key[:1] == b'"' else record.key.decode()
            value = None if record.value is None else json.loads(record.value)
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
    finally:
        consumer.close()
    return state


def ids_per_brand_minute(settings) -> dict[tuple[str, int], set[str]]:
    """{(brand, window start ms): mention ids} of everything indexed (scrolls the index)."""
    client = sync_client(settings)
    found: dict[tuple[str, int], set[str]] = defaultdict(set)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        response = client.search(index=settings.es_index_prefix, scroll="1m", size=2000, source=["brands", "published_at"])
        while response["hits"]["hits"]:
            for hit in response["hits"]["hits"]:
                published = client_epoch_ms(hit["_source"]["published_at"])
                for brand in hit["_source"].get("brands") or []:
                    found[(brand, published - published % WINDOW_MS)].add(hit["_id"])
            response = client.scroll(scroll_id=response["_scroll_id"], scroll="1m")
    finally:
        client.close()
    return found


def client_epoch_ms(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def worker_status(settings) -> dict:
    return httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/status/", timeout=10).json()


# --------------------------------------------------------------------------- workers in one group


@pytest.fixture
def group_settings(lytter, tmp_path):
    """Six partitions per topic (the fixture's topics have three) and a watch with crisis keywords."""
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        yaml.safe_dump(
            {
                "brands": [{"name": b, "query": b} for b in _BRANDS],
                "alerts": {"crisis_keyword": {"keywords": KEYWORDS}, "incidents": {"update_interval_s": 120}},
            }
        )
    )
    topics = {name: getattr(lytter, name) + "6" for name in ("topic_raw", "topic_deadletter", "topic_enriched", "topic_by_brand", "topic_alerts", "topic_deletions")}
    settings = lytter.model_copy(update={**topics, "topic_partitions": PARTITIONS, "watch_file": watch, "worker_batch_size": 256})
    ensure_topics(settings)
    return settings


def member(settings, tmp_path: Path, n: int):
    """One worker of the group: its own web port and state directory, the group's everything else."""
    return settings.model_copy(update={"worker_web_port": free_port(), "worker_data_dir": tmp_path / f"member-{n}"})


def test_workers_join_and_one_is_killed_in_one_group_lose_and_repeat_nothing(group_settings, worker_factory, tmp_path):
    settings = group_settings
    mentions, records = replay(4_000, seed=61)
    invalid = {key.decode() for key, value in records if key.startswith(b"bad:")}
    # the default session timeout (15 s): on a busy machine a shorter one expires live members' sessions
    env: dict[str, str] = {}
    with WebhookReceiver() as hook:
        env["LYTTER_WEBHOOK_URL"] = hook.url
        members = [member(settings, tmp_path, n) for n in range(4)]
        a, b = worker_factory(members[0], **env), worker_factory(members[1], **env)
        for w in (a, b):
            wait_for(lambda: "worker ready" in w.log_tail(400), 120, "two workers ready", w)
        publisher = Publisher(settings, records, rate=70.0)  # ~60 s of publishing
        publisher.start()
        wait_for(lambda: indexed_count(settings) >= 400, 120, "the two workers indexing", a)
        c = worker_factory(members[2], **env)  # a third joins: a rebalance over three members
        wait_for(lambda: indexed_count(settings) >= 1_200, 180, "indexing after the third joined", c)
        killed_at = indexed_count(settings)
        a.kill()  # SIGKILL mid-run: its partitions wait out the session timeout, then move
        d = worker_factory(members[3], **env)  # and a fourth joins while they do
        publisher.join(180)
        assert publisher.error is None and publisher.report.published == len(records), (publisher.error, publisher.report)
        for w in (b, c, d):
            assert w.alive(), f"a worker died by itself:\n{w.log_tail()}"

        wait_for(lambda: indexed_count(settings) >= len(mentions), 300, "the whole replay indexed", b)
        wait_for(lambda: indexed_count(settings, {"exists": {"field": "influence"}}) >= len(mentions), 180, "influence on every mention", b)
        for topic in (settings.topic_by_brand, settings.topic_alerts):
            wait_for(lambda: drained(settings, topic), 180, f"the group through {topic}", b)
        wait_for(lambda: opened_on_webhook(hook, settings), 120, "every alert opened on the webhook", b)
        time.sleep(3)
        shares = {name: worker_status(m)["indexed"] for name, m in (("b", members[1]), ("c", members[2]), ("d", members[3]))}
        docs, received = alert_docs(settings), hook.alerts()

    letters = dead_letters(settings)
    distinct = {(letter.topic, letter.partition, letter.offset) for letter in letters}
    print(f"scale-out: {len(records):,} published, {indexed_count(settings):,} indexed, dead letters {len(distinct)} distinct "
          f"/ {len(letters)} written; indexed before the kill {killed_at:,}; indexed per survivor {shares}")
    assert killed_at < len(mentions), "the kill came after everything was indexed"
    # every survivor and both newcomers took part: the group really spread the partitions
    assert all(n > 0 for n in shares.values()), shares
    # nothing lost, nothing doubled: one document per valid mention id, each invalid record dead-lettered
    assert indexed_count(settings) == len(mentions)
    assert indexed_count(settings) + len(distinct) == len(records)
    assert {letter.key for letter in letters} == invalid and all(letter.reason for letter in letters)
    # the author table counted each mention once, across four owners of its partitions
    authors = table_from_changelog(settings, "authors")
    expected_authors = Counter(author_key(m) for m in mentions if m.author is not None)
    assert {key: value["state"]["mentions"] for key, value in authors.items()} == dict(expected_authors)
    # the brand windows: every open window of every brand holds exactly the ids published in its minute
    brands = table_from_changelog(settings, "brands")
    indexed_ids = ids_per_brand_minute(settings)
    checked = 0
    for brand, state in brands.items():
        for start, window in state["windows"].items():
            start_ms = int(float(start) * 1000)
            assert set(window["seen"]) == indexed_ids[(brand, start_ms)], (brand, start)
            assert window["volume"] == len(window["seen"]), (brand, start, window["volume"])
            checked += 1
    assert checked >= len(_BRANDS) * 5, f"only {checked} open windows: the replay spans ~8 minutes of 10 brands"
    # alerts: one incident per brand and rule, each opened once on the webhook
    keyword_brands = {b for m in mentions for b in _BRANDS if re.search(rf"(?<!\w){b}(?!\w)", m.text)
                      and any(word in m.text.lower() for words in KEYWORDS.values() for word in words)}
    assert keyword_brands, "no keyword in the replay: the alert check would prove nothing"
    opened = Counter((doc["brand"], doc["rule"]) for doc in docs)
    assert opened == Counter({(brand, "crisis_keyword"): 1 for brand in keyword_brands}), opened
    opens = Counter(alert["alert_id"] for _, alert in received if alert["status"] == "open")
    assert set(opens) == {doc["alert_id"] for doc in docs}
    # at-least-once delivery: only the one kill may repeat one POST (between the POST and its record)
    repeated = {k: n for k, n in Counter((a["alert_id"], a["status"], a.get("updates", 0)) for _, a in received).items() if n > 1}
    assert len(repeated) <= 1 and all(n == 2 for n in repeated.values()), repeated


# --------------------------------------------------------------------------- Elasticsearch cluster


def _keep() -> bool:
    return os.environ.get("LYTTER_TEST_KEEP_SERVICES", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def es_cluster(services):
    cluster = LocalElasticsearchCluster(
        services.settings,
        nodes=3,
        http_base_port=int(os.environ.get("LYTTER_TEST_ES_CLUSTER_PORT", "19200")),
        transport_base_port=int(os.environ.get("LYTTER_TEST_ES_CLUSTER_TRANSPORT_PORT", "19300")),
        directory=Path(os.environ.get("LYTTER_TEST_ES_CLUSTER_DIR") or services.settings.services_dir / "es-cluster"),
        heap="384m",  # three nodes beside the session's services on a small machine
    )
    if not _keep():
        cluster.wipe()
    try:
        start_or_fail("the three-node Elasticsearch cluster", lambda: cluster.up(timeout=300))
    except BaseException:  # pytest.fail included: stop the nodes that did start
        cluster.down()
        raise
    yield cluster
    if not _keep():
        cluster.down()


@pytest.fixture
def on_cluster(lytter, es_cluster):
    """The test's names on the cluster, one replica per mention index, both copies off node 1 (the node
    the worker talks to), so that killing the primary's node is a data node's death, not the client's."""
    settings = lytter.model_copy(update={"es_url": es_cluster.url(1), "es_replicas": 1})
    setup_indices(settings)
    client = sync_client(settings)
    try:
        client.indices.put_settings(index=f"{settings.es_index_prefix}-*", settings={"index.routing.allocation.exclude._name": "node-1"})
        # the exclusion moves copies off node 1 in the background: wait until none is left there
        deadline = time.monotonic() + 240
        while True:
            client.cluster.health(index=f"{settings.es_index_prefix}-*", wait_for_status="green", wait_for_no_relocating_shards=True, timeout="30s")
            placed = es_cluster.shard_nodes(f"{settings.es_index_prefix}-000001")
            if "node-1" not in placed["primary"] + placed["replica"] and len(placed["primary"]) == len(placed["replica"]) == 1:
                break
            assert time.monotonic() < deadline, f"shards still on node-1 after 240 s: {placed}"
            time.sleep(2)
        yield settings
    finally:
        client.indices.delete(index=f"{settings.es_index_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        client.indices.delete(index=settings.es_alerts_index, ignore_unavailable=True)
        client.options(ignore_status=404).indices.delete_index_template(name=f"{settings.es_index_prefix}-template")
        client.close()


def test_a_data_node_killed_mid_replay_loses_nothing_and_the_worker_rides_through(on_cluster, es_cluster, worker_factory):
    settings = on_cluster
    write_index = f"{settings.es_index_prefix}-000001"
    placed = es_cluster.shard_nodes(write_index)
    assert len(placed["primary"]) == 1 and len(placed["replica"]) == 1 and "node-1" not in placed["primary"] + placed["replica"], placed
    mentions, records = replay(5_000, seed=67)
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    worker_pid = worker.pid
    publisher = Publisher(settings, records, rate=120.0)  # ~45 s of publishing
    publisher.start()
    wait_for(lambda: indexed_count(settings) >= 1_000, 120, "a fifth of the replay indexed", worker)
    victim = es_cluster.node_named(placed["primary"][0])
    es_cluster.kill(victim.node_id)
    killed_at, killed_clock = indexed_count(settings), time.monotonic()
    health = es_cluster.wait_nodes(2, 90, status=("yellow",))
    print(f"es cluster: killed {victim.name} (primary of {write_index}) at {killed_at:,} indexed; yellow after "
          f"{time.monotonic() - killed_clock:.1f} s with {health['unassigned_shards']} unassigned shard(s)")
    assert health["unassigned_shards"] >= 1, health  # the lost copies have nowhere to go: node 1 is excluded
    publisher.join(180)
    assert publisher.error is None and publisher.report.published == len(records), (publisher.error, publisher.report)
    wait_for(lambda: indexed_count(settings) >= len(mentions), 240, "every mention indexed after the node died", worker)
    time.sleep(2)

    assert killed_at < len(mentions), "the node died after the replay was indexed"
    promoted = es_cluster.shard_nodes(write_index)
    assert promoted["primary"] and victim.name not in promoted["primary"], promoted  # the replica took over
    assert indexed_count(settings) == len(mentions)  # _id = mention id: none lost, none doubled
    letters = dead_letters(settings)
    assert len({(x.topic, x.partition, x.offset) for x in letters}) + len(mentions) == len(records)
    assert all(x.key.startswith("bad:") for x in letters), [x.reason for x in letters if not x.key.startswith("bad:")][:5]
    assert worker.alive() and worker.pid == worker_pid, worker.log_tail()  # rode through, no restart
    # the node comes back: its copy recovers from the new primary and the cluster is green again
    es_cluster.start(victim.node_id)
    es_cluster.wait_nodes(3, 180, status=("green",))
