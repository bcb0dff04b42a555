"""Bluesky via Jetstream: event mapping, keyword filter, cursor checkpoints, reconnect with rewind, errors."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest

from streams.sources.base import Checkpoints, RetryPolicy, SourceError
from streams.sources.connectors.bluesky import BlueskyConnector, MalformedEvent, event_to_mention, subscribe_url
from streams.sources.http import SourceHttp
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeJetstream, MemoryPublisher, free_port, jetstream_other, jetstream_post

DID = "did:plc:eygmaihciaxprqvxpfvl6flk"
T0 = 1_732_100_000_000_000  # time_us


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


def _connector(jetstream: FakeJetstream, **kw) -> BlueskyConnector:
    kw.setdefault("batch_s", 0.05)
    kw.setdefault("idle_s", 0.5)
    return BlueskyConnector(["lego"], jetstream_url=jetstream.ws_url, **kw)


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
