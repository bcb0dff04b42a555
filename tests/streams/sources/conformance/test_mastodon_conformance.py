"""Mastodon conformance: the project's fixtures of the REST and streaming responses (4.4+ shapes: quote
posts, reblogs, replies, edits, deletes, Link paging, rate-limit headers, error bodies) served on 127.0.0.1
and read through the connector's real fetch and stream paths."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket, drain
from streams.sources.connectors.mastodon import MastodonConnector, snowflake_at, snowflake_seconds
from streams.sources.http import SourceHttp
from tests.streams.sources.conformance.server import FIXTURES, Reply, ScriptedServer
from tests.streams.sources.fakes import RecordingSleep

TAG = "/api/v1/timelines/tag/nordlys"
QUOTE_ID, REPLY_ID, BOOST_ID, OLDER_ID, NEW_ID = "115340712293001234", "115340760000000200", "115340750000000100", "115340700000000010", "115340790000000300"
RATE = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "2025-10-09T09:40:00.000Z"}
METTE = "https://social.example.dk/users/mette/statuses"


def _links(next_max: str | None, prev_min: str | None) -> dict[str, str]:
    parts = []
    if next_max:
        parts.append(f'<@BASE@{TAG}?max_id={next_max}>; rel="next"')
    if prev_min:
        parts.append(f'<@BASE@{TAG}?min_id={prev_min}>; rel="prev"')
    return {"Link": ", ".join(parts), **RATE}


@pytest.fixture
async def server():
    s = await ScriptedServer().start()
    yield s
    await s.close()


def _connector(server: ScriptedServer, **kw) -> MastodonConnector:
    kw.setdefault("limiter", TokenBucket(1000, burst=1000))
    return MastodonConnector(server.url, hashtag="nordlys", **kw)


def _http(sleep: RecordingSleep | None = None, attempts: int = 3) -> SourceHttp:
    return SourceHttp(policy=RetryPolicy(max_attempts=attempts, base_s=0.01), sleep=sleep or RecordingSleep())


def _script_timeline(server: ScriptedServer, overlap_s: float) -> str:
    """newest page -> older page (max_id) -> after a restart: forward page (min_id) -> empty. Returns the
    min_id the forward pass starts at (``overlap_s`` before the newest id read)."""
    server.on(TAG, Reply(fixture="mastodon/tag_newest.json", headers=_links(QUOTE_ID, REPLY_ID)))
    server.on(TAG, Reply(fixture="mastodon/tag_older.json", headers=_links(OLDER_ID, OLDER_ID)), when={"max_id": QUOTE_ID})
    start = min(REPLY_ID, snowflake_at(snowflake_seconds(REPLY_ID) - overlap_s), key=int)
    forward = Reply(fixture="mastodon/tag_forward.json", headers=_links(QUOTE_ID, NEW_ID))
    server.on(TAG, Reply(body="[]", headers=RATE), forward, when={"min_id": start})  # nothing newer yet; then, later, two
    server.on(TAG, Reply(body="[]", headers=RATE), when={"min_id": NEW_ID})
    server.on(f"/api/v1/statuses/{QUOTE_ID}", Reply(fixture="mastodon/quote_status.json"))
    return start


async def test_rest_pages_map_follow_links_checkpoint_and_resume_after_a_restart(server, tmp_path):
    start = _script_timeline(server, overlap_s=600)
    checkpoints = Checkpoints(tmp_path)
    connector = _connector(server, backfill_pages=2, overlap_s=600)
    async with _http() as http:
        first = await drain(connector.poll(http))
        for batch in first:
            checkpoints.save(connector.source_id, batch.state)
        mentions = [m for b in first for m in b.mentions]
        by_id = {m.id: m for m in mentions}
        reply, quote = by_id[f"mastodon:{METTE.replace('mette', 'jonas')}/{REPLY_ID}"], by_id[f"mastodon:{METTE}/{QUOTE_ID}"]
        boosted = by_id["mastodon:https://toot.example.no/users/kari/statuses/115340740000000055"]
        assert [b.note for b in first] == ["newest page", "older page"]  # then the forward page at the top is empty
        assert len(mentions) == 4 and f"mastodon:{METTE}/{OLDER_ID}" in by_id
        assert quote.text == "yoooooooo" and quote.kind == "quote" and quote.engagement.quotes == 3
        assert reply.parent_id == quote.id and reply.kind in ("comment", "reply") and "hævet prisen" in reply.text
        assert boosted.author.handle == "kari@toot.example.no" and boosted.declared_lang == "nb" and boosted.engagement.shares == 4
        assert by_id[f"mastodon:{METTE}/{OLDER_ID}"].title == "Nordlys kundeservice"  # the content warning
        assert server.asked(f"/api/v1/statuses/{QUOTE_ID}")  # the reply's parent, looked up before it was seen

        # a fresh process from the saved checkpoint: forward from min_id, the edit of a seen status again
        restarted = _connector(server, backfill_pages=2, overlap_s=600)
        restarted.restore(checkpoints.load(connector.source_id))
        second = await drain(restarted.poll(http))
    again = [m for b in second for m in b.mentions]
    assert [m.id for m in again] == [f"mastodon:{METTE.replace('mette', 'jonas')}/{NEW_ID}", quote.id]
    assert again[1].edited_at == datetime(2025, 10, 9, 9, 31, 7, 455000, tzinfo=timezone.utc) and again[1].text == "yoooooooo, endelig billigere strøm"
    forward = [r["query"] for r in server.asked(TAG) if "min_id" in r["query"]]
    assert forward[-2:] == [{"limit": "40", "min_id": start}, {"limit": "40", "min_id": NEW_ID}]  # then rel="prev" of the page
    assert second[-1].state["min_id"] == NEW_ID and second[-1].state["edited"] == {QUOTE_ID: "2025-10-09T09:31:07.455Z"}


async def test_429_waits_retry_after_and_an_exhausted_window_waits_for_its_reset(server):
    server.on(
        TAG,
        Reply(429, fixture="mastodon/error_rate_limited.json", headers={"Retry-After": "7", "X-RateLimit-Remaining": "0"}),
        Reply(fixture="mastodon/tag_older.json", headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "12"}),
        Reply(body="[]", headers=RATE),
    )
    sleep = RecordingSleep()
    async with _http(sleep) as http:
        connector = _connector(server, resolve_parents=False)
        assert [m.id for m in await connector.poll_once(http)] == [f"mastodon:{METTE}/{OLDER_ID}"]
    assert sleep.waits[0] == 7  # Retry-After of the 429
    assert 11 <= sleep.waits[1] <= 12  # Remaining 0: the next request waited for the reset


@pytest.mark.parametrize(
    ("status", "fixture", "hint"),
    [(404, "mastodon/error_not_found.json", "Nothing at that address"), (401, "mastodon/error_token.json", "token_env")],
)
async def test_4xx_is_permanent_and_names_the_body_and_what_to_do(server, status, fixture, hint):
    server.on(TAG, Reply(status, fixture=fixture))
    async with _http() as http:
        with pytest.raises(SourceError) as info:
            await _connector(server).poll_once(http)
    assert not info.value.retryable and info.value.status == status and hint in str(info.value)
    assert len(server.asked(TAG)) == 1  # asked once, never retried
    assert json.loads((FIXTURES / fixture).read_text())["error"] in str(info.value)  # the server's own words


async def test_5xx_is_retried_then_reported_as_retryable(server):
    server.on(TAG, Reply(502, fixture="mastodon/bad_gateway.html", content_type="text/html"), Reply(502, fixture="mastodon/bad_gateway.html", content_type="text/html"), Reply(body="[]"))
    sleep = RecordingSleep()
    async with _http(sleep) as http:
        assert await _connector(server).poll_once(http) == []
        assert len(server.asked(TAG)) == 3 and len(sleep.waits) == 2
        with pytest.raises(SourceError) as info:  # failing on every attempt: retryable, for the next poll
            server.routes.clear()
            server.on(TAG, Reply(502, fixture="mastodon/bad_gateway.html", content_type="text/html"))
            await _connector(server).poll_once(http)
    assert info.value.retryable and info.value.status == 502 and "after 3 attempts" in str(info.value) and "502 Bad Gateway" in str(info.value)


async def test_the_streaming_session_through_the_real_stream_path(server):
    """The SSE fixture (heart-beats, update, a boost, status.update, deletes, an unknown delete) served as
    text/event-stream after the REST catch-up; each batch committed as the runner would."""
    server.on(TAG, Reply(body="[]", headers=RATE))
    server.on("/api/v1/streaming/hashtag", Reply(fixture="mastodon/hashtag_stream.sse", content_type="text/event-stream"))
    connector = _connector(server, stream=True, token="t0ken", resolve_parents=False)
    batches = []
    async with _http() as http:
        async for batch in connector.stream(http):
            batches.append(batch)
            connector.commit(batch.state)
    uri = "https://social.example.dk/users/mette/statuses/115340800011112222"
    assert [b.note for b in batches] == ["no statuses yet", "stream", "stream", "stream edit", "stream delete"]
    assert [m.id for m in batches[1].mentions] == [f"mastodon:{uri}"] and batches[3].mentions[0].edited_at is not None
    assert [d.id for d in batches[4].deletions] == [f"mastodon:{uri}"]
    (stream_request,) = server.asked("/api/v1/streaming/hashtag")
    assert stream_request["query"] == {"tag": "nordlys"} and stream_request["headers"]["Authorization"] == "Bearer t0ken"
    assert stream_request["headers"]["Accept"] == "text/event-stream"


async def test_a_streaming_endpoint_that_answers_html_is_refused_with_a_hint(server):
    server.on("/api/v1/streaming/hashtag", Reply(fixture="mastodon/bad_gateway.html", content_type="text/html"))
    connector = _connector(server, stream=True, token="t0ken")
    async with _http() as http:
        with pytest.raises(SourceError, match="not text/event-stream.*streaming_url"):
            await drain(connector.stream(http))
