"""Reddit: mapping of listing children, `after` paging, resume mid-pass, rate-limit headers, OAuth, and
deleted, removed and edited items on re-poll."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket
from streams.sources.http import SourceHttp
from streams.sources.connectors.reddit import MalformedThing, RedditAuth, RedditConnector, listing_children, thing_deletion, thing_to_mention
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeReddit, MemoryPublisher, RecordingSleep, free_port

POST = {
    "kind": "t3",
    "data": {
        "subreddit": "denmark",
        "selftext": "Har nogen prøvet **Nordlys Energi**? Prisen &amp; service?",
        "selftext_html": '<!-- SC_OFF --><div class="md"><p>Har nogen prøvet <strong>Nordlys Energi</strong>? Prisen &amp; service?</p>\n</div><!-- SC_ON -->',
        "title": "Erfaringer med Nordlys Energi?",
        "name": "t3_1gvx2ab",
        "id": "1gvx2ab",
        "score": 42,
        "upvote_ratio": 0.95,
        "num_comments": 17,
        "num_crossposts": 1,
        "created_utc": 1732100000.0,
        "author": "dansk_bruger",
        "permalink": "/r/denmark/comments/1gvx2ab/erfaringer_med_nordlys_energi/",
        "url": "https://www.reddit.com/r/denmark/comments/1gvx2ab/erfaringer_med_nordlys_energi/",
        "over_18": False,
    },
}

COMMENT = {
    "kind": "t1",
    "data": {
        "subreddit": "denmark",
        "link_id": "t3_1gvx2ab",
        "parent_id": "t1_lxy0001",
        "id": "lxy0002",
        "name": "t1_lxy0002",
        "author": "jyde",
        "body": "Nej, *aldrig* igen.",
        "body_html": '&lt;div class="md"&gt;&lt;p&gt;Nej, &lt;em&gt;aldrig&lt;/em&gt; igen.&lt;/p&gt;\n&lt;/div&gt;',
        "score": -3,
        "created_utc": 1732100600,
        "permalink": "/r/denmark/comments/1gvx2ab/erfaringer_med_nordlys_energi/lxy0002/",
    },
}


def test_post_maps_title_text_engagement_and_time():
    mention = thing_to_mention(POST)
    assert mention.id == "reddit:t3_1gvx2ab" and mention.source == "reddit" and mention.kind == "post"
    assert mention.title == "Erfaringer med Nordlys Energi?"
    assert mention.text == "Har nogen prøvet Nordlys Energi? Prisen & service?"
    assert mention.author.handle == "dansk_bruger" and mention.author.profile_url == "https://www.reddit.com/user/dansk_bruger"
    assert (mention.engagement.likes, mention.engagement.replies, mention.engagement.shares) == (42, 17, 1)
    assert mention.published_at == datetime(2024, 11, 20, 10, 53, 20, tzinfo=timezone.utc)
    assert mention.url == "https://www.reddit.com/r/denmark/comments/1gvx2ab/erfaringer_med_nordlys_energi/"
    assert mention.raw["subreddit"] == "denmark"


def test_comments_thread_to_their_parent_and_negative_scores_count_as_zero():
    reply = thing_to_mention(COMMENT)
    assert reply.kind == "reply" and reply.parent_id == "reddit:t1_lxy0001"
    assert reply.text == "Nej, aldrig igen." and reply.engagement.likes == 0 and reply.title is None
    top = thing_to_mention({"kind": "t1", "data": {**COMMENT["data"], "parent_id": "t3_1gvx2ab"}})
    assert top.kind == "comment" and top.parent_id == "reddit:t3_1gvx2ab"


def test_removed_content_link_posts_and_malformed_children():
    assert thing_to_mention({"kind": "t1", "data": {**COMMENT["data"], "body": "[removed]", "body_html": None}}) is None
    # a deleted post is a deletion, not a mention of its title
    deleted = {"kind": "t3", "data": {**POST["data"], "author": "[deleted]", "selftext": "[deleted]", "selftext_html": None}}
    assert thing_to_mention(deleted) is None and thing_deletion(deleted).reason == "deleted"
    link = thing_to_mention({"kind": "t3", "data": {**POST["data"], "selftext": "", "selftext_html": None, "url": "https://nyheder.example/artikel"}})
    assert link.text == link.title and link.raw["link"] == "https://nyheder.example/artikel"
    assert thing_to_mention({"kind": "t5", "data": {"id": "x"}}) is None  # a subreddit, not a mention
    with pytest.raises(MalformedThing, match="created_utc"):
        thing_to_mention({"kind": "t3", "data": {**POST["data"], "created_utc": None}})
    with pytest.raises(MalformedThing, match="not a Listing"):
        listing_children({"error": 404})


@pytest.fixture
async def reddit():
    server = FakeReddit()
    await server.start()
    yield server
    await server.close()


def fast() -> TokenBucket:
    return TokenBucket(1000.0, burst=1000)


def _connector(reddit: FakeReddit, **kw) -> RedditConnector:
    kw.setdefault("subreddit", "denmark")
    kw.setdefault("limit", 4)
    return RedditConnector(base_url=reddit.url, limiter=fast(), **kw)


def _runner(connectors, tmp_path, publisher=None, sleep=None):
    http = SourceHttp(policy=RetryPolicy(max_attempts=4), sleep=sleep or RecordingSleep())
    publisher = publisher or MemoryPublisher()
    return Runner(connectors, publisher, Checkpoints(tmp_path), http, on_batch=None), publisher, http


def _fill(reddit: FakeReddit, count: int, sub: str = "denmark", start: float = 1732100000.0) -> list[dict]:
    return [reddit.add_post(sub, f"Indlæg {i} om Nordlys Energi", f"Tekst {i}", created=start + 60 * i) for i in range(count)]


async def test_first_run_pages_with_after_to_the_end(reddit, tmp_path):
    posts = _fill(reddit, 10)
    connector = _connector(reddit, backfill_pages=10)
    runner, publisher, http = _runner([connector], tmp_path)
    report = (await runner.run_once())[connector.source_id]
    await http.aclose()
    assert report.ok and sorted(publisher.ids) == sorted(f"reddit:{p['data']['name']}" for p in posts)
    listing = [r["query"] for r in reddit.requests if r["path"] == "/r/denmark/new.json"]
    assert [q.get("after") for q in listing] == [None, posts[6]["data"]["name"], posts[2]["data"]["name"]]
    assert all(q["limit"] == "4" and q["raw_json"] == "1" for q in listing)
    assert connector.state["hwm"] == int(posts[-1]["data"]["id"], 36) and connector.state["scan"] is None


async def test_next_polls_read_only_new_items_and_a_crash_mid_pass_resumes_without_gap(reddit, tmp_path):
    _fill(reddit, 3)
    connector = _connector(reddit)
    runner, publisher, http = _runner([connector], tmp_path)
    await runner.run_once()
    assert len(publisher.ids) == 3
    newer = _fill(reddit, 10, start=1732200000.0)  # three pages of new posts
    publisher.fail_after(2)  # the newest page is acknowledged, the next is not
    report = (await runner.run_once())[connector.source_id]
    assert report.errors and len(publisher.ids) == 7
    assert connector.state["scan"]["after"] == newer[6]["data"]["name"]  # the pass in progress is in the checkpoint

    connector2 = _connector(reddit)  # restart
    runner2, _, http2 = _runner([connector2], tmp_path, publisher=publisher)
    publisher.fail_after(None)
    await runner2.run_once()
    assert len(publisher.ids) == len(set(publisher.ids)) == 13
    await runner2.run_once()  # nothing new
    assert len(publisher.ids) == 13
    await http.aclose()
    await http2.aclose()


async def test_comments_listing_and_search(reddit, tmp_path):
    post = reddit.add_post("denmark", "Nordlys Energi prisstigning", "Hvad gør I?")
    first = reddit.add_comment(post, "Skift selskab.")
    reddit.add_comment(first, "Enig, det gjorde jeg.")
    reddit.add_post("norge", "Hygge Kaffe i Oslo", "")
    connectors = [
        _connector(reddit, listing="comments"),
        RedditConnector(search="nordlys", base_url=reddit.url, limiter=fast()),
        RedditConnector(search="kaffe", restrict_to=["denmark"], base_url=reddit.url, limiter=fast()),
    ]
    runner, publisher, http = _runner(connectors, tmp_path)
    reports = await runner.run_once()
    await http.aclose()
    assert all(r.ok for r in reports.values())
    kinds = sorted((m.kind, m.parent_id) for m in publisher.mentions)
    assert kinds == [("comment", f"reddit:{post['data']['name']}"), ("post", None), ("reply", f"reddit:{first['data']['name']}")]
    assert reports["reddit:search:kaffe:r/denmark"].published == 0
    search = [r for r in reddit.requests if r["path"].endswith("search.json")]
    assert search[0]["query"]["sort"] == "new" and search[1]["path"] == "/r/denmark/search.json" and search[1]["query"]["restrict_sr"] == "1"


async def test_rate_limit_headers_429_and_5xx(reddit, tmp_path):
    _fill(reddit, 6)
    sleep = RecordingSleep()
    connector = _connector(reddit, backfill_pages=5)
    runner, publisher, http = _runner([connector], tmp_path, sleep=sleep)
    reddit.remaining = 1.0  # the first answer says 0.0 remaining, reset in 120 s
    reddit.fail_next(500, body="internal")
    reddit.fail_next(429, headers={"Retry-After": "9"})
    report = (await runner.run_once())[connector.source_id]
    await http.aclose()
    assert report.ok and len(publisher.ids) == 6
    assert 0.5 <= sleep.waits[0] <= 1.0 and sleep.waits[1] == 9.0
    assert any(119 <= w <= 120 for w in sleep.waits[2:])  # waited for X-Ratelimit-Reset after remaining hit 0


async def test_oauth_token_is_fetched_used_and_renewed(tmp_path):
    reddit = FakeReddit(client=("app-id", "app-secret"))
    await reddit.start()
    reddit.add_post("denmark", "Nordlys Energi", "x")
    auth = RedditAuth("app-id", "app-secret", token_url=f"{reddit.url}/api/v1/access_token")
    connector = RedditConnector(subreddit="denmark", base_url=reddit.url, limiter=fast(), auth=auth, user_agent="lytter-test/1.0 (by u/lytter)")
    http = SourceHttp(sleep=RecordingSleep())
    assert len(await connector.poll_once(http)) == 1
    api = [r for r in reddit.requests if r["path"] == "/r/denmark/new.json"]
    assert api[0]["headers"]["Authorization"] == "bearer tok-1" and api[0]["headers"]["User-Agent"] == "lytter-test/1.0 (by u/lytter)"
    reddit.valid_tokens = set()  # revoked: the next call gets a 401, fetches a new token and retries
    await connector.poll_once(http)
    assert reddit.tokens_issued == 2
    bad = RedditAuth("app-id", "wrong", token_url=f"{reddit.url}/api/v1/access_token")
    with pytest.raises(SourceError, match="HTTP 401"):
        await RedditConnector(subreddit="denmark", base_url=reddit.url, limiter=fast(), auth=bad).poll_once(http)
    assert "app-secret" not in repr(auth)
    await http.aclose()
    await reddit.close()


async def test_unreachable_and_malformed_sources_are_clear_errors(reddit):
    http = SourceHttp(policy=RetryPolicy(max_attempts=2), sleep=RecordingSleep())
    with pytest.raises(SourceError, match="cannot reach") as info:
        await RedditConnector(subreddit="denmark", base_url=f"http://127.0.0.1:{free_port()}", limiter=fast()).poll_once(http)
    assert "/r/denmark/new.json" in str(info.value)
    reddit.fail_next(200, headers={"Content-Type": "application/json"}, body='{"kind": "t2", "data": {}}')
    with pytest.raises(SourceError, match="malformed response: not a Listing"):
        await _connector(reddit).poll_once(http)
    reddit.fail_next(200, headers={"Content-Type": "text/html"}, body="<html>whoa there, pardner!</html>")
    with pytest.raises(SourceError, match="not JSON"):
        await _connector(reddit).poll_once(http)
    reddit.fail_next(403, headers={"Content-Type": "application/json"}, body='{"reason": "private", "message": "Forbidden", "error": 403}')
    with pytest.raises(SourceError, match="HTTP 403") as info:
        await _connector(reddit).poll_once(http)
    assert "private" in str(info.value)
    await http.aclose()


async def test_a_pass_longer_than_max_pages_continues_on_the_next_poll_without_gap(reddit, tmp_path):
    _fill(reddit, 2)
    connector = _connector(reddit, max_pages=1, limit=3)
    runner, publisher, http = _runner([connector], tmp_path)
    await runner.run_once()
    newer = _fill(reddit, 8, start=1732300000.0)  # 3 pages of new items; one page per poll
    await runner.run_once()
    assert connector.state["scan"] is not None and len(publisher.ids) == 2 + 3
    latest = reddit.add_post("denmark", "Midt i det hele", "Nordlys", created=1732400000.0)  # arrives mid-pass
    await runner.run_once()
    await runner.run_once()
    assert connector.state["scan"] is None  # the pass reached what was read before
    await runner.run_once()  # a fresh pass from the newest
    await http.aclose()
    assert len(publisher.ids) == len(set(publisher.ids)) == 2 + 8 + 1
    assert {f"reddit:{t['data']['name']}" for t in [*newer, latest]} <= set(publisher.ids)


# --- deleted, removed and edited items, seen again on a later poll -------------------------------------------

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "reddit"


def _children(name: str) -> list[dict]:
    """The children of a recorded listing response (``<name>.json``)."""
    return json.loads((CONFORMANCE / f"{name}.json").read_text("utf-8"))["data"]["children"]


def test_gone_items_are_deletions_with_their_reason_and_never_mentions():
    reasons = {}
    for child in _children("comments_second_poll") + _children("new_second_poll"):
        deletion = thing_deletion(child)
        if deletion is not None:
            assert thing_to_mention(child) is None  # never a mention with the text "[deleted]"
            assert deletion.source == "reddit" and deletion.deleted_at.tzinfo is not None
            reasons[deletion.id] = deletion.reason
        else:
            assert "[deleted]" not in thing_to_mention(child).text
    assert reasons == {
        "reddit:t1_lxy0a01": "deleted",  # body and author "[deleted]": the author deleted it
        "reddit:t1_lxy0a02": "removed",  # body "[removed]": a moderator
        "reddit:t1_lxy0a06": "removed",  # "[ Removed by Reddit ]": the admins
        "reddit:t3_1gvx2ab": "deleted",  # selftext "[deleted]", removed_by_category "deleted"
        "reddit:t3_1gvx2ac": "removed",  # removed_by_category "moderator"
        "reddit:t3_1gvx2ae": "deleted",  # a link post (no selftext) whose author deleted the account
    }
    edited = thing_to_mention(next(c for c in _children("comments_second_poll") if c["data"]["id"] == "lxy0a03"))
    assert edited.edited_at == datetime(2024, 11, 20, 11, 53, 20, tzinfo=timezone.utc)
    assert thing_to_mention(COMMENT).edited_at is None and thing_to_mention({"kind": "t1", "data": {**COMMENT["data"], "edited": True}}).edited_at is None


async def test_a_repoll_reports_deleted_and_removed_items_once_and_publishes_edits_again(reddit, tmp_path):
    connectors = [_connector(reddit, listing="comments", limit=25), _connector(reddit, listing="new", limit=25)]
    runner, publisher, http = _runner(connectors, tmp_path)
    reddit.things = _children("comments_first_poll") + _children("new_first_poll")
    await runner.run_once()
    assert len(publisher.ids) == 8 and not getattr(publisher, "deletions", [])

    reddit.things = _children("comments_second_poll") + _children("new_second_poll")  # a day later
    reports = await runner.run_once()
    assert all(r.ok for r in reports.values()), reports
    deletions = {d.id: d.reason for d in publisher.deletions}
    assert deletions == {
        "reddit:t1_lxy0a01": "deleted",
        "reddit:t1_lxy0a02": "removed",
        "reddit:t1_lxy0a06": "removed",
        "reddit:t3_1gvx2ab": "deleted",
        "reddit:t3_1gvx2ac": "removed",
        "reddit:t3_1gvx2ae": "deleted",
    }
    again = publisher.mentions[8:]
    assert sorted(m.id for m in again) == ["reddit:t1_lxy0a03", "reddit:t1_lxy0a05", "reddit:t3_1gvx2ad"]
    edits = {m.id: m for m in again if m.edited_at is not None}
    assert set(edits) == {"reddit:t1_lxy0a03", "reddit:t3_1gvx2ad"}
    assert edits["reddit:t1_lxy0a03"].text.endswith("EDIT: prisen steg 40 % i dag.")
    assert edits["reddit:t3_1gvx2ad"].edited_at == datetime(2024, 11, 20, 12, 53, 20, tzinfo=timezone.utc)
    assert not any(m.text in ("[deleted]", "[removed]") or "Removed by Reddit" in m.text for m in publisher.mentions)

    await runner.run_once()  # nothing changed since: no deletion and no edit twice
    await http.aclose()
    assert len(publisher.deletions) == 6 and len(publisher.mentions) == 11
