"""Helpers for integration tests: waiting, counting what was indexed and dead-lettered."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.ops.kafka_admin import topic_end_offsets
from streams.worker.process import WorkerProcess
from streams.schema import DeadLetter
from streams.settings import Settings
from streams.sinks.elasticsearch import sync_client


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess | None = None, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and not worker.alive():
            pytest.fail(f"worker died (exit {worker.exit_code()}) while waiting for {what}:\n{worker.log_tail()}")
        time.sleep(interval)
    detail = f"\nworker log:\n{worker.log_tail()}" if worker is not None else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def start_or_fail(what: str, start: Callable[[], object]) -> None:
    """Start a service the tests need; if it cannot start, fail (never skip) with the launcher's reason."""
    from streams.ops.services import ServiceError

    problem = None
    try:
        start()
    except ServiceError as exc:
        problem = str(exc)
    if problem is not None:  # outside the except block: one clear message, no chained traceback
        pytest.fail(f"{what} could not start:\n{problem}", pytrace=False)


def indexed_count(settings: Settings, query: dict | None = None) -> int:
    """Mentions in the index (matching ``query``, an Elasticsearch query, when given)."""
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        return client.count(index=settings.es_index_prefix, query=query)["count"]
    finally:
        client.close()


def indexed_docs(settings: Settings) -> dict[str, dict]:
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        response = client.search(index=settings.es_index_prefix, size=10_000, query={"match_all": {}})
        return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}
    finally:
        client.close()


def alert_docs(settings: Settings) -> list[dict]:
    """The alert documents in the alerts index (empty before the first alert created it)."""
    client = sync_client(settings)
    try:
        if not client.indices.exists(index=settings.es_alerts_index):
            return []
        client.indices.refresh(index=settings.es_alerts_index)
        return [h["_source"] for h in client.search(index=settings.es_alerts_index, size=1000)["hits"]["hits"]]
    finally:
        client.close()


def drained(settings: Settings, topic: str) -> bool:
    """Whether the worker's consumer group has committed every record of ``topic`` (a later stage has
    caught up: e.g. the alert stage behind the influence stage)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="lytter-test-lag")
    try:
        committed = admin.list_consumer_group_offsets(settings.app_id)
    finally:
        admin.close()
    done = sum(meta.offset for tp, meta in committed.items() if tp.topic == topic and meta.offset >= 0)
    return done >= topic_end_offsets(settings, topic) > 0


def opened_on_webhook(hook, settings: Settings) -> bool:
    """Whether the webhook has heard an "open" for every alert in the alerts index (delivery follows
    indexing, so the index is ahead of the webhook for a moment)."""
    docs = {doc["alert_id"] for doc in alert_docs(settings)}
    heard = {alert["alert_id"] for _, alert in hook.alerts() if alert["status"] == "open"}
    return bool(docs) and docs <= heard


def topic_count(settings: Settings, topic: str) -> int:
    return topic_end_offsets(settings, topic)


def read_topic(settings: Settings, topic: str, timeout: float = 60.0) -> list:
    """Every record of ``topic`` from its beginning to its end offsets now (kafka-python records:
    ``key``, ``value``, ``partition``, ``offset``); fails when the end is not reached in ``timeout``."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False, max_partition_fetch_bytes=8 * 1024 * 1024
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        end = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                pytest.fail(f"could not read {topic} to its end offsets {end} in {timeout:.0f}s")
            for batch in consumer.poll(timeout_ms=500, max_records=10_000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def dead_letter_records(settings: Settings) -> list[tuple[str | None, DeadLetter]]:
    """(Kafka key, dead letter) of every record on the dead-letter topic, repeats included."""
    return [
        (record.key.decode("utf-8") if record.key is not None else None, DeadLetter.model_validate_json(record.value))
        for record in read_topic(settings, settings.topic_deadletter)
    ]


def dead_letters(settings: Settings) -> list[DeadLetter]:
    return [letter for _, letter in dead_letter_records(settings)]


def distinct_dead_letters(settings: Settings) -> dict[str, DeadLetter]:
    """The dead letters by key (the raw record's ``topic/partition/offset``): a repeat written because a
    kill came between a dead letter and its batch's acknowledgement counts once. Checks on the way that
    each key is the letter's own coordinates and that a repeat says what the first one said."""
    by_key: dict[str, DeadLetter] = {}
    for key, letter in dead_letter_records(settings):
        assert key is not None and key == letter.source_key() == f"{letter.topic}/{letter.partition}/{letter.offset}", (key, letter)
        first = by_key.setdefault(key, letter)
        assert (first.stage, first.reason, first.original_b64) == (letter.stage, letter.reason, letter.original_b64), (first, letter)
    return by_key


def raw_coordinates(settings: Settings) -> dict[bytes | None, list[str]]:
    """``topic/partition/offset`` of every record on the raw topic, by record key."""
    found: dict[bytes | None, list[str]] = {}
    for record in read_topic(settings, settings.topic_raw):
        found.setdefault(record.key, []).append(f"{settings.topic_raw}/{record.partition}/{record.offset}")
    return found


def accounting(settings: Settings, published: int) -> dict:
    """published = indexed + distinct dead letters, with the figures the fault tests report."""
    letters = dead_letter_records(settings)
    distinct = distinct_dead_letters(settings)
    indexed = indexed_count(settings)
    figures = {"published": published, "indexed": indexed, "dead_letters_distinct": len(distinct), "dead_letters_total": len(letters)}
    print(f"accounting: {figures}")
    assert indexed + len(distinct) == published, figures
    return figures


class Publisher(threading.Thread):
    """Publishes mentions at a steady rate from a thread (the ingest side), so that faults can be injected
    while it runs. ``sent`` counts what was handed to the producer; ``report`` is the producer's report.
    An item may also be a raw ``(key, value)`` record (bytes as a broken feed sends them)."""

    def __init__(self, settings: Settings, mentions, rate: float) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.mentions = mentions
        self.rate = rate
        self.sent = 0
        self.report = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from streams.sources.producer import MentionProducer

        try:
            start = time.monotonic()
            with MentionProducer(self.settings) as producer:
                for i, mention in enumerate(self.mentions):
                    delay = start + i / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if isinstance(mention, tuple):
                        producer.send_raw(*mention)
                    else:
                        producer.send_mention(mention)
                    self.sent = i + 1
            self.report = producer.report
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


#: The ways real feeds send records a mention cannot be made of: (kind, stage, a piece of the reason, make).
#: ``make(i)`` gives the record's value; the reasons are those of streams/processing/validate.py.
def _mention_dict(i: int) -> dict:
    return {"id": f"broken:{i}", "source": "feed", "text": f"Lego er ok {i}", "published_at": "2026-11-23T08:00:00+01:00",
            "author": {"handle": f"feeder{i % 7}"}}


def _without(field: str):
    return lambda i: {k: v for k, v in _mention_dict(i).items() if k != field}


def _with(**fields):
    return lambda i: {**_mention_dict(i), **fields}


BROKEN_KINDS = [
    ("not JSON: an HTML error page", "decode", "value is not JSON", lambda i: b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    ("not JSON: cut off", "decode", "value is not JSON", lambda i: json.dumps(_mention_dict(i)).encode()[:37]),
    ("empty body", "decode", "value is not JSON", lambda i: b""),
    ("invalid UTF-8 (latin-1 bytes)", "decode", "not valid UTF-8", lambda i: ('{"id": "broken:%d", "text": "Caf\xe9 Lego"}' % i).encode("latin-1")),
    ("not an object", "validate", "must be a JSON object", lambda i: b'["Lego", "is", "a", "list"]'),
    ("missing text", "validate", "text: Field required", _without("text")),
    ("missing published_at", "validate", "published_at: Field required", _without("published_at")),
    ("missing id", "validate", "id: Field required", _without("id")),
    ("wrong type: text a number", "validate", "text: ", _with(text=12345)),
    ("wrong type: followers a word", "validate", "author.followers: ", _with(author={"handle": "x", "followers": "many"})),
    ("date without a time zone", "validate", "published_at: ", _with(published_at="2026-11-23T08:00:00")),
    ("date in words", "validate", "published_at: ", _with(published_at="yesterday")),
    ("impossible date", "validate", "published_at: ", _with(published_at="2026-02-30T10:00:00Z")),
    ("empty text", "validate", "text: ", _with(text="")),
    ("blank text (zero-width characters)", "validate", "text has no visible characters", _with(text="\u200b\u200b\ufeff")),
    ("over-long text (a whole page)", "validate", "text: String should have at most 100000 characters", _with(text="Lego " * 20_001)),
    ("a field the schema does not know", "validate", "Extra inputs are not permitted", _with(html="<div>Lego</div>")),
]


def broken_feed_records(count: int, seed: int = 5) -> list[tuple[bytes, bytes, tuple[str, str, str]]]:
    """``count`` records as broken feeds send them, each kind in turn: (key, value, (kind, stage, reason piece))."""
    records = []
    for i in range(count):
        kind, stage, reason, make = BROKEN_KINDS[i % len(BROKEN_KINDS)]
        value = make(i)
        value = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode("utf-8")
        records.append((f"broken:{seed}:{i}".encode(), value, (kind, stage, reason)))
    return records


def check_broken_dead_lettered(settings: Settings, broken, distinct: dict[str, DeadLetter]) -> None:
    """Each broken record is dead-lettered under its own raw coordinates, with its reason and its bytes,
    and nothing else is: no valid mention became a dead letter."""
    where = raw_coordinates(settings)
    expected = set()
    for key, value, (kind, stage, reason) in broken:
        assert len(where.get(key, [])) == 1, (key, where.get(key))
        coordinate = where[key][0]
        expected.add(coordinate)
        letter = distinct.get(coordinate)
        assert letter is not None, f"{kind} record {key!r} at {coordinate} was not dead-lettered"
        assert letter.stage == stage and reason in letter.reason, (kind, letter.stage, letter.reason)
        assert letter.key == key.decode() and letter.original() == value, (kind, letter.key)
    assert set(distinct) == expected, f"dead letters for records that were not broken: {sorted(set(distinct) - expected)[:5]}"


def packed(mentions, seconds_apart: float, start: datetime | None = None) -> list:
    """The mentions published ``seconds_apart`` after one another from ``start`` (default: 15 minutes
    ago): a replay packed into fewer minutes than the brand windows' allowed lateness keeps every
    window open, so :func:`check_brand_windows` can check each of them, not only the newest."""
    start = start or datetime.now(timezone.utc) - timedelta(minutes=15)
    return [m.model_copy(update={"published_at": start + timedelta(seconds=i * seconds_apart)}) for i, m in enumerate(mentions)]


def check_brand_windows(settings: Settings, label_tolerance: int = 0) -> tuple[int, int]:
    """Every window of every brand in the worker's ``brands`` table (``/lytter/brands/?windows=all``)
    counts exactly the mentions indexed for that brand in its minute: the same ids, volume and brand
    sentiment labels; none counted late, none in a window closed already. The brands are those of the
    table and those of the indexed mentions. Returns (brands, windows) checked.

    ``label_tolerance``: with the model on, a batch replayed after a kill is scored again in another batch
    composition, and int8/bf16 padding can flip a borderline label; the window keeps the label it counted
    first, the document gets the new one. Up to that many relabelled mentions per window are allowed; ids
    and volume stay exact."""
    import httpx

    from streams.alerting.windows import window_start

    state = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/brands/", params={"windows": "all"}, timeout=60).json()
    client = sync_client(settings)
    checked = 0
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        found = client.search(index=settings.es_index_prefix, size=0, aggs={"b": {"terms": {"field": "brands", "size": 1000}}})
        brands = set(state) | {bucket["key"] for bucket in found["aggregations"]["b"]["buckets"]}
        for brand in sorted(brands):
            query = {"term": {"brands": brand}}
            count = client.count(index=settings.es_index_prefix, query=query)["count"]
            assert count < 10_000, f"{brand}: {count} mentions, more than one search returns"
            hits = client.search(index=settings.es_index_prefix, size=10_000, query=query, source=["published_at", "brand_sentiment"])["hits"]["hits"]
            by_minute: dict[float, list[dict]] = {}
            for hit in hits:
                by_minute.setdefault(window_start(datetime.fromisoformat(hit["_source"]["published_at"])), []).append(hit)
            stored = state.get(brand)
            if not hits:
                assert stored is None or not stored.get("windows"), (brand, stored)
                continue
            assert stored is not None, f"no state for {brand} in the brands table, {count} mentions indexed"
            assert stored.get("late", 0) == 0, (brand, stored.get("late"))
            windows = {float(start): window for start, window in stored["windows"].items()}
            assert set(windows) == set(by_minute), (brand, sorted(windows), sorted(by_minute))
            for start, window in windows.items():
                docs = by_minute[start]
                assert sorted(window["seen"]) == sorted(h["_id"] for h in docs), (brand, start)
                labels = Counter(
                    next((b["label"] for b in h["_source"].get("brand_sentiment", []) if b["brand"] == brand), None) for h in docs
                )
                got = (window["volume"], window["negative"], window["neutral"], window["positive"])
                assert got[0] == len(docs), (brand, start, got, labels)
                relabelled = sum(abs(g - labels[k]) for g, k in zip(got[1:], ("negative", "neutral", "positive"))) // 2
                assert relabelled <= label_tolerance, (brand, start, got, labels)
                checked += 1
    finally:
        client.close()
    return len(brands), checked


def generated_brands_watch(path):
    """A watch file for the brands of ``streams.sources.replay.generate`` (default alert rules)."""
    import yaml

    from streams.sources.replay.generate import _BRANDS

    path.write_text(yaml.safe_dump({"brands": [{"name": b, "query": b} for b in _BRANDS]}))
    return path
