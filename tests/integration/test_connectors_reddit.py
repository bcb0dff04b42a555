"""End to end through `lytter ingest run --once` and the watch file: Reddit (local) -> Kafka -> worker -> ES."""

from __future__ import annotations

import pytest

from tests.integration.helpers import indexed_count, indexed_docs, topic_count, wait_for
from tests.streams.sources.fakes import FakeReddit, run_lytter

pytestmark = pytest.mark.integration


async def test_watch_file_connectors_run_once_into_elasticsearch(lytter, worker_factory, tmp_path):
    reddit = FakeReddit()
    await reddit.start()
    try:
        post = reddit.add_post("denmark", "Fjordbank nede igen?", "Kan ikke logge ind i **Fjordbank** appen", score=87, num_comments=2, created=1732100000.0)
        comment = reddit.add_comment(post, "Samme her, Fjordbank svarer ikke", score=-4)
        reddit.add_comment(comment, "Virker nu", score=3)
        for i in range(4):
            reddit.add_post("denmark", f"Tråd {i}", f"Om Fjordbank {i}", created=1732000000.0 + i)
        watch = tmp_path / "watch.yaml"
        watch.write_text(
            f"""brands:
  - name: Fjordbank
    query: 'fjordbank*'
connectors:
  reddit:
    - subreddits: [denmark]
      base_url: {reddit.url}
      user_agent: "lytter-test/0.1 (by u/lytter)"
      limit: 2
      backfill_pages: 10
      rate_per_s: 10
"""
        )
        settings = lytter.model_copy(update={"ingest_state_dir": tmp_path / "ingest", "watch_file": watch})
        code, output = await run_lytter(settings, "ingest", "run", "--once")
        assert code == 0, output
        assert "reddit:r/denmark:new" in output and "reddit:r/denmark:comments" in output
        assert topic_count(settings, settings.topic_raw) == 7
        assert all(r["headers"].get("User-Agent") == "lytter-test/0.1 (by u/lytter)" for r in reddit.requests)

        worker = worker_factory(settings)
        wait_for(lambda: indexed_count(settings) >= 7, 120, "7 Reddit mentions indexed", worker)
        docs = indexed_docs(settings)
        post_doc = docs[f"reddit:{post['data']['name']}"]
        assert post_doc["title"] == "Fjordbank nede igen?" and post_doc["text"] == "Kan ikke logge ind i Fjordbank appen"
        assert post_doc["engagement"] == {"likes": 87, "replies": 2, "shares": 0}
        assert post_doc["published_at"] == "2024-11-20T10:53:20Z" and post_doc["brands"] == ["Fjordbank"]
        comment_doc = docs[f"reddit:{comment['data']['name']}"]
        assert comment_doc["kind"] == "comment" and comment_doc["parent_id"] == post_doc["id"] and comment_doc["engagement"]["likes"] == 0
        reply_doc = next(d for d in docs.values() if d["kind"] == "reply")
        assert reply_doc["parent_id"] == comment_doc["id"]

        code, output = await run_lytter(settings, "ingest", "run", "--once")
        assert code == 0, output
        assert topic_count(settings, settings.topic_raw) == 7  # resumed from the checkpoints: nothing twice
    finally:
        await reddit.close()
