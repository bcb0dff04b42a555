"""Push endpoint conformance: the project's fixtures of what a delivering system sends (a batch with a post,
its edit and the brand's reply; a batch with invalid fields; deletions of the post and the reply, and
invalid ones) POSTed over a real socket to the endpoint as ``lytter ingest push`` serves it
(``push.serve`` on 127.0.0.1), and the answers it gives."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from streams.sources.push import create_app, serve
from tests.streams.sources.conformance.server import fixture_text
from tests.streams.sources.fakes import MemoryPublisher, free_port

TOKEN = "pk_conformance_4f1e9a7c2b"


@pytest.fixture
async def endpoint():
    publisher = MemoryPublisher()
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(create_app(TOKEN, publisher, max_batch=10, max_body_bytes=64 * 1024), "127.0.0.1", port, stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for _ in range(100):  # until it listens
            try:
                await client.get("/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.02)
        yield client, publisher
    stop.set()
    await task


def _post(client: httpx.AsyncClient, body: str | bytes, token: str | None = TOKEN, content_type: str = "application/json", path: str = "/mentions"):
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, content=body, headers=headers)


async def test_a_batch_with_an_edit_and_a_reply_is_accepted_once_published(endpoint):
    client, publisher = endpoint
    response = await _post(client, fixture_text("push/batch.json"))
    assert response.status_code == 202
    review = "trustpilot:review/6740a1f2c9e77b1d2f4a0b11"
    assert response.json() == {"accepted": [review, review, "trustpilot:reply/6740a1f2c9e77b1d2f4a0b11"], "count": 3}
    post, edit, reply = publisher.mentions
    assert post.edited_at is None and edit.edited_at is not None and edit.edited_at.utcoffset().total_seconds() == 3600
    assert edit.id == post.id and "løste det" in edit.text and edit.engagement.likes == 5
    assert reply.kind == "reply" and reply.parent_id == review


async def test_invalid_fields_are_422_naming_each_and_nothing_is_published(endpoint):
    client, publisher = endpoint
    response = await _post(client, fixture_text("push/invalid.json"))
    assert response.status_code == 422 and publisher.mentions == []
    assert [e["loc"] for e in response.json()["errors"]] == ["[0].author.followers", "[1].published_at"]
    assert "timezone" in response.json()["errors"][1]["msg"]


@pytest.mark.parametrize(
    ("body", "token", "content_type", "status", "words"),
    [
        ("push/batch.json", None, "application/json", 401, "missing bearer token"),
        ("push/batch.json", "pk_wrong", "application/json", 401, "invalid token"),
        ("push/batch.json", TOKEN, "application/xml", 415, "must be JSON"),
        (b"[{\"id\": \"x\",", TOKEN, "application/json", 400, "not JSON"),
        (b"\xff\xfe[]", TOKEN, "application/json", 400, "not UTF-8"),
    ],
)
async def test_what_is_refused_and_why(endpoint, body, token, content_type, status, words):
    client, publisher = endpoint
    payload = fixture_text(body) if isinstance(body, str) else body
    response = await _post(client, payload, token=token, content_type=content_type)
    assert response.status_code == status and words in response.json()["error"] and publisher.mentions == []
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="lytter-push"')


async def test_too_many_and_kafka_not_acknowledging(endpoint):
    client, publisher = endpoint
    many = json.dumps([json.loads(fixture_text("push/batch.json"))[0]] * 11)
    response = await _post(client, many)
    assert response.status_code == 413 and "at most 10" in response.json()["error"]
    publisher.fail_after(0)
    response = await _post(client, fixture_text("push/batch.json"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5" and publisher.mentions == []


async def test_deletions_of_the_post_and_its_reply_are_accepted_once_published(endpoint):
    client, publisher = endpoint
    response = await _post(client, fixture_text("push/deletions.json"), path="/deletions")
    assert response.status_code == 202
    review, reply = "trustpilot:review/6740a1f2c9e77b1d2f4a0b11", "trustpilot:reply/6740a1f2c9e77b1d2f4a0b11"
    assert response.json() == {"accepted": [review, reply], "count": 2}
    post, answer = publisher.deletions
    assert (post.id, post.reason, post.source, post.deleted_at.isoformat()) == (review, "deleted", "trustpilot", "2024-11-23T10:12:40+01:00")
    assert (answer.id, answer.reason, answer.deleted_at.utcoffset().total_seconds()) == (reply, "removed", 0)
    assert publisher.mentions == []


async def test_invalid_deletions_are_422_naming_each_and_nothing_is_published(endpoint):
    client, publisher = endpoint
    response = await _post(client, fixture_text("push/deletions_invalid.json"), path="/deletions")
    assert response.status_code == 422 and getattr(publisher, "deletions", []) == []
    assert [e["loc"] for e in response.json()["errors"]] == ["deletions[0].reason", "deletions[1].deleted_at", "deletions[2].id"]
    # a batch of mentions sent to /deletions by mistake is refused as a whole, not read as deletions
    response = await _post(client, fixture_text("push/batch.json"), path="/deletions")
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == "(body)" and '"deletions"' in response.json()["errors"][0]["msg"]
    response = await _post(client, fixture_text("push/deletions.json"), token="pk_wrong", path="/deletions")
    assert response.status_code == 401 and getattr(publisher, "deletions", []) == []
