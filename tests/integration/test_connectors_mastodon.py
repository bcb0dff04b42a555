"""End to end: a Mastodon instance (local) -> MastodonConnector + runner -> Kafka -> worker -> Elasticsearch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.sources.agent import run_agents
from streams.sources.base import TokenBucket
from streams.sources.connectors.mastodon import MastodonConnector
from tests.integration.helpers import indexed_count, indexed_docs, topic_count, wait_for
from tests.streams.sources.fakes import FakeMastodon, mastodon_account

pytestmark = pytest.mark.integration

T0 = datetime(2024, 11, 20, 8, 0, tzinfo=timezone.utc)


async def _run(settings, instance: FakeMastodon, tmp_path) -> dict:
    """One `lytter ingest run --once` of the connector, with its checkpoints in ``tmp_path``."""
    connector = MastodonConnector(instance.url, hashtag="skandiair", limit=3, backfill_pages=5, overlap_s=0, limiter=TokenBucket(100, burst=100))
    return await run_agents(settings.model_copy(update={"ingest_state_dir": tmp_path / "ingest"}), [connector], once=True, handle_signals=False)


async def test_hashtag_timeline_reaches_elasticsearch_with_author_engagement_and_thread(lytter, worker_factory, tmp_path):
    instance = FakeMastodon()
    await instance.start()
    try:
        critic = mastodon_account("reisende", "mastodon.nu", followers=48_000, display_name="Reisende Rita", account_id="77")
        root = instance.add_status("<p>Skandi Air mistet bagasjen min &amp; svarer ikke. #skandiair</p>", when=T0, tags=["skandiair"], account=critic, counts=(120, 45, 2))
        instance.add_status("<p>Samme her med Skandi Air!</p>", when=T0 + timedelta(minutes=3), tags=["skandiair"], in_reply_to=root)
        for i in range(5):
            instance.add_status(f"<p>Skandi Air fly nr {i} er forsinket</p>", when=T0 + timedelta(minutes=10 + i), tags=["skandiair"])
        reports = await _run(lytter, instance, tmp_path)
        assert all(r.ok for r in reports.values()), reports
        assert topic_count(lytter, lytter.topic_raw) == 7  # three pages of 3, 3, 1

        worker = worker_factory()
        wait_for(lambda: indexed_count(lytter) >= 7, 120, "7 Mastodon mentions indexed", worker)
        docs = indexed_docs(lytter)
        root_doc = docs[f"mastodon:{root['uri']}"]
        assert root_doc["author"] == {
            "handle": "reisende@mastodon.nu",
            "display_name": "Reisende Rita",
            "followers": 48000,
            "profile_url": "https://mastodon.nu/@reisende",
        }
        assert root_doc["engagement"] == {"likes": 120, "shares": 45, "replies": 2}
        assert root_doc["text"] == "Skandi Air mistet bagasjen min & svarer ikke. #skandiair"
        assert root_doc["published_at"].startswith("2024-11-20T08:00:00") and root_doc["published_at"].endswith("Z")
        reply = next(d for d in docs.values() if d["kind"] == "reply")
        assert reply["parent_id"] == root_doc["id"]

        # a restart with the same checkpoint directory publishes nothing again; a new status, only it
        await _run(lytter, instance, tmp_path)
        assert topic_count(lytter, lytter.topic_raw) == 7
        instance.add_status("<p>Skandi Air beklager</p>", when=T0 + timedelta(minutes=30), tags=["skandiair"])
        await _run(lytter, instance, tmp_path)
        assert topic_count(lytter, lytter.topic_raw) == 8
        wait_for(lambda: indexed_count(lytter) >= 8, 60, "the new status indexed", worker)
    finally:
        await instance.close()
