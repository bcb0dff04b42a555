"""The push endpoint: bearer auth, validation with the field at fault, size limits, acknowledgement; mentions
and deletions."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.sources.base import REGISTRY
from streams.sources.push import create_app, validate_deletions, validate_mentions
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


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("0.0.0.0", True)])
async def test_the_endpoint_binds_its_host_and_warns_off_loopback(host, warned, caplog):
    import asyncio

    import httpx

    from streams.sources.push import serve
    from tests.streams.sources.fakes import free_port

    port, stop = free_port(), asyncio.Event()
    caplog.set_level(logging.INFO, logger="streams.sources.push")
    task = asyncio.create_task(serve(create_app(TOKEN, MemoryPublisher()), host, port, stop))
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("without the token" in w and "LYTTER_PUSH_HOST" in w for w in warnings) is warned, warnings
    assert TOKEN not in caplog.text


# --- POST /deletions -----------------------------------------------------------------------------------


async def test_deletions_are_published_keyed_by_id_once_acknowledged(client):
    body = {"deletions": [
        {"id": "crm:1", "reason": "removed", "deleted_at": "2024-11-22T09:00:00+01:00", "source": "trustpilot"},
        {"id": "crm:2"},
    ]}
    response = await client.post("/deletions", json=body, headers=AUTH)
    assert response.status == 202 and await response.json() == {"accepted": ["crm:1", "crm:2"], "count": 2}
    first, second = client.publisher.deletions
    assert (first.id, first.reason, first.source, first.deleted_at.isoformat()) == ("crm:1", "removed", "trustpilot", "2024-11-22T09:00:00+01:00")
    # the defaults: deleted by its author, now, recorded as the push source's
    assert (second.reason, second.source) == ("deleted", "push")
    assert second.deleted_at.tzinfo is not None and abs((datetime.now(timezone.utc) - second.deleted_at).total_seconds()) < 60
    assert client.publisher.mentions == []  # nothing went to mentions.raw


async def test_invalid_deletions_are_422_naming_each_field_and_nothing_is_published(client):
    body = {"deletions": [
        {"id": "crm:1", "reason": "gone"},
        {"id": "  "},
        {"id": "crm:3", "deleted_at": "2024-11-22T09:00:00"},
        "crm:4",
        {"id": "crm:5", "reson": "removed"},
    ]}
    response = await client.post("/deletions", json=body, headers=AUTH)
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert [e["loc"] for e in errors] == ["deletions[0].reason", "deletions[1].id", "deletions[2].deleted_at", "deletions[3]", "deletions[4].reson"]
    assert "timezone" in errors[2]["msg"] and "'removed'" in errors[0]["msg"] and "not permitted" in errors[4]["msg"]
    for wrong, loc in (([{"id": "crm:1"}], "(body)"), ({"deletions": []}, "deletions"), ({"deletions": [{"id": "crm:1"}], "more": 1}, "(body)")):
        response = await client.post("/deletions", json=wrong, headers=AUTH)
        assert response.status == 422 and [e["loc"] for e in (await response.json())["errors"]] == [loc], wrong
    assert getattr(client.publisher, "deletions", []) == []


async def test_deletions_follow_the_same_auth_size_and_type_rules(client):
    one = {"deletions": [{"id": "crm:1"}]}
    response = await client.post("/deletions", json=one)
    assert response.status == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="lytter-push"'
    response = await client.post("/deletions", json=one, headers={"Authorization": "Bearer not-the-token"})
    assert response.status == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    response = await client.post("/deletions", json={"deletions": [{"id": f"crm:{i}"} for i in range(6)]}, headers=AUTH)
    assert response.status == 413 and "6 deletions; at most 5" in (await response.json())["error"]
    response = await client.post("/deletions", data=b'{"deletions": [' + b" " * 5000 + b"]}", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 413
    response = await client.post("/deletions", data=b"id=crm:1", headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    response = await client.post("/deletions", data=b'{"deletions": [', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400 and "not JSON" in (await response.json())["error"]
    assert getattr(client.publisher, "deletions", []) == []


class RefusingPublisher(MemoryPublisher):
    async def publish_deletions(self, deletions) -> None:
        from streams.sources.producer import PublishError

        raise PublishError("fake: Kafka did not acknowledge")


async def test_deletions_kafka_does_not_acknowledge_are_503_with_retry_after():
    app = create_app(TOKEN, RefusingPublisher(), max_batch=5, max_body_bytes=4096)
    async with TestClient(TestServer(app)) as c:
        response = await c.post("/deletions", json={"deletions": [{"id": "crm:1"}]}, headers=AUTH)
        assert response.status == 503 and response.headers["Retry-After"] == "5"
        assert "send the same body again" in (await response.json())["error"]


def test_deletion_validation_is_a_pure_function():
    deletions, errors = validate_deletions({"deletions": [{"id": "crm:1", "reason": "account deleted"}]})
    assert errors == [] and [(d.id, d.reason) for d in deletions] == [("crm:1", "account deleted")]
