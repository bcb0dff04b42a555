"""The walking skeleton on the real Kafka and Elasticsearch: ingest -> worker -> index / dead letters."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from streams.sources.replay.blogdump import parse_blog_dump
from streams.sources.replay.generate import generate_mentions
from streams.sources.replay.jsonl import replay_jsonl
from streams.sources.producer import MentionProducer, publish_all
from tests.integration.helpers import dead_letters, drained, indexed_count, indexed_docs, topic_count, wait_for

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "corpus"

MALFORMED = {
    "bad-json": b'{"id": "bad-json", "text": "unterminated',
    "invalid-utf8": b'{"id": "invalid-utf8", "source": "t", "text": "\xc3\x28", "published_at": "2026-11-23T08:00:00Z"}',
    "missing-text": json.dumps({"id": "missing-text", "source": "t", "published_at": "2026-11-23T08:00:00Z"}).encode(),
    "wrong-types": json.dumps({"id": "wrong-types", "source": "t", "text": 12, "published_at": "yesterday", "author": {"handle": "a", "followers": "lots"}}).encode(),
    "not-an-object": b'["a", "list"]',
    "naive-time": json.dumps({"id": "naive-time", "source": "t", "text": "Hej", "published_at": "2026-11-23T08:00:00"}).encode(),
    "deep": ("[" * 500 + "]" * 500).encode(),
}


def _publish_corpus(settings):
    mentions = []
    for path in sorted(CORPUS.glob("*.txt")):
        mentions += parse_blog_dump(path.read_text(), name=path.name, published_at=datetime(2010, 3, 3, tzinfo=timezone.utc))
    assert publish_all(settings, mentions).published == len(mentions)
    return mentions


def test_corpus_is_indexed_with_language_and_is_searchable(lytter, worker_factory):
    mentions = _publish_corpus(lytter)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= len(mentions), 120, f"{len(mentions)} corpus mentions indexed", worker)
    docs = indexed_docs(lytter)
    assert set(docs) == {m.id for m in mentions}
    for prefix in ("da", "nb", "sv"):
        post = next(d for d in docs.values() if d["kind"] == "post" and d["id"].startswith(f"blog:{prefix}-"))
        assert post["lang"] == prefix, post["id"]
    comment = docs["blog:nb-strategi-for-sosiale-medier#comment-2"]
    assert comment["parent_id"] == "blog:nb-strategi-for-sosiale-medier" and comment["lang"] == "nb"

    from streams.query.search import SearchRequest, run_search

    result = run_search(lytter, SearchRequest(query="strategi", langs=["nb"]))
    assert result.total >= 1 and all(hit["lang"] == "nb" for hit in result.hits)
    assert result.aggregations["by_language"] == {"nb": result.total}
    assert topic_count(lytter, lytter.topic_deadletter) == 0


def test_published_equals_indexed_plus_dead_lettered(lytter, worker_factory):
    good = list(generate_mentions(300, seed=11))
    with MentionProducer(lytter) as producer:
        for mention in good:
            producer.send_mention(mention)
        for key, value in MALFORMED.items():
            producer.send_raw(key.encode(), value)
        producer.send_raw(b"tombstone", None)
    published = topic_count(lytter, lytter.topic_raw)
    assert published == len(good) + len(MALFORMED) + 1
    worker = worker_factory()
    wait_for(
        lambda: indexed_count(lytter) + topic_count(lytter, lytter.topic_deadletter) >= published,
        120,
        "every record indexed or dead-lettered",
        worker,
    )
    time.sleep(2)  # nothing more may arrive: the sum must be exact, not merely reached
    assert indexed_count(lytter) == len(good)
    letters = {letter.key: letter for letter in dead_letters(lytter)}
    assert set(letters) == set(MALFORMED) | {"tombstone"}
    assert indexed_count(lytter) + len(letters) == published
    assert "not JSON" in letters["bad-json"].reason
    assert "UTF-8" in letters["invalid-utf8"].reason
    assert "text: Field required" in letters["missing-text"].reason
    assert {"text", "published_at", "author.followers"} <= {e["field"] for e in letters["wrong-types"].errors}
    assert "timezone" in letters["naive-time"].reason
    assert "nested" in letters["deep"].reason
    for key, letter in letters.items():
        assert letter.original() == (MALFORMED.get(key) or b"")
        assert letter.topic == lytter.topic_raw and letter.offset is not None


def test_replaying_the_same_input_twice_adds_nothing(lytter, worker_factory, tmp_path):
    path = tmp_path / "replay.jsonl"
    path.write_bytes(b"".join(m.to_json_bytes() + b"\n" for m in generate_mentions(500, seed=3)))
    first = replay_jsonl(lytter, path)
    assert first.published == 500 and not first.invalid
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= 500, 120, "first replay indexed", worker)
    second = replay_jsonl(lytter, path)
    assert second.published == 500
    # the worker has consumed the second copy too when its committed offsets reach the end
    wait_for(lambda: drained(lytter, lytter.topic_raw), 120, "second replay consumed", worker)
    assert indexed_count(lytter) == 500


def test_killing_and_restarting_the_worker_loses_nothing(lytter, worker_factory):
    mentions = list(generate_mentions(4000, seed=5))
    publish_all(lytter, mentions)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= 300, 120, "the first batches indexed", worker, interval=0.1)
    worker.kill()  # SIGKILL mid-run: no graceful commit
    mid = indexed_count(lytter)
    assert mid < len(mentions), "the worker finished before it could be killed; the test proves nothing"
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= len(mentions), 180, "all mentions indexed after restart", worker)
    time.sleep(1)
    assert indexed_count(lytter) == len(mentions)
    assert set(indexed_docs_ids(lytter)) == {m.id for m in mentions}
    assert topic_count(lytter, lytter.topic_deadletter) == 0


def indexed_docs_ids(settings):
    from streams.sinks.elasticsearch import sync_client

    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        ids = []
        response = client.search(index=settings.es_index_prefix, size=5000, source=False, sort=["_doc"])
        ids += [hit["_id"] for hit in response["hits"]["hits"]]
        return ids
    finally:
        client.close()


def test_indexed_mentions_carry_sentiment_from_the_model(lytter, sentiment_model_dir, worker_factory):
    settings = lytter.model_copy(update={"sentiment_enabled": True, "model_path": sentiment_model_dir})
    texts = {
        "pos": "Tusind tak til kundeservice hos Lego, de løste det hele på fem minutter 😍",
        "neg": "Helt elendig service fra Telia igjen, tre uker uten internett og ingen svarer 😡",
        "neu": "SAS flyver fra Kastrup til Oslo kl. 14.05 på hverdage.",
    }
    with MentionProducer(settings) as producer:
        for key, text in texts.items():
            producer.send_raw(key.encode(), json.dumps({"id": key, "source": "test", "text": text, "published_at": "2026-11-23T08:00:00Z"}).encode())
    worker = worker_factory(settings)
    wait_for(lambda: indexed_count(settings) >= 3, 180, "three mentions indexed with sentiment", worker)
    docs = indexed_docs(settings)
    for key, doc in docs.items():
        sentiment = doc["sentiment"]
        assert set(sentiment["probabilities"]) == {"negative", "neutral", "positive"}
        assert abs(sum(sentiment["probabilities"].values()) - 1) < 1e-3
        assert -1 <= sentiment["score"] <= 1 and sentiment["model_version"]
    assert docs["pos"]["sentiment"]["label"] == "positive"
    assert docs["neg"]["sentiment"]["label"] == "negative"
