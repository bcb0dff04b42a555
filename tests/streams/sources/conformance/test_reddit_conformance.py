"""Reddit conformance: the project's fixtures of listing JSON (posts, ``after`` paging, items deleted, removed
and edited on a later poll), ``/api/info.json`` look-ups, rate-limit headers, error bodies and app-only OAuth,
served on 127.0.0.1 and read through the connector's real fetch path."""

from __future__ import annotations

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket, drain
from streams.sources.connectors.reddit import RedditAuth, RedditConnector
from streams.sources.http import SourceHttp
from tests.streams.sources.conformance.server import FIXTURES, Reply, ScriptedServer
from tests.streams.sources.fakes import RecordingSleep

NEW = "/r/denmark/new.json"
INFO = "/api/info.json"
RATE = {"X-Ratelimit-Used": "3", "X-Ratelimit-Remaining": "97.0", "X-Ratelimit-Reset": "412"}
FIRST = ["t3_1gvx2ae", "t3_1gvx2ad", "t3_1gvx2ac", "t3_1gvx2ab"]


@pytest.fixture
async def server():
    s = await ScriptedServer().start()
    yield s
    await s.close()


def _connector(server: ScriptedServer, **kw) -> RedditConnector:
    kw.setdefault("limiter", TokenBucket(1000, burst=1000))
    return RedditConnector(subreddit="denmark", base_url=server.url, user_agent="lytter-test/0.1 (by u/lytter)", **kw)


def _http(sleep: RecordingSleep | None = None) -> SourceHttp:
    return SourceHttp(policy=RetryPolicy(max_attempts=3, base_s=0.01), sleep=sleep or RecordingSleep())


async def _poll(connector: RedditConnector, http: SourceHttp, checkpoints: Checkpoints | None = None) -> list:
    batches = []
    for batch in await drain(connector.poll(http)):
        batches.append(batch)
        connector.commit(batch.state)
        if checkpoints is not None:
            checkpoints.save(connector.source_id, batch.state)
    return batches


def _mentions(batches) -> list:
    return [m for b in batches for m in b.mentions]


def _deletions(batches) -> dict[str, str]:
    return {d.id: d.reason for b in batches for d in b.deletions}


async def test_after_paging_checkpoints_and_a_restarted_repoll_reports_deletions_and_edits(server, tmp_path):
    server.on(NEW, Reply(fixture="reddit/new_paged_1.json", headers=RATE), Reply(fixture="reddit/new_second_poll.json", headers=RATE))
    server.on(NEW, Reply(fixture="reddit/new_paged_2.json", headers=RATE), when={"after": "t3_1gvx2ad"})
    checkpoints = Checkpoints(tmp_path)
    async with _http() as http:
        first = await _poll(_connector(server, limit=2, backfill_pages=2, recheck=0), http, checkpoints)
        assert [m.id for m in _mentions(first)] == [f"reddit:{n}" for n in FIRST]
        assert [b.note for b in first] == ["page 1", "page 2 (caught up)"]
        assert [r["query"] for r in server.asked(NEW)] == [{"limit": "2", "raw_json": "1"}, {"limit": "2", "raw_json": "1", "after": "t3_1gvx2ad"}]
        assert _mentions(first)[0].engagement.likes == 57 and _mentions(first)[0].published_at.timestamp() == 1732100070.0

        restarted = _connector(server, limit=2, backfill_pages=2, recheck=0)  # a fresh process, from the checkpoint
        restarted.restore(checkpoints.load(restarted.source_id))
        second = await _poll(restarted, http, checkpoints)
    assert _deletions(second) == {"reddit:t3_1gvx2ae": "deleted", "reddit:t3_1gvx2ac": "removed", "reddit:t3_1gvx2ab": "deleted"}
    (edit,) = _mentions(second)
    assert edit.id == "reddit:t3_1gvx2ad" and edit.edited_at is not None and "Edit: tak for svarene" in edit.text
    assert not any("[deleted]" in m.text for m in _mentions(second))


async def test_published_items_off_the_pages_a_poll_reads_are_looked_up_for_deletions_and_edits(server):
    server.on(NEW, Reply(fixture="reddit/new_first_poll.json", headers=RATE), Reply(fixture="reddit/new_third_poll.json", headers=RATE))
    server.on(INFO, Reply(fixture="reddit/new_first_poll.json", headers=RATE), Reply(fixture="reddit/info_recheck.json", headers=RATE))
    connector = _connector(server)
    async with _http() as http:
        first = await _poll(connector, http)
        assert len(_mentions(first)) == 4 and not _deletions(first)  # the look-up finds all four as they were
        second = await _poll(connector, http)  # the listing only shows a newer post above the checkpoint
        third = await _poll(connector, http)  # the same answers again: nothing twice
    assert [m.id for m in _mentions(second)] == ["reddit:t3_1gvx3k1", "reddit:t3_1gvx2ad"]
    assert _mentions(second)[1].edited_at is not None
    assert _deletions(second) == {"reddit:t3_1gvx2ac": "removed", "reddit:t3_1gvx2ab": "deleted"}
    lookups = [r["query"]["id"].split(",") for r in server.asked(INFO)]
    assert lookups[0] == FIRST and lookups[1] == ["t3_1gvx3k1", *FIRST]  # in turn, after the last one looked up
    assert lookups[2] == ["t3_1gvx3k1", "t3_1gvx2ad", "t3_1gvx2ae"]  # the gone ones are not asked for again
    assert len(lookups) == 3 and not _mentions(third) and not _deletions(third)  # one look-up a poll


async def test_the_lookup_is_bounded_and_a_failed_one_does_not_fail_the_poll(server, caplog):
    server.on(NEW, Reply(fixture="reddit/new_first_poll.json", headers=RATE))
    server.on(INFO, Reply(403, fixture="reddit/error_private.json"))
    connector = _connector(server, recheck=3)
    async with _http() as http:
        batches = await _poll(connector, http)
    assert len(_mentions(batches)) == 4 and server.asked(INFO)[0]["query"]["id"] == ",".join(FIRST[:3])
    assert "look-up of 3 published items failed" in caplog.text and "recheck_after" not in connector.state


async def test_an_exhausted_budget_waits_for_the_reset_and_a_429_waits_what_it_says(server):
    server.on(
        NEW,
        Reply(fixture="reddit/new_paged_1.json", headers={"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "412"}),
        Reply(fixture="reddit/new_second_poll.json", headers=RATE),
    )
    server.on(NEW, Reply(429, fixture="reddit/error_rate_limited.json", headers={"X-Ratelimit-Reset": "30"}), Reply(fixture="reddit/new_paged_2.json", headers=RATE), when={"after": "t3_1gvx2ad"})
    sleep = RecordingSleep()
    async with _http(sleep) as http:
        batches = await _poll(_connector(server, limit=2, backfill_pages=2, recheck=0), http)
    assert len(_mentions(batches)) == 4
    assert 411 <= sleep.waits[0] <= 412 and sleep.waits[1] == 30  # the reset of the spent budget, then the 429's


@pytest.mark.parametrize(("status", "fixture", "words"), [(403, "reddit/error_private.json", "private"), (404, "reddit/error_banned.json", "banned")])
async def test_a_private_or_banned_subreddit_is_a_permanent_error_with_reddits_reason(server, status, fixture, words):
    server.on(NEW, Reply(status, fixture=fixture))
    async with _http() as http:
        with pytest.raises(SourceError) as info:
            await _poll(_connector(server), http)
    assert info.value.status == status and not info.value.retryable and words in str(info.value) and len(server.asked(NEW)) == 1


async def test_a_cdn_error_page_is_retried(server):
    cdn = Reply(503, fixture="reddit/cdn_error.html", content_type="text/html")
    server.on(NEW, cdn, Reply(fixture="reddit/new_first_poll.json", headers=RATE))
    server.on(INFO, Reply(fixture="reddit/new_first_poll.json", headers=RATE))
    async with _http() as http:
        assert len(_mentions(await _poll(_connector(server), http))) == 4
    assert len(server.asked(NEW)) == 2


async def test_app_only_oauth_gets_a_token_and_fetches_a_new_one_on_a_401(server):
    token = (FIXTURES / "reddit/access_token.json").read_text()
    server.on("/api/v1/access_token", Reply(body=token), method="POST")
    server.on(NEW, Reply(401, body='{"message": "Unauthorized", "error": 401}'), Reply(fixture="reddit/new_first_poll.json", headers=RATE))
    auth = RedditAuth("cid", "secret", token_url=f"{server.url}/api/v1/access_token")
    async with _http() as http:
        batches = await _poll(_connector(server, auth=auth, recheck=0), http)
    assert len(_mentions(batches)) == 4 and len(server.asked("/api/v1/access_token")) == 2  # once, and again after the 401
    assert server.asked(NEW)[-1]["headers"]["Authorization"].startswith("bearer eyJ")
    assert server.asked("/api/v1/access_token")[0]["headers"]["Authorization"].startswith("Basic ")
