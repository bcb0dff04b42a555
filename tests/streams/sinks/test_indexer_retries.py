"""MentionIndexer against a local HTTP server that answers ``_bulk`` and ``_search`` the way Elasticsearch
does (the real server's answers are proven in tests/integration/test_es_refusals.py): only the items
answered 429/5xx or blocked are sent again; a 4xx item is refused with Elasticsearch's reason; a bulk refused
as a whole is split until the document at fault is alone; ids some older index holds are written there."""

import json

import pytest
from aiohttp import web

from streams.settings import Settings
from streams.sinks.elasticsearch import MentionIndexer, async_client

HEADERS = {"X-Elastic-Product": "Elasticsearch"}
BLOCKED = {"type": "cluster_block_exception", "reason": "index [t-mentions-000001] blocked by: [FORBIDDEN/8/index write (api)];"}


def _item(doc_id, index, state):
    if doc_id == "bad":
        return {"update": {"_id": doc_id, "status": 400, "error": {"type": "document_parsing_exception", "reason": "failed to parse field [published_at]"}}}
    if state["reject"].get(doc_id, 0) > 0:
        state["reject"][doc_id] -= 1
        return {"update": {"_id": doc_id, "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution"}}}
    if state["blocked"].get(doc_id, 0) > 0:
        state["blocked"][doc_id] -= 1
        return {"update": {"_id": doc_id, "status": 403, "error": BLOCKED}}
    return {"update": {"_index": index, "_id": doc_id, "status": 201, "result": "created"}}


@pytest.fixture
async def es_server():
    state = {"requests": [], "targets": {}, "searches": 0, "upserts": 0, "reject": {}, "blocked": {}, "held": {}}

    async def bulk(request):
        lines = [json.loads(line) for line in (await request.text()).splitlines() if line.strip()]
        ops = [next(iter(line)) for line in lines[0::2]]
        assert set(ops) == {"update"}  # mentions as upserts (doc_as_upsert), field updates without
        state["upserts"] += sum(bool(line.get("doc_as_upsert")) for line in lines[1::2])
        ids = [line["update"]["_id"] for line in lines[0::2]]
        state["requests"].append(ids)
        if "too-long-id" in ids:  # Elasticsearch validates ids before it writes anything
            return web.json_response({"error": {"type": "action_request_validation_exception", "reason": "Validation Failed: 1: id [too-long-id] is too long"}, "status": 400}, status=400, headers=HEADERS)
        for line in lines[0::2]:
            state["targets"][line["update"]["_id"]] = line["update"]["_index"]
        items = [_item(line["update"]["_id"], line["update"]["_index"], state) for line in lines[0::2]]
        return web.json_response({"took": 1, "errors": any(i["update"]["status"] >= 300 for i in items), "items": items}, headers=HEADERS)

    async def search(request):
        state["searches"] += 1
        wanted = (await request.json())["query"]["ids"]["values"]
        hits = [{"_index": state["held"][i], "_id": i, "_score": 1.0} for i in wanted if i in state["held"]]
        return web.json_response({"took": 1, "timed_out": False, "hits": {"hits": hits}}, headers=HEADERS)

    app = web.Application()
    for path in ("/{index}/_bulk", "/_bulk"):
        app.router.add_route("*", path, bulk)
    app.router.add_route("*", "/{index}/_search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", state
    await runner.cleanup()


@pytest.fixture
async def indexer(es_server):
    url, _ = es_server
    settings = Settings(es_url=url, es_index_prefix="t-mentions")
    client = async_client(settings)
    indexer = MentionIndexer(settings, client=client)
    indexer.max_backoff = 0.05
    yield indexer
    await client.close()


async def test_only_rejected_items_are_resent_and_refusals_are_reported(es_server, indexer):
    _, state = es_server
    state["reject"]["busy"] = 2  # rejected with 429 twice, then written
    result = await indexer.index([{"id": "ok1"}, {"id": "busy"}, {"id": "bad"}, {"id": "ok2"}])
    assert result.indexed == 3
    assert [(doc_id, status) for doc_id, status, _ in result.failed] == [("bad", 400)]
    assert result.failed[0][2] == "document_parsing_exception: failed to parse field [published_at]"
    assert state["requests"] == [["ok1", "busy", "bad", "ok2"], ["busy"], ["busy"]]  # per item, never the batch again
    assert indexer.stats.rejected == {"es_rejected_execution_exception": 2}
    assert indexer.stats.refused == {"document_parsing_exception": 1}
    assert indexer.outages == 2


async def test_a_write_block_is_waited_out_not_dead_lettered(es_server, indexer, caplog):
    _, state = es_server
    state["blocked"] = {"a": 3, "b": 3}  # index.blocks.write answers 403 cluster_block_exception
    with caplog.at_level("WARNING", logger="streams.sinks.elasticsearch"):
        result = await indexer.index([{"id": "a"}, {"id": "b"}])
    assert result.indexed == 2 and result.failed == []
    assert indexer.stats.rejected == {"cluster_block_exception": 6}
    block_lines = [r.getMessage() for r in caplog.records if "blocks writes" in r.getMessage()]
    assert len(block_lines) == 1, block_lines  # one line per block, not one per retry
    assert "t-mentions-000001" in block_lines[0] and 'PUT t-mentions-000001/_settings {"index.blocks.write": null}' in block_lines[0]
    assert any("lifted" in r.getMessage() for r in caplog.records)
    assert len(indexer.stats.blocked_seconds) == 1


async def test_a_bulk_refused_as_a_whole_is_split_until_the_document_at_fault_is_alone(es_server, indexer):
    _, state = es_server
    docs = [{"id": f"m{i}"} for i in range(6)] + [{"id": "too-long-id"}] + [{"id": "m6"}]
    result = await indexer.index(docs)
    assert result.indexed == 7
    assert [(doc_id, status) for doc_id, status, _ in result.failed] == [("too-long-id", 400)]
    assert result.failed[0][2].startswith("action_request_validation_exception: Validation Failed: 1: id [too-long-id]")
    assert ["too-long-id"] in state["requests"]
    # halving: 8, then 4 + 4, then the bad half's 2 + 2, then 1 + 1; a good half is not split further
    assert [len(ids) for ids in state["requests"]] == [8, 4, 4, 2, 2, 1, 1]


async def test_ids_held_by_an_older_index_are_written_there(es_server, indexer):
    _, state = es_server
    state["held"] = {"old": "t-mentions-000001"}
    await indexer.index([{"id": "old"}, {"id": "new"}])
    assert state["targets"] == {"old": "t-mentions-000001", "new": "t-mentions"}
    assert state["searches"] == 1 and indexer.stats.located == 1
    assert await indexer.update_fields([{"id": "old", "answered_at": "2026-01-01T00:00:00Z"}]) == 1
    assert state["searches"] == 2 and state["upserts"] == 2  # the update is no upsert: a missing mention is skipped
