"""RSS/Atom and WordPress comment feeds against a local WordPress-like site; edits of items read before."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket, drain
from streams.sources.http import SourceHttp
from streams.sources.connectors.rss import SEEN_MAX, FeedMemory, RssConnector, check_feed, entry_to_mention, is_edit, parse_feed_bytes
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeBlog, FakeServer, MemoryPublisher, RecordingSleep, free_port

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
    assert mention.id == "rss:http://blog.example.dk/?p=4711"  # ids spell http(s) guids with ID_SCHEME
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


# --- defects real feeds found (issue 15) ---------------------------------------------------------------

ARTICLE = "".join(f"<p>Afsnit {i}: Nordlys Energi har hævet prisen på fastpris-aftalen igen.</p>" for i in range(40))

# A news site's RSS 2.0: the article in <description>, and an unqualified Open Graph block whose short
# <description> feedparser files under ``content``.
OG_ITEM = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Nyheder</title><link>https://nyheder.example.dk/</link>
<description>Seneste nyt</description><language>da</language>
<item>
  <title>Use &lt;T&gt; in Swift</title>
  <link>https://nyheder.example.dk/artikel/4242</link>
  <guid isPermaLink="true">https://nyheder.example.dk/artikel/4242</guid>
  <pubDate>Mon, 02 Dec 2024 10:00:00 +01:00</pubDate>
  <description><![CDATA[{ARTICLE}]]></description>
  <og>
    <title>Nordlys Energi hæver prisen</title>
    <description>Prisen stiger for tredje gang i år. Læs hvad det betyder for dig.</description>
    <image>https://nyheder.example.dk/img/4242.jpg</image>
  </og>
</item></channel></rss>""".encode()


def _first(feed: bytes, url: str = "https://nyheder.example.dk/rss"):
    parsed = parse_feed_bytes(feed, url=url)
    atom = {"feed": parsed.feed} if parsed.version.startswith("atom") else {}  # the feed's authors apply
    return entry_to_mention(parsed.entries[0], feed_url=url, **atom)


def test_r1_the_long_description_wins_over_a_short_og_description_blurb():
    mention = _first(OG_ITEM)
    assert mention.text.startswith("Afsnit 0: Nordlys Energi") and len(mention.text) > 2500
    assert "tredje gang" not in mention.text


def test_plain_text_titles_keep_their_brackets_and_html_titles_lose_markup():
    assert _first(OG_ITEM).title == "Use <T> in Swift"
    html_title = b'<title type="html">Vinterens &lt;em&gt;elregning&lt;/em&gt;</title>'
    html_title = ATOM_BLOG.replace(b"<title>Vinterens elregning</title>", html_title)
    assert _first(html_title).title == "Vinterens elregning"


# A personal blog's Atom feed: the feed names its author once, entries name none (RFC 4287 4.2.1).
ATOM_BLOG = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="da">
  <title>Annas noter</title>
  <link href="https://anna.example.dk/" rel="alternate" type="text/html"/>
  <link href="https://anna.example.dk/atom.xml" rel="self" type="application/atom+xml"/>
  <id>https://anna.example.dk/</id>
  <updated>2024-12-03T07:15:00+01:00</updated>
  <author><name>Anna Berg</name><uri>https://anna.example.dk/om</uri></author>
  <generator uri="https://gohugo.io/">Hugo</generator>
  <entry>
    <title>Vinterens elregning</title>
    <link href="https://anna.example.dk/posts/elregning/" rel="alternate" type="text/html"/>
    <id>https://anna.example.dk/posts/elregning/</id>
    <published>2024-12-03T07:15:00+01:00</published>
    <updated>2024-12-03T07:15:00+01:00</updated>
    <content type="html">&lt;p&gt;Nordlys Energi sendte en regning p&#229; 2.400 kr.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>G&#230;steindl&#230;g: skiftet til vindstr&#248;m</title>
    <link href="https://anna.example.dk/posts/gaest/" rel="alternate" type="text/html"/>
    <id>https://anna.example.dk/posts/gaest/</id>
    <updated>2024-12-01T18:00:00+01:00</updated>
    <author><name>Bo Lund</name></author>
    <author><name>Carla Holm</name><uri>https://carla.example.dk/</uri></author>
    <summary>Vi skiftede fra Nordlys Energi i november.</summary>
  </entry>
</feed>"""


def test_r2_the_atom_feed_author_applies_to_entries_without_their_own():
    parsed = parse_feed_bytes(ATOM_BLOG, url="https://anna.example.dk/atom.xml")
    # as a poll maps the page: the second entry names its own authors, which win
    mentions, _, _ = RssConnector("https://anna.example.dk/atom.xml")._page(parsed, FeedMemory({}), [], datetime.now(timezone.utc))
    assert [m.author.handle if m.author else None for m in mentions] == ["Anna Berg", "Bo Lund"]
    assert mentions[0].author.profile_url == "https://anna.example.dk/om"


# A WordPress post by two authors (Co-Authors Plus writes one <dc:creator> per author).
TWO_AUTHORS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Forbrugerbloggen</title><link>https://forbruger.example.dk</link><description>d</description>
<item>
  <title>Vi testede fem elselskaber</title>
  <link>https://forbruger.example.dk/2024/12/elselskaber/</link>
  <dc:creator><![CDATA[Mette Holm]]></dc:creator>
  <dc:creator><![CDATA[Jonas Friis]]></dc:creator>
  <pubDate>Tue, 03 Dec 2024 08:00:00 +0000</pubDate>
  <guid isPermaLink="false">https://forbruger.example.dk/?p=981</guid>
  <description><![CDATA[Nordlys Energi kom ind p&#229; en tredjeplads.]]></description>
</item></channel></rss>"""


def test_r3_items_with_two_authors_keep_both():
    rss = _first(TWO_AUTHORS, "https://forbruger.example.dk/feed/")
    assert rss.author.handle == "Mette Holm" and rss.author.display_name == "Mette Holm, Jonas Friis"
    parsed = parse_feed_bytes(ATOM_BLOG, url="https://anna.example.dk/atom.xml")
    atom = entry_to_mention(parsed.entries[1], feed_url="x", feed=parsed.feed)
    assert atom.author.handle == "Bo Lund" and atom.author.display_name == "Bo Lund, Carla Holm"
    assert atom.author.profile_url is None  # the first author has no <uri>; Carla's is not Bo's


def _item(guid: str, link: str) -> bytes:
    guid_element = f'<guid isPermaLink="true">{guid}</guid>' if guid else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog</title>
<link>https://blog.example.dk/</link><description>d</description>
<item><title>Nordlys</title><link>{link}</link>{guid_element}
<pubDate>Sat, 23 Nov 2024 09:30:00 +0100</pubDate><description>Om Nordlys Energi</description></item>
</channel></rss>""".encode()


def test_r4_the_mention_id_does_not_depend_on_scheme_trailing_slash_or_mirror():
    post = "https://blog.example.dk/2024/11/nordlys/"
    readings = [
        (_item(post, post), "https://blog.example.dk/feed/"),
        (_item("http://blog.example.dk/2024/11/nordlys/", post), "http://blog.example.dk/feed"),
        (_item("https://Blog.Example.dk:443/2024/11/nordlys", post), "https://mirror.example.net/blog.example.dk/feed/"),
    ]
    ids = {_first(feed, url).id for feed, url in readings}
    assert ids == {"rss:http://blog.example.dk/2024/11/nordlys"}
    # without a guid the link is the identity, normalised the same way
    no_guid = {_first(_item("", link), "https://blog.example.dk/feed/").id for link in (post, "http://blog.example.dk/2024/11/nordlys")}
    assert no_guid == ids
    # tag: and urn: ids are not URLs and are kept as they are; fragments tell comments apart
    assert _first(_item("tag:blog.example.dk,2024:/nordlys/", post)).id == "rss:tag:blog.example.dk,2024:/nordlys/"
    comment = _first(_item("https://blog.example.dk/2024/11/nordlys/#comment-12", post)).id
    assert comment == "rss:http://blog.example.dk/2024/11/nordlys#comment-12"


async def test_r5_a_permanent_4xx_on_a_next_page_drops_it_from_the_checkpoint(blog, caplog):
    _fill(blog, 2)
    http = SourceHttp(policy=RetryPolicy(max_attempts=2), sleep=RecordingSleep())
    connector = RssConnector(f"{blog.url}/feed/", limiter=fast())
    # a chain interrupted earlier, whose page has since gone (the blog lost posts: ?paged=5 is a 404)
    connector.restore({"next_url": f"{blog.url}/feed/?paged=5", "chain_pages": 4})
    mentions = await connector.poll_once(http)
    assert connector.state.get("next_url") is None
    assert "dropping older page" in caplog.text and "paged=5" in caplog.text
    assert sorted(m.kind for m in mentions) == ["comment", "comment", "post", "post"]  # comment feeds read
    blog.add_post("Nyt", "<p>Nordlys Energi igen</p>", hours=5)
    assert [m.text for m in await connector.poll_once(http)] == ["Nordlys Energi igen"]
    await http.aclose()


# An Atom feed with "never expires" sentinel dates: feedparser gives both as year 10000 (UTC); the
# ordinal one, which the old parser could not read itself, raised ValueError and failed the whole poll.
SENTINEL_DATE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Kalender</title><id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
<updated>2024-12-02T10:00:00Z</updated><author><name>Redaktionen</name></author>
<entry><title>Altid aktuelt</title><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
  <updated>9999-12-31T23:59:59-05:00</updated><summary>Nordlys Energi: kundeservice hele d&#248;gnet</summary></entry>
<entry><title>Arkiv</title><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6c</id>
  <updated>9999-365T23:59:59-05:00</updated><summary>Nordlys Energi: alle nyheder</summary></entry>
<entry><title>Ugens tilbud</title><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b</id>
  <updated>2024-12-02T10:00:00+01:00</updated><summary>Nordlys Energi s&#230;nker prisen</summary></entry>
</feed>"""


def test_r6_an_out_of_range_date_does_not_stop_the_feed():
    parsed = parse_feed_bytes(SENTINEL_DATE, url="https://kalender.example.dk/atom")
    fetched_at = datetime(2024, 12, 2, 12, 0, tzinfo=timezone.utc)
    mentions, count, _ = RssConnector("https://kalender.example.dk/atom")._page(parsed, FeedMemory({}), [], fetched_at)
    assert count == 3 and len(mentions) == 3
    sentinel, ordinal, offer = mentions
    assert sentinel.published_at == fetched_at and "untrusted date (updated '9999-12-31T23:59:59-05:00')" in sentinel.raw["date_problem"]
    assert ordinal.published_at == fetched_at and "outside 1990..now+1 day" in ordinal.raw["date_problem"]
    assert offer.published_at == datetime(2024, 12, 2, 9, tzinfo=timezone.utc) and "date_problem" not in offer.raw


# Formats real feeds use (the kinds in feedparser's date corpus) that the old hand-written parser misread.
FEED_DATES = [
    ("Mon, 02 Dec 2024 10:00:00 +01:00", datetime(2024, 12, 2, 9, tzinfo=timezone.utc)),
    ("Mon, 02 Dec 2024 10:00:00 MET", datetime(2024, 12, 2, 9, tzinfo=timezone.utc)),
    ("Sun, 02 Jun 2024 10:00:00 MEST", datetime(2024, 6, 2, 8, tzinfo=timezone.utc)),
    ("Mon, 02 Dec 2024 10:00:00 PST", datetime(2024, 12, 2, 18, tzinfo=timezone.utc)),
    ("2024-12-02T10:00:00-01:01", datetime(2024, 12, 2, 11, 1, tzinfo=timezone.utc)),
    ("Mon, 02 Dec 2024 04:00:00 EST", datetime(2024, 12, 2, 9, tzinfo=timezone.utc)),
]


@pytest.mark.parametrize(("pub_date", "instant"), FEED_DATES)
def test_feed_dates_are_feedparsers_instants(pub_date, instant):
    mention = _first(OG_ITEM.replace(b"Mon, 02 Dec 2024 10:00:00 +01:00", pub_date.encode()))
    assert mention.published_at == instant and "date_problem" not in mention.raw


def test_an_item_without_author_after_one_with_a_comment_feed_is_read():
    # the comment feed's URL once replaced the feed element the authors are inherited from: the item without
    # an author after it raised AttributeError ('str' object has no attribute 'get') and failed the poll
    body = b"""<?xml version="1.0"?><rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>x</title><link>https://b.example/</link><description>d</description>
<item><title>a</title><guid>https://b.example/?p=1</guid><dc:creator>Ida</dc:creator><description>Nordlys en</description>
<wfw:commentRss>https://b.example/1/feed/</wfw:commentRss></item>
<item><title>b</title><guid>https://b.example/?p=2</guid><description>Nordlys to</description></item>
</channel></rss>"""
    parsed = parse_feed_bytes(body, url="https://b.example/feed/")
    connector = RssConnector("https://b.example/feed/")
    comment_feeds: list[dict] = []
    mentions, count, _ = connector._page(parsed, FeedMemory({}), comment_feeds, datetime.now(timezone.utc))
    assert count == 2 and [m.author.handle if m.author else None for m in mentions] == ["Ida", None]
    assert comment_feeds == [{"url": "https://b.example/1/feed/", "post_id": mentions[0].id}]


# --- edits: an item read again that changed is published again (issue 15) --------------------------------


def _atom(*entries: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="da"><title>Energibloggen</title><id>tag:energi.example.dk,2020:feed</id>
<updated>2024-11-22T08:30:00+01:00</updated><author><name>Lise Dahl</name></author>{''.join(entries)}</feed>"""


def _entry(slug: str, text: str, updated: str, published: str | None = None, title: str = "Nordlys Energi") -> str:
    own = f"<published>{published}</published>" if published else ""
    return f"""<entry><title>{title}</title><link href="https://energi.example.dk/{slug}/"/><id>tag:energi.example.dk,2024:{slug}</id>
  {own}<updated>{updated}</updated><content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry>"""


class AtomSite(FakeServer):
    """One Atom feed whose body the test rewrites between polls."""

    def __init__(self) -> None:
        super().__init__()
        self.body = _atom()
        self.app.router.add_get("/atom.xml", self.feed)

    async def feed(self, request):
        from aiohttp import web

        return web.Response(text=self.body, content_type="application/atom+xml")


@pytest.fixture
async def atom_site():
    site = AtomSite()
    await site.start()
    yield site
    await site.close()


async def _read(site: AtomSite, state: dict) -> tuple[list, dict]:
    """One poll of the feed from the checkpoint ``state`` (a fresh connector, as after a restart)."""
    connector = RssConnector(f"{site.url}/atom.xml", limiter=fast())
    connector.restore(state)
    async with SourceHttp(sleep=RecordingSleep()) as http:
        mentions = await connector.poll_once(http)
    return mentions, connector.state


async def test_an_atom_entry_with_a_later_updated_is_published_again_as_an_edit(atom_site):
    atom_site.body = _atom(
        _entry("vinter", "Nordlys Energi hæver prisen.", "2024-11-21T10:00:00+01:00", published="2024-11-21T10:00:00+01:00"),
        _entry("kort", "Nordlys Energi: kort nyt.", "2024-11-21T11:00:00+01:00"),  # no <published>: its time is <updated>
    )
    first, state = await _read(atom_site, {})
    assert [m.edited_at for m in first] == [None, None]
    atom_site.body = _atom(
        _entry("vinter", "Nordlys Energi sænker prisen igen.", "2024-11-22T08:30:00+01:00", published="2024-11-21T10:00:00+01:00"),
        _entry("kort", "Nordlys Energi: kort nyt, rettet.", "2024-11-22T09:00:00+01:00"),
    )
    edits, state = await _read(atom_site, state)
    assert [m.id for m in edits] == [m.id for m in first]
    assert [m.text for m in edits] == ["Nordlys Energi sænker prisen igen.", "Nordlys Energi: kort nyt, rettet."]
    assert [m.edited_at.isoformat() for m in edits] == ["2024-11-22T08:30:00+01:00", "2024-11-22T09:00:00+01:00"]
    # the publication time the mention was first counted at, also for the entry whose only date moved
    assert [m.published_at for m in edits] == [m.published_at for m in first]
    assert edits[1].published_at.isoformat() == "2024-11-21T11:00:00+01:00"
    again, state = await _read(atom_site, state)
    assert again == []  # the same version twice is no edit


async def test_an_atom_entry_whose_updated_did_not_move_on_is_no_edit(atom_site):
    atom_site.body = _atom(_entry("vinter", "Nordlys Energi hæver prisen.", "2024-11-21T10:00:00+01:00"))
    _, state = await _read(atom_site, {})
    # the feed's own word: the same <updated> (a re-rendered page), or an older one (a restored backup)
    for updated, text in (("2024-11-21T10:00:00+01:00", "Nordlys Energi hæver prisen (gengivet)."), ("2024-11-20T10:00:00+01:00", "Gammel tekst om Nordlys.")):
        atom_site.body = _atom(_entry("vinter", text, updated))
        mentions, state = await _read(atom_site, state)
        assert mentions == [], updated


async def test_an_entry_gone_from_the_feed_is_no_deletion_and_its_return_no_repeat(atom_site):
    kept = _entry("vinter", "Nordlys Energi hæver prisen.", "2024-11-21T10:00:00+01:00")
    gone = _entry("sommer", "Nordlys Energi om sommerpriser.", "2024-11-21T11:00:00+01:00")
    atom_site.body = _atom(gone, kept)
    first, state = await _read(atom_site, {})
    assert len(first) == 2
    atom_site.body = _atom(kept)  # it scrolled out of the feed (or was taken down: a feed cannot say which)
    connector = RssConnector(f"{atom_site.url}/atom.xml", limiter=fast())
    connector.restore(state)
    async with SourceHttp(sleep=RecordingSleep()) as http:
        batches = await drain(connector.poll(http))
    assert [b.deletions for b in batches] == [[]] and [b.mentions for b in batches] == [[]]
    atom_site.body = _atom(gone, kept)
    mentions, _ = await _read(atom_site, connector.state)
    assert mentions == []


async def test_a_wordpress_post_or_comment_whose_text_changed_is_an_edit_at_the_fetch_time(blog, tmp_path):
    _fill(blog, 2)
    runner, publisher, http, _ = _setup(blog, tmp_path)
    await runner.run_once()
    first = {m.id: m for m in publisher.mentions}
    post = next(p for p in blog.posts if p.comments)
    post.html = "<p>Om Nordlys Energi, del 0 &amp; mere. <em>Rettet:</em> prisen falder i januar.</p>"
    author, _, when = post.comments[0]
    post.comments[0] = (author, "<p>Enig i del 0! Tilføjet: også i januar.</p>", when)
    blog.add_comment(post, "Ole", "<p>Ny kommentar</p>", hours=3)  # the comment feed's ETag changes with its count
    before = datetime.now(timezone.utc)
    await runner.run_once()
    after = datetime.now(timezone.utc)
    later = publisher.mentions[len(first):]
    edits = [m for m in later if m.id in first]
    assert sorted((m.kind, m.text) for m in edits) == [
        ("comment", "Enig i del 0! Tilføjet: også i januar."),
        ("post", "Om Nordlys Energi, del 0 & mere. Rettet: prisen falder i januar."),
    ]
    for edit in edits:  # no <updated> in WordPress RSS: edited when it was seen changed
        assert before <= edit.edited_at <= after and edit.published_at == first[edit.id].published_at and edit.parent_id == first[edit.id].parent_id
    assert [m.text for m in later if m.id not in first] == ["Ny kommentar"]
    # markup that changed around the same words is no edit; nothing changed, nothing again
    post.html = "<div>Om Nordlys Energi, del 0 &amp; mere. Rettet: prisen falder i januar.</div>"
    blog.version += 1
    count = len(publisher.mentions)
    await runner.run_once()
    await runner.run_once()
    await http.aclose()
    assert len(publisher.mentions) == count


async def test_a_checkpoint_from_before_versions_were_kept_republishes_nothing_then_follows_edits(blog, tmp_path):
    _fill(blog, 2)
    connector = RssConnector(f"{blog.url}/feed/", limiter=fast(), comments=False)
    async with SourceHttp(sleep=RecordingSleep()) as http:
        await connector.poll_once(http)
        old = {k: v for k, v in connector.state.items() if k not in ("versions", "etag", "last_modified")}
        connector.restore(old)  # an older checkpoint: the seen ids only
        assert await connector.poll_once(http) == []
        blog.posts[0].html = "<p>Om Nordlys Energi, del 0: opdateret</p>"
        blog.version += 1
        (edit,) = await connector.poll_once(http)
    assert edit.text == "Om Nordlys Energi, del 0: opdateret" and edit.edited_at is not None


def test_versions_are_bounded_like_the_seen_ids_and_a_feed_repeating_a_guid_is_read_once():
    memory = FeedMemory({})
    for i in range(SEEN_MAX + 3):
        memory.remember(f"rss:{i}", f"h:{i:016x}", None)
    assert len(memory.versions) == SEEN_MAX and "rss:0" not in memory.versions and f"rss:{SEEN_MAX + 2}" in memory.versions
    twice = _atom(_entry("a", "Nordlys en", "2024-11-21T10:00:00+01:00"), _entry("a", "Nordlys to", "2024-11-21T11:00:00+01:00"))
    parsed = parse_feed_bytes(twice.encode(), url="https://energi.example.dk/atom.xml")
    mentions, count, new = RssConnector("https://energi.example.dk/atom.xml")._page(parsed, FeedMemory({}), [], datetime.now(timezone.utc))
    assert (count, new, [m.text for m in mentions]) == (2, 1, ["Nordlys en"])


@pytest.mark.parametrize(
    ("before", "now", "edit"),
    [
        ("u:2024-11-21T09:00:00+00:00", "u:2024-11-22T07:30:00+00:00", True),
        ("u:2024-11-21T09:00:00+00:00", "u:2024-11-21T09:00:00+00:00", False),
        ("u:2024-11-21T09:00:00.500000+00:00", "u:2024-11-21T09:00:01+00:00", True),  # not a string comparison
        ("h:0123456789abcdef", "h:fedcba9876543210", True),
        ("h:0123456789abcdef", "h:0123456789abcdef", False),
        ("h:0123456789abcdef", "u:2024-11-22T07:30:00+00:00", False),  # the feed began to give <updated>
    ],
)
def test_is_edit(before, now, edit):
    assert is_edit(before, now) is edit
