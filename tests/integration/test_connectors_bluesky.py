"""End to end: Jetstream (local WebSocket) -> BlueskyConnector + runner -> Kafka -> worker -> Elasticsearch,
and an account deletion from there to the tombstones."""

from __future__ import annotations

import pytest

from streams.sources.agent import run_agents
from streams.sources.connectors.bluesky import BlueskyConnector
from tests.integration.helpers import indexed_count, indexed_docs, topic_count, wait_for
from tests.streams.sources.fakes import FakeJetstream, jetstream_other, jetstream_post

pytestmark = pytest.mark.integration

DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
T0 = 1_732_100_000_000_000


async def _run(settings, jetstream: FakeJetstream, tmp_path) -> dict:
    """One `lytter ingest run --once` of the connector, with its checkpoints in ``tmp_path``."""
    connector = BlueskyConnector(["hygge kaffe"], jetstream_url=jetstream.ws_url, batch_s=0.05, idle_s=1.0, max_replay_s=None)
    return await run_agents(settings.model_copy(update={"ingest_state_dir": tmp_path / "ingest"}), [connector], once=True, handle_signals=False)


async def test_firehose_posts_matching_keywords_reach_elasticsearch_and_resume_without_duplicates(lytter, worker_factory, tmp_path):
    jetstream = FakeJetstream()
    await jetstream.start()
    try:
        root = jetstream_post(DID, "3lroot", "Hygge Kaffe i Göteborg är bäst", T0, langs=("sv",))
        jetstream.events += [
            root,
            jetstream_other(DID, T0 + 1),
            jetstream_post("did:plc:other", "3lnoise", "Inget om kaffe här", T0 + 2),
            jetstream_post("did:plc:other", "3lreply", "Håller med om Hygge Kaffe!", T0 + 3, reply_to=f"at://{DID}/app.bsky.feed.post/3lroot"),
            jetstream_post("did:plc:third", "3lquote", "hygge kaffe, igen", T0 + 4, quote=f"at://{DID}/app.bsky.feed.post/3lroot"),
            jetstream_other(DID, T0 + 5, "like"),
        ]
        jetstream.close_after = 3  # the connection drops after three events: the run reports it
        reports = await _run(lytter, jetstream, tmp_path)
        assert any("connection closed" in e for r in reports.values() for e in r.errors)
        jetstream.close_after = None
        reports = await _run(lytter, jetstream, tmp_path)  # restart: resumes from the cursor (rewound), no duplicates
        assert all(r.ok for r in reports.values()), reports
        assert topic_count(lytter, lytter.topic_raw) == 3

        worker = worker_factory()
        wait_for(lambda: indexed_count(lytter) >= 3, 120, "3 Bluesky mentions indexed", worker)
        docs = indexed_docs(lytter)
        root_id = f"bluesky:at://{DID}/app.bsky.feed.post/3lroot"
        assert docs[root_id]["author"]["handle"] == DID and docs[root_id]["kind"] == "post"
        assert docs[root_id]["url"] == f"https://bsky.app/profile/{DID}/post/3lroot"
        assert docs[root_id]["published_at"].endswith("Z") and docs[root_id]["lang"] == "sv"
        kinds = {d["kind"]: d["parent_id"] for d in docs.values() if d["kind"] != "post"}
        assert kinds == {"reply": root_id, "quote": root_id}

        # the root's author deletes the account: the post published from it becomes an anonymous tombstone
        gone = {"did": DID, "time_us": T0 + 6, "kind": "account", "account": {"active": False, "did": DID, "seq": 9, "time": "2024-11-20T10:00:00Z", "status": "deleted"}}
        jetstream.events.append(gone)
        reports = await _run(lytter, jetstream, tmp_path)  # from the checkpoint: it knows what it published
        assert all(r.ok for r in reports.values()), reports
        assert topic_count(lytter, lytter.topic_deletions) == 1 and topic_count(lytter, lytter.topic_raw) == 3
        wait_for(lambda: indexed_docs(lytter)[root_id].get("deleted") is True, 60, "the account deletion honoured", worker)
        docs = indexed_docs(lytter)
        assert docs[root_id]["text"] == "" and docs[root_id]["author"] is None and docs[root_id]["url"] is None
        reply_id = "bluesky:at://did:plc:other/app.bsky.feed.post/3lreply"
        assert docs[reply_id]["text"] == "Håller med om Hygge Kaffe!" and not docs[reply_id].get("deleted")  # another account's
    finally:
        await jetstream.close()
