"""End to end: a WordPress-like blog (local) -> `lytter ingest rss` -> Kafka -> worker -> Elasticsearch."""

from __future__ import annotations

import pytest

from tests.integration.helpers import indexed_count, indexed_docs, topic_count, wait_for
from tests.streams.sources.fakes import FakeBlog, run_lytter

pytestmark = pytest.mark.integration


async def test_blog_posts_and_comments_reach_elasticsearch_threaded_and_once(lytter, worker_factory, tmp_path):
    settings = lytter.model_copy(update={"ingest_state_dir": tmp_path / "ingest"})
    blog = FakeBlog(per_page=2)
    await blog.start()
    try:
        first = blog.add_post("Nordlys Energi hæver priserne", "<p>Nordlys Energi hæver prisen med 12&nbsp;% fra januar.</p>", author="Mette")
        blog.add_comment(first, "Kim", "<p>Jeg skifter til Fjordbank&#8217;s elaftale.</p>")
        blog.add_post("Kaffe", "<p>Hygge Kaffe åbner i Bergen &amp; Oslo.</p>", hours=1)
        blog.add_post("Fly", "<p>Skandi Air aflyser <em>igen</em>.</p>", hours=2)
        code, output = await run_lytter(settings, "ingest", "rss", f"{blog.url}/feed/")
        assert code == 0, output
        assert "published" in output and "ingest summary" in output
        published = topic_count(settings, settings.topic_raw)
        assert published == 4  # three posts over two pages, one comment

        worker = worker_factory(settings)
        wait_for(lambda: indexed_count(settings) >= 4, 120, "4 blog mentions indexed", worker)
        docs = indexed_docs(settings)
        post_id = f"rss:{blog.guid(first)}"
        comment = next(d for d in docs.values() if d["kind"] == "comment")
        assert comment["parent_id"] == post_id and comment["text"] == "Jeg skifter til Fjordbank’s elaftale."
        post = docs[post_id]
        assert post["title"] == "Nordlys Energi hæver priserne" and post["author"]["handle"] == "Mette"
        assert post["text"] == "Nordlys Energi hæver prisen med 12 % fra januar." and post["engagement"]["replies"] == 1
        assert post["published_at"] == "2024-11-20T08:00:00+01:00" and post["source"] == "blog"

        # run again, and after a new post: only the new post is published (checkpoint + GUID seen-set)
        code, output = await run_lytter(settings, "ingest", "rss", f"{blog.url}/feed/")
        assert code == 0, output
        assert topic_count(settings, settings.topic_raw) == 4
        blog.add_post("Nyt", "<p>Fjordbank lancerer en app.</p>", hours=3)
        code, output = await run_lytter(settings, "ingest", "rss", f"{blog.url}/feed/")
        assert code == 0, output
        assert topic_count(settings, settings.topic_raw) == 5
        wait_for(lambda: indexed_count(settings) >= 5, 60, "the new post indexed", worker)
    finally:
        await blog.close()


async def test_an_unreachable_feed_fails_the_command_with_a_clear_message(lytter, tmp_path):
    from tests.streams.sources.fakes import free_port

    settings = lytter.model_copy(update={"ingest_state_dir": tmp_path / "ingest"})
    url = f"http://127.0.0.1:{free_port()}/feed/"
    code, output = await run_lytter(settings, "ingest", "rss", url, timeout=180)
    assert code == 1
    assert url in output and "cannot reach" in " ".join(output.split())
