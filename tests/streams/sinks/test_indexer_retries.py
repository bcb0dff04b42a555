"""MentionIndexer's retries against a local HTTP server that answers ``_bulk`` the way Elasticsearch does:
only the items rejected with 429/5xx are sent again; a 4xx item is refused, not retried."""

import json

import pytest
from aiohttp import web

from streams.settings import Settings
from streams.sinks.elasticsearch import MentionIndexer, async_client

HEADERS = {"X-Elastic-Product": "Elasticsearch"}


@pytest.fixture
async def bulk_server():
    state = {"requests": [], "reject": {"busy": 2}}  # "busy" is rejected with 429 twice, then written

    async def bulk(request):
        lines = [json.loads(line) for line in (await request.text()).splitlines() if line.strip()]
        ops = [next(iter(line)) for line in lines[0::2]]  # the op of each action line ("update": an upsert)
        assert set(ops) == {"update"} and all(line.get("doc_as_upsert") for line in lines[1::2])
        ids = [line["update"]["_id"] for line in lines[0::2]]
        state["requests"].append(ids)
        items = []
        for doc_id in ids:
            if doc_id == "bad":
                items.append({"update": {"_id": doc_id, "status": 400, "error": {"type": "mapper_parsing_exception", "reason": "failed to parse field [published_at]"}}})
            elif state["reject"].get(doc_id, 0) > 0:
                state["reject"][doc_id] -= 1
                items.append({"update": {"_id": doc_id, "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution"}}})
            else:
                items.append({"update": {"_id": doc_id, "status": 201, "result": "created"}})
        return web.json_response({"took": 1, "errors": any(i["update"]["status"] >= 300 for i in items), "items": items}, headers=HEADERS)

    app = web.Application()
    for path in ("/{index}/_bulk", "/_bulk"):
        app.router.add_route("*", path, bulk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", state
    await runner.cleanup()


async def test_only_rejected_items_are_resent_and_refusals_are_reported(bulk_server):
    url, state = bulk_server
    settings = Settings(es_url=url, es_index_prefix="t-mentions")
    client = async_client(settings)
    indexer = MentionIndexer(settings, client=client)
    try:
        result = await indexer.index([{"id": "ok1"}, {"id": "busy"}, {"id": "bad"}, {"id": "ok2"}])
    finally:
        await client.close()
    assert result.indexed == 3
    assert [(doc_id, status) for doc_id, status, _ in result.failed] == [("bad", 400)]
    assert "mapper_parsing_exception" in result.failed[0][2]
    assert state["requests"][0] == ["ok1", "busy", "bad", "ok2"]
    assert all(ids == ["busy"] for ids in state["requests"][1:])  # per item, never the batch again
