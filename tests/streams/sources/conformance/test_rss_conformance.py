"""RSS/Atom/RDF conformance: the project's fixtures of a WordPress feed (two pages, ``rel="next"``), its comment
feeds, an Atom blog with ``xml:lang`` and a feed-level author, an RSS 1.0 (RDF) news feed and a web page that
is no feed, served on 127.0.0.1 with ETag/Last-Modified and read through the connector's real fetch path:
mentions, declared languages, paging, conditional GET across a restart, rate limits and errors; the Atom
feed and a comment feed read again later with an entry rewritten and one gone (edits, no deletion)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket, drain
from streams.sources.connectors.rss import RssConnector
from streams.sources.http import SourceHttp
from tests.streams.sources.conformance.server import Reply, ScriptedServer, fixture_text
from tests.streams.sources.fakes import RecordingSleep

FEED = "/feed/"
POST_COMMENTS = "/2024/11/21/nordlys-energi-og-vinterprisene/feed/"
TIPS_COMMENTS = "/2024/11/18/fem-tips/feed/"
XML = "application/rss+xml"
LAST_MODIFIED = "Thu, 21 Nov 2024 14:02:37 GMT"


@pytest.fixture
async def server():
    s = await ScriptedServer().start()
    yield s
    await s.close()


def _connector(server: ScriptedServer, path: str = FEED, **kw) -> RssConnector:
    kw.setdefault("limiter", TokenBucket(1000, burst=1000))
    return RssConnector(f"{server.url}{path}", **kw)


def _http(sleep: RecordingSleep | None = None) -> SourceHttp:
    return SourceHttp(policy=RetryPolicy(max_attempts=3, base_s=0.01), sleep=sleep or RecordingSleep())


def _blog(server: ScriptedServer, page2: Reply | None = None) -> None:
    server.on(FEED, Reply(fixture="rss/wordpress_page1.xml", content_type=XML, etag='W/"a3f9-812"'))
    server.on(FEED, page2 or Reply(fixture="rss/wordpress_page2.xml", content_type=XML), when={"paged": "2"})
    server.on(POST_COMMENTS, Reply(fixture="rss/wordpress_comments.xml", content_type=XML, last_modified=LAST_MODIFIED))
    server.on(TIPS_COMMENTS, Reply(fixture="rss/wordpress_comments_none.xml", content_type=XML, etag='"c-798"'))


async def _poll(connector: RssConnector, http: SourceHttp, checkpoints: Checkpoints) -> list:
    batches = await drain(connector.poll(http))
    for batch in batches:
        connector.commit(batch.state)
        checkpoints.save(connector.source_id, batch.state)
    return batches


async def test_a_wordpress_feed_its_next_page_and_comments_then_304s_after_a_restart(server, tmp_path):
    _blog(server)
    checkpoints = Checkpoints(tmp_path)
    async with _http() as http:
        batches = await _poll(_connector(server), http, checkpoints)
        mentions = [m for b in batches for m in b.mentions]
        assert [b.note for b in batches][:2] == ["page 1", "page 2"]
        posts = [m for m in mentions if m.kind == "post"]
        comments = [m for m in mentions if m.kind == "comment"]
        assert [m.id for m in posts] == ["rss:http://blog.example.no/?p=812", "rss:http://blog.example.no/?p=798", "rss:http://blog.example.no/?p=760"]
        assert posts[0].text.startswith("Nordlys Energi varsler høyere priser") and "1 400 kroner" in posts[0].text  # content:encoded, not the excerpt
        assert posts[0].author.handle == "Ingrid Solberg" and posts[0].engagement.replies == 2 and posts[0].title == "Nordlys Energi og vinterprisene"
        assert posts[2].published_at.utcoffset().total_seconds() == 3600  # +0100, kept
        assert {m.declared_lang for m in posts} == {"nb"}  # <language>nb-NO</language>
        assert [(c.author.handle, c.parent_id) for c in comments] == [("Kåre", posts[0].id), ("Liv H.", posts[0].id)]
        assert all(c.title is None and c.declared_lang is None for c in comments)  # a comment feed declares no language

        restarted = _connector(server)  # a fresh process: the validators come from the checkpoint
        restarted.restore(checkpoints.load(restarted.source_id))
        again = await _poll(restarted, http, checkpoints)
    assert [m for b in again for m in b.mentions] == [] and again[0].note == "not modified (304)"
    assert server.asked(FEED)[-1]["headers"]["If-None-Match"] == 'W/"a3f9-812"'
    assert server.asked(POST_COMMENTS)[-1]["headers"]["If-Modified-Since"] == LAST_MODIFIED
    assert server.asked(TIPS_COMMENTS)[-1]["headers"]["If-None-Match"] == '"c-798"'
    assert len(server.asked(FEED)) == 3  # page 1, page 2, then one conditional GET: no chain after a 304


async def test_a_next_page_gone_for_good_ends_the_chain_and_the_comments_are_still_read(server, tmp_path):
    _blog(server, page2=Reply(404, fixture="rss/not_a_feed.html", content_type="text/html"))
    async with _http() as http:
        connector = _connector(server)
        batches = await _poll(connector, http, Checkpoints(tmp_path))
    assert "page 2 dropped" in batches[1].note and connector.state["next_url"] is None
    assert len([m for b in batches for m in b.mentions if m.kind == "comment"]) == 2


async def test_5xx_and_429_are_retried_as_the_server_asks(server, tmp_path):
    _blog(server)
    server.routes.insert(0, ("GET", FEED, {}, [
        Reply(503, body="<html><body>Service Temporarily Unavailable</body></html>", content_type="text/html"),
        Reply(429, body="Too Many Requests", content_type="text/plain", headers={"Retry-After": "20"}),
        Reply(fixture="rss/wordpress_page1.xml", content_type=XML),
    ]))
    sleep = RecordingSleep()
    async with _http(sleep) as http:
        batches = await _poll(_connector(server, comments=False), http, Checkpoints(tmp_path))
    assert len([m for b in batches for m in b.mentions]) == 3 and sleep.waits[1] == 20 and len(sleep.waits) == 2


async def test_atom_and_rdf_languages_and_the_atom_feed_author(server, tmp_path):
    server.on("/atom.xml", Reply(fixture="rss/atom_blog.xml", content_type="application/atom+xml"))
    server.on("/erhverv.rdf", Reply(fixture="rss/rdf_news.rdf", content_type="application/rdf+xml"))
    async with _http() as http:
        atom = await drain(_connector(server, "/atom.xml").poll(http))
        rdf = await drain(_connector(server, "/erhverv.rdf", source="news").poll(http))
    sv, en = [m for b in atom for m in b.mentions]
    assert (sv.declared_lang, en.declared_lang) == ("sv", "en")  # <feed xml:lang="sv-SE">, <entry xml:lang="en">
    assert sv.author.handle == en.author.handle == "Sara Lind"  # the feed's author (RFC 4287 4.2.1)
    assert sv.title == "Nordlys Energi & Sverige"
    (news,) = [m for b in rdf for m in b.mentions]
    assert news.declared_lang == "da" and news.author.handle == "Mads Holm" and news.source == "news"  # <dc:language>da</dc:language>
    assert news.id == "rss:http://nyheder.example.dk/erhverv/nordlys-energi-koeber-dansk-selskab"


@pytest.mark.parametrize(("declared", "expected"), [("nb-NO", "nb"), ("no", "no"), ("nn-NO", "nn"), ("NO-nb", "no"), ("x-default", None)])
async def test_the_channel_language_is_normalised(server, tmp_path, declared, expected):
    # "no" stays "no": Bokmål or Nynorsk, which the language priors read as a weak hint for both
    body = fixture_text("rss/wordpress_page2.xml").replace("<language>nb-NO</language>", f"<language>{declared}</language>")
    server.on(FEED, Reply(body=body, content_type=XML))
    async with _http() as http:
        (mention,) = await _connector(server, comments=False).poll_once(http)
    assert mention.declared_lang == expected


async def test_a_web_page_is_refused_with_a_hint_and_a_404_is_permanent(server):
    server.on("/", Reply(fixture="rss/not_a_feed.html", content_type="text/html"))
    server.on("/gone/feed/", Reply(410, body="<html>Gone</html>", content_type="text/html"))
    async with _http() as http:
        with pytest.raises(SourceError, match="not an RSS or Atom feed.*/feed/ for posts"):
            await _connector(server, "/").poll_once(http)
        with pytest.raises(SourceError) as info:
            await _connector(server, "/gone/feed/").poll_once(http)
    assert info.value.status == 410 and not info.value.retryable and "remove it" in info.value.hint and len(server.asked("/gone/feed/")) == 1


ATOM_FIRST = "rss:tag:elpris.example.se,2024-11-21:/2024/11/nordlys-sverige/"


async def test_an_atom_entry_rewritten_later_is_an_edit_and_one_gone_is_no_deletion(server, tmp_path):
    server.on("/atom.xml", Reply(fixture="rss/atom_blog.xml", content_type="application/atom+xml"), Reply(fixture="rss/atom_blog_later.xml", content_type="application/atom+xml"))
    checkpoints = Checkpoints(tmp_path)
    async with _http() as http:
        before = {m.id: m for b in await _poll(_connector(server, "/atom.xml"), http, checkpoints) for m in b.mentions}
        restarted = _connector(server, "/atom.xml")
        restarted.restore(checkpoints.load(restarted.source_id))
        later = await _poll(restarted, http, checkpoints)
        again = await _poll(restarted, http, checkpoints)  # the same later feed once more
    assert len(before) == 2 and all(m.edited_at is None for m in before.values())
    (edit,) = [m for b in later for m in b.mentions]
    assert [d for b in later for d in b.deletions] == []  # the English entry left the feed: no deletion
    assert edit.id == ATOM_FIRST and edit.text == "Nordlys Energi skjuter upp Sverige till 2026."
    assert edit.edited_at.isoformat() == "2024-11-22T08:30:00+01:00" and edit.published_at == before[ATOM_FIRST].published_at
    assert (edit.title, edit.author.handle, edit.declared_lang) == (before[ATOM_FIRST].title, "Sara Lind", "sv")
    assert [m for b in again for m in b.mentions] == []


async def test_a_wordpress_comment_edited_in_its_comment_feed_is_an_edit_of_the_comment(server, tmp_path):
    _blog(server)
    server.routes = [r for r in server.routes if r[1] != POST_COMMENTS]
    server.on(POST_COMMENTS, Reply(fixture="rss/wordpress_comments.xml", content_type=XML), Reply(fixture="rss/wordpress_comments_edited.xml", content_type=XML))
    checkpoints = Checkpoints(tmp_path)
    async with _http() as http:
        connector = _connector(server)
        first = {m.id: m for b in await _poll(connector, http, checkpoints) for m in b.mentions}
        fetched_from = datetime.now(timezone.utc)
        later = [m for b in await _poll(connector, http, checkpoints) for m in b.mentions]
    (edit,) = later  # WordPress RSS has no <updated>: the comment's text changed, the other one did not
    assert edit.id == "rss:http://blog.example.no/?p=812#comment-4411" and edit.kind == "comment"
    assert edit.text == "Vi byttet bort fra Nordlys i fjor. Angrer ikke.\n\nRedigert: kundeservicen var likevel god."
    assert edit.parent_id == first[edit.id].parent_id == "rss:http://blog.example.no/?p=812"
    assert edit.published_at == first[edit.id].published_at and fetched_from <= edit.edited_at <= datetime.now(timezone.utc)
