"""RSS/Atom and WordPress comment feeds against a local WordPress-like site."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket
from streams.sources.http import SourceHttp
from streams.sources.rss import RssConnector, check_feed, entry_to_mention, parse_feed_bytes
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeBlog, MemoryPublisher, RecordingSleep, free_port

CET = timezone(timedelta(hours=1))

WORDPRESS_ITEM = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel><title>Blog</title><link>https://blog.example.dk</link><description>d</description>
<item>
  <title>Nordlys Energi &amp; kunderne</title>
  <link>https://blog.example.dk/2024/11/nordlys/</link>
  <dc:creator><![CDATA[Mette Holm]]></dc:creator>
  <pubDate>Sat, 23 Nov 2024 09:30:00 +0100</pubDate>
  <guid isPermaLink="false">https://blog.example.dk/?p=4711</guid>
  <description><![CDATA[Kort udgave [&#8230;]]]></description>
  <content:encoded><![CDATA[<p>Jeg skiftede til <strong>Nordlys Energi</strong> &amp; det gik&nbsp;fint.</p>
<p>Kundeservice svarede p&aring; 5 min.</p><script>track()</script>]]></content:encoded>
  <wfw:commentRss>https://blog.example.dk/2024/11/nordlys/feed/</wfw:commentRss>
  <slash:comments>4</slash:comments>
</item></channel></rss>"""


def test_wordpress_item_maps_to_a_clean_mention():
    parsed = parse_feed_bytes(WORDPRESS_ITEM, url="https://blog.example.dk/feed/", content_type="application/rss+xml; charset=UTF-8")
    check_feed(parsed, source="rss:x", url="https://blog.example.dk/feed/")
    mention = entry_to_mention(parsed.entries[0], feed_url="https://blog.example.dk/feed/")
    assert mention.id == "rss:https://blog.example.dk/?p=4711"
    assert mention.source == "blog" and mention.kind == "post" and mention.parent_id is None
    assert mention.title == "Nordlys Energi & kunderne"
    assert mention.text == "Jeg skiftede til Nordlys Energi & det gik fint.\n\nKundeservice svarede på 5 min."
    assert mention.author.handle == "Mette Holm"
    assert mention.published_at.isoformat() == "2024-11-23T09:30:00+01:00"
    assert mention.engagement.replies == 4
    assert mention.url == "https://blog.example.dk/2024/11/nordlys/"
    assert mention.raw["comments_feed"] == "https://blog.example.dk/2024/11/nordlys/feed/"


def test_comment_items_point_at_their_post_and_carry_no_title():
    parsed = parse_feed_bytes(WORDPRESS_ITEM, url="https://blog.example.dk/feed/")
    comment = entry_to_mention(parsed.entries[0], feed_url="c", kind="comment", parent_id="rss:post")
    assert comment.kind == "comment" and comment.parent_id == "rss:post" and comment.title is None


def test_a_web_page_is_not_a_feed():
    parsed = parse_feed_bytes(b"<!doctype html><html><body><h1>Hej</h1></body></html>", url="https://x/")
    with pytest.raises(SourceError, match="not an RSS or Atom feed") as info:
        check_feed(parsed, source="rss:https://x/", url="https://x/")
    assert "https://x/" in str(info.value) and "/feed/" in str(info.value)


@pytest.fixture
async def blog():
    site = FakeBlog(per_page=3)
    await site.start()
    yield site
    await site.close()


def fast() -> TokenBucket:
    return TokenBucket(1000.0, burst=1000)


def _setup(blog: FakeBlog, tmp_path, **kw):
    sleep = RecordingSleep()
    http = SourceHttp(policy=RetryPolicy(max_attempts=4), sleep=sleep)
    connector = RssConnector(f"{blog.url}/feed/", limiter=fast(), **kw)
    publisher = MemoryPublisher()
    runner = Runner([connector], publisher, Checkpoints(tmp_path), http, on_batch=None)
    return runner, publisher, http, sleep


def _fill(blog: FakeBlog, posts: int = 7) -> None:
    for i in range(posts):
        post = blog.add_post(f"Indlæg {i}", f"<p>Om Nordlys Energi, del {i} &amp; mere</p>", hours=i)
        if i % 2 == 0:
            blog.add_comment(post, "Kim", f"<p>Enig i del {i}!</p>")
            blog.add_comment(post, "Sara", f"<p>Nej &ndash; uenig i {i}</p>", hours=2)


async def test_first_poll_pages_to_the_end_and_reads_comment_feeds(blog, tmp_path):
    _fill(blog, 7)  # 3 pages of 3, 3, 1 posts; 4 posts with 2 comments each
    runner, publisher, http, _ = _setup(blog, tmp_path)
    report = (await runner.run_once())[runner.connectors[0].source_id]
    await http.aclose()
    assert report.ok, report.errors
    posts = [m for m in publisher.mentions if m.kind == "post"]
    comments = [m for m in publisher.mentions if m.kind == "comment"]
    assert sorted(m.title for m in posts) == [f"Indlæg {i}" for i in range(7)]
    assert len(comments) == 8 and len(set(publisher.ids)) == len(publisher.ids)
    by_guid = {m.id: m for m in posts}
    for comment in comments:
        parent = by_guid[comment.parent_id]
        number = parent.title.split()[-1]
        assert number in comment.text and comment.author.handle in ("Kim", "Sara")
        assert comment.published_at > parent.published_at and comment.published_at.utcoffset() == timedelta(hours=1)
    assert "Nej – uenig i 0" in {c.text for c in comments}
    assert {"/feed/", "/1/feed/", "/3/feed/", "/5/feed/", "/7/feed/"} <= set(blog.paths())
    assert [r["query"].get("paged") for r in blog.requests if r["path"] == "/feed/"] == [None, "2", "3"]


async def test_conditional_get_304_then_only_new_items_and_comments(blog, tmp_path):
    _fill(blog, 4)
    runner, publisher, http, _ = _setup(blog, tmp_path)
    await runner.run_once()
    first = len(publisher.ids)
    blog.requests.clear()
    await runner.run_once()  # nothing changed: 304s everywhere
    assert len(publisher.ids) == first
    feed_request = next(r for r in blog.requests if r["path"] == "/feed/")
    assert feed_request["headers"].get("If-None-Match", "").startswith('"feed-')
    assert all("If-None-Match" in r["headers"] for r in blog.requests)

    new_post = blog.add_post("Nyt indlæg", "<p>Nordlys Energi igen</p>", hours=10)
    blog.add_comment(blog.posts[0], "Jens", "<p>Sen kommentar</p>", hours=20)
    await runner.run_once()
    await http.aclose()
    added = publisher.mentions[first:]
    assert sorted((m.kind, m.text) for m in added) == [("comment", "Sen kommentar"), ("post", "Nordlys Energi igen")]
    assert new_post.title == "Nyt indlæg"


async def test_restart_resumes_from_the_checkpoint_with_no_gap_and_no_duplicate(blog, tmp_path):
    _fill(blog, 7)
    runner, publisher, http, _ = _setup(blog, tmp_path)
    publisher.fail_after(1)  # page 1 is acknowledged, page 2 is not: "crash"
    report = (await runner.run_once())[runner.connectors[0].source_id]
    assert report.errors and len(publisher.ids) == 3
    # restart: a new connector and runner that only know the checkpoint directory
    runner2, publisher2, http2, _ = _setup(blog, tmp_path)
    publisher2.batches = [list(b) for b in publisher.batches]
    await runner2.run_once()
    ids = publisher2.ids
    assert len(ids) == len(set(ids)) == 7 + 8  # all posts and comments, each exactly once
    # and a third run adds nothing
    await runner2.run_once()
    assert len(publisher2.ids) == 15
    await http.aclose()
    await http2.aclose()


async def test_backs_off_on_429_and_5xx(blog, tmp_path):
    _fill(blog, 2)
    runner, publisher, http, sleep = _setup(blog, tmp_path, comments=False)
    blog.fail_next(503, body="Service Unavailable")
    blog.fail_next(429, headers={"Retry-After": "12"})
    report = (await runner.run_once())[runner.connectors[0].source_id]
    await http.aclose()
    assert report.ok and len(publisher.ids) == 2
    assert len(sleep.waits) == 2 and 0.5 <= sleep.waits[0] <= 1.0 and sleep.waits[1] == 12.0


async def test_unreachable_and_malformed_feeds_are_clear_errors(blog, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/feed/"
    http = SourceHttp(policy=RetryPolicy(max_attempts=2), sleep=RecordingSleep())
    with pytest.raises(SourceError) as info:
        await RssConnector(dead).poll_once(http)
    assert dead in str(info.value) and "cannot reach" in str(info.value)
    with pytest.raises(SourceError) as info:
        await RssConnector(f"{blog.url}/page.html").poll_once(http)
    assert "not an RSS or Atom feed" in str(info.value) and f"{blog.url}/page.html" in str(info.value)
    with pytest.raises(SourceError) as info:
        await RssConnector(f"{blog.url}/nope/").poll_once(http)
    assert "HTTP 404" in str(info.value) and "check the URL" in str(info.value)
    await http.aclose()


async def test_atom_feeds_and_a_vanished_comment_feed(blog, tmp_path):
    _fill(blog, 2)
    http = SourceHttp(sleep=RecordingSleep())
    mentions = await RssConnector(f"{blog.url}/atom.xml", limiter=fast()).poll_once(http)
    assert sorted(m.id for m in mentions) == ["rss:tag:nordlys.example,2024:post-1", "rss:tag:nordlys.example,2024:post-2"]
    first = next(m for m in mentions if m.id.endswith("post-1"))
    assert first.published_at.utcoffset() == timedelta(hours=1) and first.author.profile_url.endswith("/author/rasmus")
    assert first.text == "Om Nordlys Energi, del 0 & mere"

    connector = RssConnector(f"{blog.url}/feed/", limiter=fast())
    await connector.poll_once(http)
    assert len(connector.state["comment_feeds"]) == 2
    blog.posts.pop(0)  # the post (and its comment feed) is deleted
    blog.version += 1
    await connector.poll_once(http)  # not fatal: the comment feed is dropped
    assert [c["url"] for c in connector.state["comment_feeds"]] == [f"{blog.url}/2/feed/"]
    await http.aclose()
