"""The push endpoint: bearer auth, validation with the field at fault, size limits, acknowledgement."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.sources.base import REGISTRY
from streams.sources.push import create_app, validate_mentions
from tests.streams.sources.fakes import MemoryPublisher

TOKEN = "pk_9f8e7d6c5b4a-very-secret"


def mention(i: int = 1, **changes) -> dict:
    body = {
        "id": f"crm:{i}",
        "source": "trustpilot",
        "text": f"Hygge Kaffe er den bedste kaffe {i}",
        "published_at": "2024-11-20T09:00:00+01:00",
        "author": {"handle": "kunde42", "followers": 12},
        "engagement": {"likes": 3},
    }
    body.update(changes)
    return body


@pytest.fixture
async def client():
    publisher = MemoryPublisher()
    app = create_app(TOKEN, publisher, max_batch=5, max_body_bytes=4096)
    async with TestClient(TestServer(app)) as c:
        c.publisher = publisher  # type: ignore[attr-defined]
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_one_mention_or_a_batch_is_accepted_once_published(client):
    response = await client.post("/mentions", json=mention(1), headers=AUTH)
    assert response.status == 202
    assert await response.json() == {"accepted": ["crm:1"], "count": 1}
    response = await client.post("/mentions", json=[mention(2), mention(3)], headers=AUTH)
    assert response.status == 202 and (await response.json())["accepted"] == ["crm:2", "crm:3"]
    published = client.publisher.mentions
    assert [m.id for m in published] == ["crm:1", "crm:2", "crm:3"]
    assert published[0].published_at.utcoffset().total_seconds() == 3600 and published[0].author.followers == 12


async def test_missing_or_wrong_tokens_are_401_with_www_authenticate(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/mentions", json=mention())
    assert response.status == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="lytter-push"'
    response = await client.post("/mentions", json=mention(), headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status == 401
    response = await client.post("/mentions", json=mention(), headers={"Authorization": "Bearer not-the-token"})
    assert response.status == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "not-the-token" not in await response.text()
    assert client.publisher.mentions == []
    await client.post("/mentions", json=mention(), headers=AUTH)
    assert TOKEN not in caplog.text and "not-the-token" not in caplog.text  # the token is never logged


async def test_invalid_mentions_are_422_naming_the_field_and_nothing_is_published(client):
    response = await client.post("/mentions", json=mention(published_at="2024-11-20T09:00:00"), headers=AUTH)
    assert response.status == 422
    body = await response.json()
    assert body["errors"][0]["loc"] == "published_at" and "timezone" in body["errors"][0]["msg"]

    batch = [mention(1), mention(2, text=""), mention(3, author={"handle": "x", "followers": "mange"}), "nope"]
    response = await client.post("/mentions", json=batch, headers=AUTH)
    assert response.status == 422
    locs = {e["loc"] for e in (await response.json())["errors"]}
    assert locs == {"[1].text", "[2].author.followers", "[3]"}
    response = await client.post("/mentions", json=mention(colour="blue"), headers=AUTH)
    assert (await response.json())["errors"] == [{"loc": "colour", "msg": "Extra inputs are not permitted"}]
    assert client.publisher.mentions == []


async def test_bodies_too_large_not_json_or_not_json_typed(client):
    response = await client.post("/mentions", json=[mention(i) for i in range(6)], headers=AUTH)
    assert response.status == 413 and "at most 5" in (await response.json())["error"]
    response = await client.post("/mentions", data=b"[" + b" " * 5000 + b"]", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 413
    response = await client.post("/mentions", data=b'{"id": ', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400 and "not JSON" in (await response.json())["error"]
    response = await client.post("/mentions", data=b"\xff\xfe", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400 and "UTF-8" in (await response.json())["error"]
    response = await client.post("/mentions", data=b"<mention/>", headers={**AUTH, "Content-Type": "application/xml"})
    assert response.status == 415
    response = await client.post("/mentions", json=[], headers=AUTH)
    assert response.status == 422


async def test_kafka_not_acknowledging_is_503_with_retry_after(client):
    client.publisher.fail_after(0)
    response = await client.post("/mentions", json=mention(), headers=AUTH)
    assert response.status == 503 and response.headers["Retry-After"] == "5"


async def test_healthz_and_metrics_need_no_token(client):
    response = await client.get("/healthz")
    assert response.status == 200 and await response.json() == {"status": "ok"}
    before = REGISTRY.get_sample_value("lytter_ingest_published_total", {"source": "push"}) or 0
    await client.post("/mentions", json=[mention(7), mention(8)], headers=AUTH)
    text = await (await client.get("/metrics")).text()
    assert 'lytter_ingest_published_total{source="push"}' in text
    assert REGISTRY.get_sample_value("lytter_ingest_published_total", {"source": "push"}) == before + 2


def test_an_empty_token_is_refused_and_validation_is_a_pure_function():
    with pytest.raises(ValueError, match="LYTTER_PUSH_TOKEN"):
        create_app("  ", MemoryPublisher())
    mentions, errors = validate_mentions([mention(1), mention(2)])
    assert [m.id for m in mentions] == ["crm:1", "crm:2"] and errors == []
