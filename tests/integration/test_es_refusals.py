"""What the real Elasticsearch refuses, and what it only postpones, through the real worker where it matters.

- Refused (the document's fault), dead-lettered with Elasticsearch's own reason while the rest of the batch
  is indexed: a value out of its mapped type's range (``engagement.likes`` over a ``long``), a date the
  schema accepts and Elasticsearch cannot parse (an offset of +20:00: Python allows up to 24 h, Java 18 h),
  an id of at most 512 characters but over 512 *bytes* (Elasticsearch refuses the whole bulk request for
  it: the indexer splits the request until that document is alone). A keyword over Lucene's 32,766-byte
  term limit is no refusal: the mapping's ``ignore_above`` keeps it out of the terms, the document is indexed.
- Postponed: a write thread pool made tiny on a node started for the test (real 429
  ``es_rejected_execution_exception``): only the rejected items are re-sent, nothing lost or doubled; the
  flood-stage block (``index.blocks.read_only_allow_delete``, 429 ``cluster_block_exception``): the worker
  holds its batch with one clear log line and catches up once the block is lifted.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter

import httpx
import pytest
from elasticsearch import AsyncElasticsearch

from streams.ops.services import LocalServices
from streams.schema import Mention
from streams.sinks.elasticsearch import MentionIndexer, first_index_name, setup_indices, sync_client
from streams.sources.producer import MentionProducer, publish_all
from streams.sources.replay.generate import generate_mentions
from tests.integration.conftest import free_port
from tests.integration.helpers import dead_letters, indexed_count, indexed_docs, start_or_fail, topic_count, wait_for

pytestmark = pytest.mark.integration


def _mention(mention_id: str, **fields) -> Mention:
    base = {"id": mention_id, "source": "it", "text": "Nordlys Energi svarer hurtigt", "published_at": "2026-11-23T08:00:00Z"}
    return Mention.model_validate({**base, **fields})


def refused_kinds() -> dict[str, Mention]:
    """Mentions valid for the schema that Elasticsearch refuses, by kind."""
    return {
        "out of the mapped type's range": _mention("it:likes", engagement={"likes": 2**63}),
        "malformed date": _mention("it:date", published_at="2026-11-23T08:00:00+20:00"),
        "id over 512 bytes": _mention("it:" + "ø" * 300),  # 303 characters, 603 bytes
    }


def test_refused_documents_are_dead_lettered_with_elasticsearchs_reason(lytter, worker_factory):
    good = list(generate_mentions(200, seed=31))
    # the longest url the schema takes (8,192 characters), in 4-byte characters: 32,768 bytes
    immense = _mention("it:immense-url", url="😀" * 8192)
    assert len(immense.url.encode()) > 32_766
    refused = refused_kinds()
    with MentionProducer(lytter) as producer:
        for mention in [*good[:100], *refused.values(), immense, *good[100:]]:
            producer.send_mention(mention)
    published = topic_count(lytter, lytter.topic_raw)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) + topic_count(lytter, lytter.topic_deadletter) >= published, 120,
             "every record indexed or dead-lettered", worker)
    time.sleep(2)  # nothing more may arrive: the sum must be exact
    letters = {letter.mention_id: letter for letter in dead_letters(lytter)}
    assert indexed_count(lytter) == len(good) + 1 and len(letters) == len(refused)
    assert indexed_count(lytter) + len(letters) == published
    reasons = {kind: letters[m.id].reason for kind, m in refused.items()}
    print("refusals by kind:", json.dumps(reasons, indent=1, ensure_ascii=False)[:3000])
    assert all(letters[m.id].stage == "index" and letters[m.id].topic == lytter.topic_raw and letters[m.id].offset is not None
               for m in refused.values())
    likes = reasons["out of the mapped type's range"]
    assert likes.startswith("Elasticsearch refused the document (400): document_parsing_exception:")
    assert "failed to parse field [engagement.likes] of type [long]" in likes and "out of range of long" in likes
    date = reasons["malformed date"]
    assert "document_parsing_exception" in date and "failed to parse field [published_at] of type [date]" in date
    assert "failed to parse date field [2026-11-23T08:00:00+20:00]" in date
    long_id = reasons["id over 512 bytes"]
    assert "(400): action_request_validation_exception" in long_id and "must be no longer than 512 bytes but was: 603" in long_id
    assert indexed_docs(lytter)[immense.id]["url"] == immense.url  # kept in _source, left out of the terms


@pytest.fixture(scope="module")
def tiny_write_pool(services):
    """An Elasticsearch node of its own with one write thread and a queue of one: it answers real 429s."""
    settings = services.settings.model_copy(update=dict(
        es_port=free_port(), es_url="", es_heap="512m", services_dir=services.settings.services_dir / "tiny-write-pool",
    ))
    settings = settings.model_copy(update=dict(es_url=f"http://127.0.0.1:{settings.es_port}"))
    node = LocalServices(settings, es_node_settings={"thread_pool.write.size": "1", "thread_pool.write.queue_size": "1"})
    start_or_fail("the Elasticsearch node with a tiny write pool", lambda: node.up(names=["elasticsearch"], timeout=240))
    yield settings
    node.down(names=["elasticsearch"])
    shutil.rmtree(settings.services_dir, ignore_errors=True)


class RecordingClient(AsyncElasticsearch):
    """The real client, noting which ids each bulk request sent and how each item was answered."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[str]] = []
        self.answers: list[tuple[str, int, str | None]] = []

    async def bulk(self, *args, **kwargs):
        self.sent.append([line["update"]["_id"] for line in kwargs["operations"][0::2]])
        response = await super().bulk(*args, **kwargs)
        for item in response["items"]:
            op = item["update"]
            self.answers.append((op["_id"], op["status"], (op.get("error") or {}).get("type")))
        return response


def _write_rejections(settings) -> int:
    client = sync_client(settings)
    try:
        nodes = client.nodes.stats(metric="thread_pool")["nodes"]
        return sum(node["thread_pool"]["write"]["rejected"] for node in nodes.values())
    finally:
        client.close()


async def test_real_429s_resend_only_the_rejected_items(tiny_write_pool, fresh_names):
    settings = tiny_write_pool.model_copy(update=dict(es_index_prefix=fresh_names.index_prefix, es_shards=4))
    setup_indices(settings)  # four shards: one bulk request is four write tasks for one thread and a queue of one
    docs = [{"id": m.id, "source": m.source, "text": m.text, "published_at": m.published_at.isoformat()}
            for m in generate_mentions(2000, seed=32)]
    client = RecordingClient(settings.es_url, request_timeout=30)
    indexer = MentionIndexer(settings, client=client)
    indexer.max_backoff = 2.0  # the test's patience, not the worker's
    try:
        result = await indexer.index(docs)
    finally:
        await client.close()
    assert result.indexed == len(docs) and result.failed == []
    rejected = Counter(doc_id for doc_id, status, _ in client.answers if status == 429)
    kinds = Counter(kind for _, status, kind in client.answers if status == 429)
    sent = Counter(doc_id for ids in client.sent for doc_id in ids)
    print(f"429s: {sum(rejected.values())} items rejected ({dict(kinds)}) in {len(client.sent)} bulk requests, "
          f"{len(rejected)} distinct documents, {sum(sent.values()) - len(docs)} re-sent; node write rejections "
          f"{_write_rejections(settings)}; retry rounds {indexer.outages}")
    assert sum(rejected.values()) > 0 and set(kinds) == {"es_rejected_execution_exception"}
    assert indexer.stats.rejected == {"es_rejected_execution_exception": sum(rejected.values())}
    assert all(sent[d["id"]] == 1 + rejected[d["id"]] for d in docs)  # re-sent exactly as often as rejected
    assert _write_rejections(settings) > 0  # Elasticsearch's own count agrees they were real rejections
    assert indexed_count(settings) == len(docs)


def _retries_metric(settings) -> float:
    text = httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/metrics", timeout=5).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("lytter_worker_es_retries_total"))


def test_the_worker_rides_through_real_429s(lytter, tiny_write_pool, worker_factory):
    settings = lytter.model_copy(update=dict(es_url=tiny_write_pool.es_url, es_shards=4))
    setup_indices(settings)
    before = _write_rejections(settings)
    mentions = list(generate_mentions(1500, seed=33))
    assert publish_all(settings, mentions).published == len(mentions)
    worker = worker_factory(settings)
    wait_for(lambda: indexed_count(settings) >= len(mentions), 240, "1500 mentions indexed through 429s", worker)
    time.sleep(2)
    assert indexed_count(settings) == len(mentions) and topic_count(settings, settings.topic_deadletter) == 0
    assert set(indexed_docs(settings)) == {m.id for m in mentions}
    rejections, retries = _write_rejections(settings) - before, _retries_metric(settings)
    print(f"worker through a tiny write pool: node write rejections {rejections}, worker bulk retry rounds {retries}")
    assert rejections > 0 and retries > 0


def test_a_read_only_index_holds_the_worker_until_the_block_is_lifted(lytter, worker_factory):
    first, then = list(generate_mentions(200, seed=34)), list(generate_mentions(300, seed=35))
    assert publish_all(lytter, first).published == len(first)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= len(first), 120, "the first 200 indexed", worker)
    index = first_index_name(lytter.es_index_prefix)
    client = sync_client(lytter)
    try:
        client.indices.put_settings(index=index, settings={"index.blocks.read_only_allow_delete": True})
        blocked_at = time.monotonic()
        assert publish_all(lytter, then).published == len(then)
        wait_for(lambda: "blocks writes to index" in worker.log_path.read_text(errors="replace"), 60, "the block logged", worker)
        time.sleep(10)  # the worker keeps retrying, and writes nothing, dead-letters nothing
        held = indexed_count(lytter)
        client.indices.put_settings(index=index, settings={"index.blocks.read_only_allow_delete": None})
        lifted_at = time.monotonic()
    finally:
        client.close()
    wait_for(lambda: indexed_count(lytter) >= len(first) + len(then), 120, "caught up after the block", worker)
    caught_up = time.monotonic()
    time.sleep(2)
    log_text = worker.log_path.read_text(errors="replace")
    lines = [line for line in log_text.splitlines() if "blocks writes to index" in line]
    print(f"read-only block: held {lifted_at - blocked_at:.1f}s, caught up {caught_up - lifted_at:.1f}s after the lift; "
          f"log: {lines[0] if lines else None}")
    assert held == len(first) and topic_count(lytter, lytter.topic_deadletter) == 0
    assert indexed_count(lytter) == len(first) + len(then)
    assert len(lines) == 1, lines  # one line for the block, not one per retry
    assert index in lines[0] and "read-only-allow-delete" in lines[0] and "free disk space" in lines[0]
    assert '"index.blocks.read_only_allow_delete": null' in lines[0]
    assert "is lifted after" in log_text
