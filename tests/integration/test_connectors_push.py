"""End to end: POST /mentions (push endpoint) -> Kafka (202 only after the acknowledgement) -> worker -> ES."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.sources.push import create_app
from streams.sources.runner import KafkaPublisher
from tests.integration.helpers import indexed_count, indexed_docs, topic_count, wait_for

pytestmark = pytest.mark.integration

TOKEN = "integration-token-0123456789"


def _mention(i: int, **extra) -> dict:
    return {
        "id": f"zendesk:{i}",
        "source": "zendesk",
        "text": f"Kunde {i}: Nordlys Energi har sendt en forkert regning",
        "published_at": f"2024-11-20T1{i}:00:00+01:00",
        "author": {"handle": f"kunde{i}", "followers": i},
        **extra,
    }


async def test_pushed_mentions_are_acknowledged_by_kafka_then_indexed(lytter, worker_factory):
    publisher = KafkaPublisher(lytter)
    async with TestClient(TestServer(create_app(TOKEN, publisher, max_batch=10))) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        response = await client.post("/mentions", json=[_mention(1), _mention(2, parent_id="zendesk:1", kind="reply")], headers=auth)
        assert response.status == 202, await response.text()
        assert (await response.json())["accepted"] == ["zendesk:1", "zendesk:2"]
        assert topic_count(lytter, lytter.topic_raw) == 2  # acknowledged before the 202
        response = await client.post("/mentions", json=_mention(3), headers=auth)
        assert response.status == 202

        # refused requests publish nothing
        assert (await client.post("/mentions", json=_mention(4))).status == 401
        assert (await client.post("/mentions", json=_mention(5, text=""), headers=auth)).status == 422
        assert (await client.post("/mentions", json=[_mention(i) for i in range(11)], headers=auth)).status == 413
        assert topic_count(lytter, lytter.topic_raw) == 3
    await publisher.aclose()

    worker = worker_factory()
    wait_for(lambda: indexed_count(lytter) >= 3, 120, "3 pushed mentions indexed", worker)
    docs = indexed_docs(lytter)
    assert set(docs) == {"zendesk:1", "zendesk:2", "zendesk:3"}
    assert docs["zendesk:2"]["parent_id"] == "zendesk:1" and docs["zendesk:2"]["kind"] == "reply"
    assert docs["zendesk:1"]["published_at"] == "2024-11-20T11:00:00+01:00" and docs["zendesk:1"]["lang"] == "da"
