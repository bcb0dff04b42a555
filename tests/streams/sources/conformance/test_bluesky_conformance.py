"""Bluesky Jetstream conformance: the project's JSONL fixtures of Jetstream events (posts with link facets and
cards, a quote, edits, deletes, identity/like/account events, account deletions) sent over a real WebSocket
on 127.0.0.1 to the connector's real stream path; cursors across a reconnect and a restart; refused
handshakes."""

from __future__ import annotations

import json

import pytest

from streams.sources.base import Checkpoints, SourceError
from streams.sources.connectors.bluesky import BlueskyConnector, mention_id
from streams.sources.http import SourceHttp
from tests.streams.sources.conformance.server import ScriptedServer, Session, jsonl

LINKS = "bluesky/links_edits_deletes.jsonl"
ACCOUNTS = "bluesky/account_events.jsonl"
A, B, C = "did:plc:7gq2w4lzmrd5kbnhsvtyfx3e", "did:plc:r2b6ycpl4uxkm3e5zhcdwq7n", "did:plc:ktxw5vq2m7ynfho4cbe3rlzs"
NOW_S = 1732200020.0  # the fixtures' own time: inside Jetstream's replay window


@pytest.fixture
async def server():
    s = await ScriptedServer().start()
    yield s
    await s.close()


def _connector(server: ScriptedServer, **kw) -> BlueskyConnector:
    kw.setdefault("clock", lambda: NOW_S)
    return BlueskyConnector(["fjordbank"], jetstream_url=f"{server.ws_url}/subscribe", batch_s=0.05, rewind_s=5, **kw)


async def _session(connector: BlueskyConnector, checkpoints: Checkpoints | None = None) -> tuple[list, SourceError]:
    """One connection until the server closes it; each batch committed (and saved) as the runner would."""
    batches = []
    async with SourceHttp() as http:
        with pytest.raises(SourceError) as info:
            async for batch in connector.stream(http):
                batches.append(batch)
                connector.commit(batch.state)
                if checkpoints is not None:
                    checkpoints.save(connector.source_id, batch.state)
    return batches, info.value


async def test_a_session_maps_matches_edits_and_deletes_and_a_reconnect_resumes_at_the_cursor(server):
    events = jsonl(LINKS)
    server.websocket("/subscribe", Session(events), Session(events[-4:]))
    connector = _connector(server)
    batches, closed = await _session(connector)
    mentions = [m for b in batches for m in b.mentions]
    deletions = [d for b in batches for d in b.deletions]
    assert closed.retryable and "connection closed" in closed.problem
    assert [m.raw["rkey"] for m in mentions] == ["3lbqhwz5w2k2a", "3lbqhx4ql3s2d", "3lbqhxgsvlk2s", "3lbqhx4ql3s2d"]
    assert mentions[0].text.count("https://www.dr.dk/nyheder/penge/fjordbank-haever-renten-igen") == 1  # the facet's full URL
    assert mentions[1].title == "Fjordbank hæver renten for tredje gang i år"  # the link card
    assert mentions[3].edited_at is not None and "skifter" in mentions[3].text and mentions[3].id == mentions[1].id
    # the delete of a published post; the delete of a post never published (no keyword) is not reported
    assert [d.id for d in deletions] == [mention_id("did:plc:4uz2445cjiw7w4nobfgnu35f", "3lbqhwz5w2k2a")]
    last = json.loads(events[-1])["time_us"]
    assert connector.state["cursor"] == last and sum(b.fetched for b in batches) == len(events)

    again, _ = await _session(connector)  # the reconnect: cursor - rewind_s, and the repeats dropped
    first, second = server.asked("/subscribe")
    assert "cursor" not in first["query"] and second["query"] == {"wantedCollections": "app.bsky.feed.post", "cursor": str(last - 5_000_000)}
    assert not [m for b in again for m in b.mentions] and not [d for b in again for d in b.deletions]


async def test_account_deletions_delete_the_published_posts_of_that_account_once_even_after_a_restart(server, tmp_path):
    events = jsonl(ACCOUNTS)
    posts, accounts = events[:5], events[5:]
    server.websocket("/subscribe", Session(posts), Session(accounts))
    checkpoints = Checkpoints(tmp_path)
    connector = _connector(server)
    batches, _ = await _session(connector, checkpoints)
    published = [m.id for b in batches for m in b.mentions]
    assert published == [mention_id(A, "3lbtab2xk3c2a"), mention_id(A, "3lbtab4mq7s2b"), mention_id(B, "3lbtab8hd4f2d"), mention_id(C, "3lbtabbnv5l2e")]
    assert [m.declared_lang for b in batches for m in b.mentions] == ["da", "da", "da", "en"]  # "da-DK" -> "da"

    restarted = _connector(server)  # a fresh process: what it published is known from the checkpoint only
    restarted.restore(checkpoints.load(connector.source_id))
    batches, _ = await _session(restarted, checkpoints)
    deletions = [(d.id, d.reason) for b in batches for d in b.deletions]
    assert deletions == [
        (mention_id(A, "3lbtab2xk3c2a"), "account deleted"),
        (mention_id(A, "3lbtab4mq7s2b"), "account deleted"),  # the post without the keyword was never published: not named
        (mention_id(C, "3lbtabbnv5l2e"), "removed"),  # taken down; B only deactivated (it comes back): nothing
    ]  # and the repeated account event of A: nothing twice
    assert all(d.deleted_at.timestamp() * 1e6 in (json.loads(accounts[0])["time_us"], json.loads(accounts[2])["time_us"]) for b in batches for d in b.deletions)


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (404, False), (429, True), (503, True)])
async def test_a_refused_handshake_says_so_and_is_retried_only_when_it_may_pass(server, status, retryable):
    server.websocket("/subscribe", Session(refuse=status))
    _, error = await _session(_connector(server))
    assert error.status == status and error.retryable is retryable and f"HTTP {status}" in error.problem and "jetstream_url" in error.hint


async def test_a_checkpoint_older_than_the_replay_window_resumes_at_its_floor(server, caplog):
    server.websocket("/subscribe", Session(jsonl(ACCOUNTS)[:1]))
    connector = _connector(server, clock=lambda: NOW_S + 48 * 3600)
    connector.restore({"cursor": int(NOW_S * 1e6), "seen": []})
    await _session(connector)
    (request,) = server.asked("/subscribe")
    assert int(request["query"]["cursor"]) == int((NOW_S + 12 * 3600) * 1e6)  # now - 36 h
    assert "older than Jetstream's replay window" in caplog.text
