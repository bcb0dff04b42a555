"""Idempotence across rollover, on the real Elasticsearch and through the real worker.

A mention replayed after ``lytter es rollover`` (at-least-once delivery, a replay of the topic) must update
its document in the index that already holds it, not add a second one in the new write index: the indexer
looks the ids up over the alias before writing (streams/sinks/elasticsearch/indexer.py). Edits, the team's
inbox fields, tombstones and partial updates (``update_fields``) reach documents in older indices too.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from streams.schema import Deletion
from streams.sinks.elasticsearch import MentionIndexer, first_index_name, sync_client
from streams.sinks.lifecycle import rollover
from streams.sources.producer import MentionProducer, publish_all
from streams.sources.replay.generate import generate_mentions
from tests.integration.helpers import drained, indexed_count, wait_for

pytestmark = pytest.mark.integration


def per_index(settings) -> dict[str, int]:
    """Documents per concrete index behind the alias."""
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        response = client.search(index=settings.es_index_prefix, size=0, aggs={"by_index": {"terms": {"field": "_index", "size": 50}}})
        return {b["key"]: b["doc_count"] for b in response["aggregations"]["by_index"]["buckets"]}
    finally:
        client.close()


def docs_by_id(settings, ids: list[str]) -> dict[str, list[dict]]:
    """Every hit per id over the alias (a duplicate shows as two), with its index."""
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        response = client.search(index=settings.es_index_prefix, size=10_000, query={"ids": {"values": ids}})
        found: dict[str, list[dict]] = {}
        for hit in response["hits"]["hits"]:
            found.setdefault(hit["_id"], []).append({"_index": hit["_index"], **hit["_source"]})
        return found
    finally:
        client.close()


def test_a_replay_after_rollover_updates_the_documents_in_the_old_index(lytter, worker_factory):
    mentions = list(generate_mentions(300, seed=21))
    assert publish_all(lytter, mentions).published == len(mentions)
    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= len(mentions), 180, "the first 300 mentions indexed", worker)
    old = first_index_name(lytter.es_index_prefix)
    client = sync_client(lytter)
    try:
        # the team's action on one mention: a replay must keep it (upsert merges)
        client.update(index=old, id=mentions[0].id, doc={"inbox": {"status": "handled", "updated_by": "it"}}, refresh=True)
        rolled = rollover(lytter, client, max_docs=1)
    finally:
        client.close()
    assert rolled["rolled_over"] and rolled["old_index"] == old, rolled
    edited = mentions[1].model_copy(update={"text": "Rettet: Nordlys Energi svarede hurtigt", "edited_at": datetime.now(timezone.utc)})
    after = list(generate_mentions(20, seed=22, source="after-rollover"))
    with MentionProducer(lytter) as producer:
        for mention in [*mentions, edited, *after]:  # the replay, an edit of one, and new mentions
            producer.send_mention(mention)
        producer.send_deletion(Deletion(id=mentions[2].id, source=mentions[2].source))
    # raw first: once the enrich stage committed all of it, the influence stage's input (enriched) is complete
    wait_for(lambda: drained(lytter, lytter.topic_raw) and drained(lytter, lytter.topic_enriched), 180,
             "the replay, the edit and the new mentions written", worker)
    wait_for(lambda: docs_by_id(lytter, [mentions[2].id]).get(mentions[2].id, [{}])[0].get("deleted") is True, 60,
             "the deletion honoured in the old index", worker)

    assert per_index(lytter) == {old: len(mentions), rolled["new_index"]: len(after)}
    found = docs_by_id(lytter, [m.id for m in mentions])
    assert sorted(found) == sorted(m.id for m in mentions)
    assert all(len(hits) == 1 for hits in found.values()), {i: h for i, h in found.items() if len(h) > 1}
    assert found[edited.id][0]["text"] == edited.text and found[edited.id][0]["_index"] == old
    assert found[mentions[0].id][0]["inbox"]["status"] == "handled"
    tombstone = found[mentions[2].id][0]
    assert tombstone["_index"] == old and tombstone["text"] == "" and tombstone.get("author") is None


async def test_updates_and_tombstones_reach_documents_in_older_indices_and_the_lookup_cost(lytter):
    mentions = list(generate_mentions(1000, seed=23))
    documents = [{"id": m.id, "source": m.source, "text": m.text, "published_at": m.published_at.isoformat()} for m in mentions]
    indexer = MentionIndexer(lytter)
    try:
        assert (await indexer.index(documents[:500])).indexed == 500
        client = sync_client(lytter)
        try:
            rolled = rollover(lytter, client, max_docs=1)
        finally:
            client.close()
        assert (await indexer.index(documents[500:])).indexed == 500  # new mentions: the new index
        old_id, new_id = documents[0]["id"], documents[700]["id"]
        assert await indexer.update_fields([{"id": old_id, "answered_at": "2026-11-01T10:00:00Z"},
                                            {"id": new_id, "answered_at": "2026-11-01T11:00:00Z"}]) == 2
        assert (await indexer.index(documents[:500])).indexed == 500  # a replay of the old ones
        # (a replay after a deletion is stripped by the worker's enrich stage before it gets here)
        deleted_at = datetime(2026, 11, 2, tzinfo=timezone.utc)
        assert await indexer.tombstone([Deletion(id=documents[1]["id"], source="synthetic", deleted_at=deleted_at)]) == 1
        assert per_index(lytter) == {rolled["old_index"]: 500, rolled["new_index"]: 500}
        found = docs_by_id(lytter, [old_id, new_id, documents[1]["id"]])
        assert found[old_id][0]["_index"] == rolled["old_index"] and found[old_id][0]["answered_at"] == "2026-11-01T10:00:00Z"
        assert found[new_id][0]["_index"] == rolled["new_index"] and found[new_id][0]["answered_at"] == "2026-11-01T11:00:00Z"
        assert found[documents[1]["id"]][0]["deleted"] is True and found[documents[1]["id"]][0]["text"] == ""
        cost = await _lookup_cost(lytter, indexer, documents)  # last: writes without the lookup make duplicates
    finally:
        await indexer.close()
    print(f"rollover lookup: {cost}")
    assert cost["lookups_per_batch"] == 1.0


async def _lookup_cost(settings, indexer: MentionIndexer, documents: list[dict], rounds: int = 6) -> dict:
    """Time re-writes of a 500-document batch (half in each index) with and without the lookup, alternated."""
    batch = documents[250:750]
    plain = MentionIndexer(settings, client=indexer.client, locate=False)
    with_lookup, without = [], []
    before, spent = indexer.stats.lookups, indexer.stats.lookup_seconds
    for _ in range(rounds):
        for target, times in ((indexer, with_lookup), (plain, without)):
            started = time.perf_counter()
            assert (await target.index(batch)).indexed == len(batch)
            times.append(time.perf_counter() - started)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return {
        "batch": len(batch), "rounds": rounds, "median_with_lookup_ms": round(1000 * med(with_lookup), 1),
        "median_without_ms": round(1000 * med(without), 1), "lookups_per_batch": (indexer.stats.lookups - before) / rounds,
        "mean_lookup_ms": round(1000 * (indexer.stats.lookup_seconds - spent) / rounds, 1),
    }
