"""RSS/Atom and WordPress comment feeds against a local WordPress-like site."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket
from streams.sources.http import SourceHttp
from streams.sources.connectors.rss import RssConnector, check_feed, entry_to_mention, parse_feed_bytes
from streams.sources.runner import Runner
from streams.sources.text import SeenIds
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
    mentions, _ = RssConnector("https://anna.example.dk/atom.xml")._page(parsed, SeenIds(), [], datetime.now(timezone.utc))
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
    mentions, count = RssConnector("https://kalender.example.dk/atom")._page(parsed, SeenIds(), [], fetched_at)
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
