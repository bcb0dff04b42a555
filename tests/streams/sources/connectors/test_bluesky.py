"""Bluesky via Jetstream: event mapping (links, link cards), keyword filter, deletions and edits, cursor
checkpoints, reconnect with rewind, the replay window, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from streams.schema import Deletion
from streams.sources.base import Checkpoints, RetryPolicy, SourceError
from streams.sources.connectors.bluesky import BlueskyConnector, MalformedEvent, account_gone, event_to_deletion, event_to_mention, expand_links, mention_id, subscribe_url
from streams.sources.http import SourceHttp
from streams.sources.runner import Runner
from streams.sources.text import SeenIds
from tests.streams.sources.fakes import FakeJetstream, MemoryPublisher, free_port, jetstream_other, jetstream_post

DID = "did:plc:eygmaihciaxprqvxpfvl6flk"
T0 = 1_732_100_000_000_000  # time_us
CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "bluesky"


def _recording(name: str = "links_edits_deletes.jsonl") -> list[dict]:
    """A contiguous stretch of Jetstream (wantedCollections unset): posts with a shortened link (facet),
    a link card, a quote with a card (recordWithMedia), noise, an identity event, an edit, two deletes,
    a like and an account event."""
    return [json.loads(line) for line in (CONFORMANCE / name).read_text("utf-8").splitlines() if line.strip()]


def test_a_post_create_event_maps_to_a_mention():
    event = jetstream_post(DID, "3lbqhwz5w2k2a", "Lego har lavet en ny butik i Aarhus", T0)
    mention = event_to_mention(event)
    assert mention.id == f"bluesky:at://{DID}/app.bsky.feed.post/3lbqhwz5w2k2a"
    assert mention.source == "bluesky" and mention.kind == "post" and mention.parent_id is None
    assert mention.url == f"https://bsky.app/profile/{DID}/post/3lbqhwz5w2k2a"
    assert mention.author.handle == DID and mention.author.profile_url == f"https://bsky.app/profile/{DID}"
    assert mention.published_at == datetime.fromtimestamp(T0 / 1e6, tz=timezone.utc) and mention.published_at.tzinfo
    assert mention.raw == {"did": DID, "rkey": "3lbqhwz5w2k2a", "time_us": T0, "cid": "bafyrei3lbqhwz5w2k2a", "langs": ["da"]}


def test_replies_and_quotes_point_at_their_parent():
    parent = "at://did:plc:other/app.bsky.feed.post/3lparent"
    reply = event_to_mention(jetstream_post(DID, "r1", "Enig om Lego", T0, reply_to=parent))
    assert reply.kind == "reply" and reply.parent_id == f"bluesky:{parent}" and reply.raw["root"] == parent
    quote = event_to_mention(jetstream_post(DID, "q1", "Se her: Lego", T0, quote=parent))
    assert quote.kind == "quote" and quote.parent_id == f"bluesky:{parent}"
    with_media = jetstream_post(DID, "q2", "Lego med billede", T0)
    with_media["commit"]["record"]["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {"cid": "c", "uri": parent}},
        "media": {"$type": "app.bsky.embed.images", "images": []},
    }
    assert event_to_mention(with_media).parent_id == f"bluesky:{parent}"
    feed_embed = jetstream_post(DID, "q3", "Mit Lego-feed", T0, quote="at://did:plc:x/app.bsky.feed.generator/lego")
    assert event_to_mention(feed_embed).kind == "post"  # quoting a feed generator is not quoting a post


def test_other_events_are_not_mentions_and_broken_ones_say_what_is_missing():
    for kind in ("identity", "account", "delete", "like"):
        assert event_to_mention(jetstream_other(DID, T0, kind)) is None
    assert event_to_mention(jetstream_post(DID, "e", "   ", T0)) is None
    naive = jetstream_post(DID, "n", "Lego", T0)
    naive["commit"]["record"]["createdAt"] = "2024-11-20T08:00:00"
    assert event_to_mention(naive).published_at.tzinfo is not None
    broken = jetstream_post(DID, "b", "Lego", T0)
    del broken["commit"]["rkey"]
    with pytest.raises(MalformedEvent, match="rkey"):
        event_to_mention(broken)


def test_subscribe_url_sets_collections_and_cursor():
    url = subscribe_url("wss://jetstream2.us-east.bsky.network/subscribe?compress=false&cursor=1", 1732100000000000)
    assert url == "wss://jetstream2.us-east.bsky.network/subscribe?compress=false&wantedCollections=app.bsky.feed.post&cursor=1732100000000000"


# --- against the local Jetstream ------------------------------------------------------------------------


@pytest.fixture
async def jetstream():
    server = FakeJetstream()
    await server.start()
    yield server
    await server.close()


def _events(jetstream: FakeJetstream, count: int, start: int = 0) -> list[dict]:
    """`count` events, every other one a matching post, with identity/like noise in between."""
    made = []
    for i in range(start, start + count):
        t = T0 + i * 1_000_000
        if i % 3 == 0:
            event = jetstream_post(DID, f"k{i:04d}", f"Nyt fra LEGO nr {i}", t)
        elif i % 3 == 1:
            event = jetstream_post(DID, f"x{i:04d}", f"Noget helt andet {i}", t)
        else:
            event = jetstream_other(DID, t, "like" if i % 2 else "identity")
        jetstream.events.append(event)
        made.append(event)
    return made


def _connector(jetstream: FakeJetstream, keywords=("lego",), **kw) -> BlueskyConnector:
    kw.setdefault("batch_s", 0.05)
    kw.setdefault("idle_s", 0.5)
    kw.setdefault("clock", lambda: T0 / 1e6 + 3600)  # the events are recent: within Jetstream's replay window
    return BlueskyConnector(list(keywords), jetstream_url=jetstream.ws_url, **kw)


async def _stream(connector: BlueskyConnector, until: datetime | None = None) -> tuple[list, list[Deletion]]:
    """One `--once` stream from the connector's state, every batch committed: (mentions, deletions)."""
    http = SourceHttp()
    mentions, deletions = [], []
    async for batch in connector.stream(http, until=until or datetime.now(timezone.utc)):
        mentions += batch.mentions
        deletions += batch.deletions
        connector.commit(batch.state)
    await http.aclose()
    return mentions, deletions


def _delivered(events) -> list[dict]:
    return [e for e in events if e["kind"] != "commit" or e["commit"]["collection"] == "app.bsky.feed.post"]


def _matching(events) -> list[str]:
    return [f"bluesky:at://{DID}/app.bsky.feed.post/{e['commit']['rkey']}" for e in events if e["kind"] == "commit" and "LEGO" in e["commit"].get("record", {}).get("text", "")]


async def test_once_reads_to_now_filters_by_keyword_and_checkpoints_the_cursor(jetstream, tmp_path):
    events = _events(jetstream, 30)
    connector = _connector(jetstream)
    publisher = MemoryPublisher()
    http = SourceHttp()
    report = (await Runner([connector], publisher, Checkpoints(tmp_path), http, on_batch=None).run_once())[connector.source_id]
    await http.aclose()
    delivered = _delivered(events)  # the likes are not subscribed to
    assert report.ok and publisher.ids == _matching(events)
    assert report.fetched == len(delivered) == 25
    assert Checkpoints(tmp_path).load(connector.source_id)["cursor"] == delivered[-1]["time_us"]
    assert jetstream.connections[0] == {"cursor": None, "wanted": ["app.bsky.feed.post"]}


async def test_reconnect_resumes_a_little_before_the_cursor_without_duplicates(jetstream, tmp_path):
    events = _events(jetstream, 30)
    jetstream.close_after = 11  # the connection drops mid-stream
    connector = _connector(jetstream, rewind_s=5)
    publisher = MemoryPublisher()
    http = SourceHttp()
    runner = Runner([connector], publisher, Checkpoints(tmp_path), http, on_batch=None)
    report = (await runner.run_once())[connector.source_id]
    assert "connection closed" in report.errors[0] and "1011" in report.errors[0]
    cursor = Checkpoints(tmp_path).load(connector.source_id)["cursor"]
    delivered = _delivered(events)[:11]
    assert cursor == delivered[-1]["time_us"]
    assert len(publisher.ids) == len(_matching(delivered))

    # a restart: resumes at cursor - 5 s, so a few events come again, and are dropped
    jetstream.close_after = None
    connector2 = _connector(jetstream, rewind_s=5)
    runner2 = Runner([connector2], publisher, Checkpoints(tmp_path), http, on_batch=None)
    await runner2.run_once()
    await http.aclose()
    assert jetstream.connections[1]["cursor"] == cursor - 5_000_000
    assert publisher.ids == _matching(events)  # every matching post, in order, exactly once


async def test_run_forever_reconnects_by_itself(jetstream, tmp_path):
    events = _events(jetstream, 24)
    jetstream.close_after = 7
    connector = _connector(jetstream, rewind_s=1)
    publisher = MemoryPublisher()
    http = SourceHttp()
    runner = Runner([connector], publisher, Checkpoints(tmp_path), http, on_batch=None, reconnect_policy=RetryPolicy(base_s=0.01, cap_s=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    deadline = time.monotonic() + 20
    while publisher.ids != _matching(events) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await http.aclose()
    assert publisher.ids == _matching(events)
    assert len(jetstream.connections) >= 3 and all(c["cursor"] for c in jetstream.connections[1:])


async def test_garbage_messages_are_counted_and_skipped(jetstream, tmp_path):
    from streams.sources.base import REGISTRY

    events = _events(jetstream, 6)
    jetstream.send_garbage = True
    connector = _connector(jetstream)
    before = REGISTRY.get_sample_value("lytter_ingest_errors_total", {"source": connector.source_id}) or 0
    http = SourceHttp()
    mentions = []
    async for batch in connector.stream(http, until=datetime.now(timezone.utc)):
        mentions += batch.mentions
        connector.commit(batch.state)
    await http.aclose()
    assert [m.id for m in mentions] == _matching(events)
    assert REGISTRY.get_sample_value("lytter_ingest_errors_total", {"source": connector.source_id}) == before + 1


async def test_unreachable_and_wrong_endpoints_are_clear_errors(jetstream):
    http = SourceHttp()
    dead = BlueskyConnector(["lego"], jetstream_url=f"ws://127.0.0.1:{free_port()}/subscribe", connect_timeout_s=2)
    with pytest.raises(SourceError, match="cannot reach Jetstream") as info:
        async for _ in dead.stream(http):
            pass
    assert info.value.retryable and "/subscribe?wantedCollections=app.bsky.feed.post" in str(info.value)
    wrong = BlueskyConnector(["lego"], jetstream_url=jetstream.url.replace("http", "ws") + "/firehose")
    with pytest.raises(SourceError, match="handshake was refused") as info:
        async for _ in wrong.stream(http):
            pass
    assert info.value.status == 404 and not info.value.retryable and "jetstream_url" in str(info.value)
    await http.aclose()


def test_keywords_and_languages_filter():
    connector = BlueskyConnector(["Nordlys Energi", "#fjordbank"], langs=["da", "nb"])
    post = jetstream_post(DID, "a", "Skift til nordlys energi nu", T0, langs=("nb",))
    assert connector.matches(event_to_mention(post), post)
    swedish = jetstream_post(DID, "b", "Nordlys Energi i Sverige", T0, langs=("sv",))
    assert not connector.matches(event_to_mention(swedish), swedish)
    other = jetstream_post(DID, "c", "Nordlysene er smukke", T0)
    assert not connector.matches(event_to_mention(other), other)
    with pytest.raises(ValueError, match="keyword"):
        BlueskyConnector([" "])


# --- links, link cards ----------------------------------------------------------------------------------

LINK = "https://www.dr.dk/nyheder/penge/fjordbank-haever-renten-igen"


def test_links_in_facets_and_link_cards_are_matched_and_reach_the_mention():
    facet, card, with_media, noise = _recording()[:4]
    connector = BlueskyConnector(["fjordbank"])
    # the text shows "dr.dk/nyheder/penge/fjor..."; the facet (UTF-8 byte offsets, after an emoji) has the URL
    mention = event_to_mention(facet)
    assert mention.text == f"Så er det sket igen 🙄 læs selv: {LINK}" and mention.raw["links"] == [LINK]
    assert connector.matches(mention, facet)
    # a link card: its title is the mention's title; its URL and description follow the text
    mention = event_to_mention(card)
    assert mention.title == "Fjordbank hæver renten for tredje gang i år"
    assert mention.text == f"Det her er simpelthen for dårligt\n\n{LINK}\nKunderne må betale mere for boliglånet fra 1. december."
    assert mention.raw["card"] == LINK and connector.matches(mention, card)
    # a quote with a card as its media: the brand is only in the card's description
    mention = event_to_mention(with_media)
    assert mention.kind == "quote" and mention.title == "Renteheving i Norden"
    assert "Også Fjordbank følger etter Norges Bank." in mention.text and connector.matches(mention, with_media)
    assert not connector.matches(event_to_mention(noise), noise)


def test_link_facets_with_own_text_or_broken_ranges_keep_the_text_and_add_the_url():
    def link(start, end, uri):
        return {"index": {"byteStart": start, "byteEnd": end}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]}

    text = "Læs mere her og her"
    own = {"facets": [link(len("Læs mere ".encode()), len("Læs mere her".encode()), "https://fjordbank.example/rente")]}
    assert expand_links(text, own)[0] == "Læs mere her (https://fjordbank.example/rente) og her"
    broken = {"facets": [link(2, 3, "https://a.example/x"), link(0, 999, "https://b.example/y"), {"features": "nope"}]}
    assert expand_links(text, broken)[0] == f"{text}\nhttps://b.example/y\nhttps://a.example/x"  # 0..999: out of range; 2..3 splits the "æ"
    mention_tag = {"facets": [{"index": {"byteStart": 0, "byteEnd": 3}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]}]}
    assert expand_links(text, mention_tag) == (text, [])
    # a post with no text but a link card is still a post
    card_only = jetstream_post(DID, "c", "", T0)
    card_only["commit"]["record"]["embed"] = {"$type": "app.bsky.embed.external", "external": {"uri": "https://fjordbank.example/", "title": "Fjordbank", "description": ""}}
    assert event_to_mention(card_only).text == "https://fjordbank.example/"


# --- deletions and edits ----------------------------------------------------------------------------------


async def test_deletes_become_deletions_and_updates_are_published_again_with_edited_at(jetstream):
    events = _recording()
    jetstream.events += events
    connector = _connector(jetstream, keywords=["fjordbank"], rewind_s=60)
    mentions, deletions = await _stream(connector)
    ids = {e["commit"]["rkey"]: f"bluesky:at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}" for e in events if e["kind"] == "commit"}
    edited = ids["3lbqhx4ql3s2d"]
    assert [m.id for m in mentions] == [ids["3lbqhwz5w2k2a"], edited, ids["3lbqhxgsvlk2s"], edited]
    edit = mentions[-1]
    assert edit.edited_at == datetime.fromtimestamp(events[5]["time_us"] / 1e6, tz=timezone.utc)
    assert edit.published_at == mentions[1].published_at and mentions[1].edited_at is None
    assert edit.text.startswith("Det her er simpelthen for dårligt. Jeg skifter bank") and edit.title == mentions[1].title
    # every deleted post, published or not (another connector may have published it): the id needs no state
    assert [(d.id, d.source, d.reason) for d in deletions] == [(ids["3lbqhwz5w2k2a"], "bluesky", "deleted")]  # only what this connector published
    assert deletions[0].deleted_at == datetime.fromtimestamp(events[6]["time_us"] / 1e6, tz=timezone.utc)
    assert connector.state["cursor"] == events[-1]["time_us"]
    # a reconnect rewinds over all of it: nothing is published twice, not the edit, not the deletions
    assert await _stream(connector) == ([], [])
    assert jetstream.connections[1]["cursor"] == events[-1]["time_us"] - 60_000_000


def test_an_edit_is_published_when_the_post_matches_or_was_published():
    from streams.sources.text import SeenIds

    connector = BlueskyConnector(["lego"])
    seen = SeenIds()
    post = jetstream_post(DID, "p1", "Ny LEGO butik", T0)
    assert connector.accept(post, seen).id == f"bluesky:at://{DID}/app.bsky.feed.post/p1"
    edit = jetstream_post(DID, "p1", "Ny butik i Aarhus", T0 + 1)  # the brand edited out: the index must hear of it
    edit["commit"].update(operation="update", cid="bafyreiedit1")
    assert connector.accept(edit, seen).edited_at is not None
    assert connector.accept(edit, seen) is None  # the same edit again (a rewind)
    other = jetstream_post(DID, "p2", "Intet om mærker", T0 + 2)
    other["commit"]["operation"] = "update"
    assert connector.accept(other, seen) is None
    assert event_to_deletion(post) is None and event_to_mention(jetstream_other(DID, T0, "delete")) is None
    broken = jetstream_other(DID, T0, "delete")
    del broken["commit"]["rkey"]
    with pytest.raises(MalformedEvent, match="rkey"):
        event_to_deletion(broken)


# --- the cursor and Jetstream's replay window ---------------------------------------------------------------


async def test_a_checkpoint_older_than_the_replay_window_is_logged_as_a_gap_and_resumes_at_the_window(jetstream, caplog):
    now = T0 / 1e6 + 3 * 86400  # three days after the checkpoint; Jetstream replays 36 h
    floor = int(now * 1e6) - 36 * 3600 * 1_000_000
    lost = jetstream_post(DID, "lost", "LEGO i går", T0 + 86400 * 1_000_000)  # Jetstream no longer has it
    kept = jetstream_post(DID, "kept", "LEGO i dag", floor + 60_000_000)
    jetstream.events += [lost, kept]
    connector = _connector(jetstream, clock=lambda: now)
    connector.restore({"cursor": T0})
    with caplog.at_level(logging.WARNING, logger="streams.sources.connectors.bluesky"):
        mentions, _ = await _stream(connector, until=datetime.fromtimestamp(now, tz=timezone.utc))
    assert jetstream.connections[0]["cursor"] == floor  # not the checkpoint: from the oldest moment still replayed
    assert [m.raw["rkey"] for m in mentions] == ["kept"]
    gap = [r.getMessage() for r in caplog.records if "replay window" in r.getMessage()]
    assert len(gap) == 1 and "missed" in gap[0]
    assert "2024-11-20T10:53:15+00:00 to 2024-11-21T22:53:20+00:00" in gap[0] and "36 h" in gap[0]  # the gap, named
    # within the window: the checkpoint less the rewind; no checkpoint: live
    recent = _connector(jetstream, clock=lambda: now)
    assert recent.start_cursor(floor + 10_000_000) == floor + 5_000_000
    assert recent.start_cursor(None) is None
    unbounded = _connector(jetstream, clock=lambda: now, max_replay_s=None)  # a self-hosted instance that keeps more
    assert unbounded.start_cursor(T0) == T0 - 5_000_000


# --- account deletions -----------------------------------------------------------------------------------------


def _account(did: str, active: bool, status: str | None = None, time_us: int = T0) -> dict:
    account = {"active": active, "did": did, "seq": 7, "time": "2024-11-20T10:00:00.000Z"}
    if status is not None:
        account["status"] = status
    return {"did": did, "time_us": time_us, "kind": "account", "account": account}


def test_account_gone_reads_deleted_and_taken_down_accounts_only():
    assert account_gone(_account(DID, False, "deleted")) == (DID, "account deleted")
    assert account_gone(_account(DID, False, "takendown")) == (DID, "removed")
    for event in (_account(DID, False, "deactivated"), _account(DID, False, "suspended"), _account(DID, True), _account(DID, False),
                  _account("not-a-did", False, "deleted"), jetstream_other(DID, T0, "identity"), jetstream_post(DID, "x", "LEGO", T0)):
        assert account_gone(event) is None


def test_an_account_deletion_names_only_the_posts_still_remembered():
    connector = BlueskyConnector(["lego"])
    seen = SeenIds(maxlen=3)
    other = "did:plc:othero7yqz4bq3dzx2pmrwl"
    for rkey, text, did in (("old1", "LEGO 1", DID), ("old2", "LEGO 2", DID), ("o", "LEGO 3", other), ("new", "LEGO 4", DID)):
        assert connector.accept(jetstream_post(did, rkey, text, T0), seen) is not None
    deletions = connector.account_deletions(_account(DID, False, "deleted", T0 + 5), seen)
    # old1 fell out of the bounded memory (SEEN_MAX, here 3): it is not named
    assert [(d.id, d.reason) for d in deletions] == [(mention_id(DID, "old2"), "account deleted"), (mention_id(DID, "new"), "account deleted")]
    assert all(d.deleted_at == datetime.fromtimestamp((T0 + 5) / 1e6, tz=timezone.utc) for d in deletions)
    assert connector.account_deletions(_account(DID, False, "deleted", T0 + 6), seen) == []  # once
    delete = jetstream_other(DID, T0 + 7, "delete")
    delete["commit"]["rkey"] = "new"
    assert connector.accept(delete, seen) is None  # and the post's own delete commit afterwards: not a second deletion
