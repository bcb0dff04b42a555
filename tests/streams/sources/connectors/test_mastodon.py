"""Mastodon: mapping of Status entities, REST paging with Link headers, resume, search, streaming (SSE)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streams.sources.base import Checkpoints, RetryPolicy, SourceError, TokenBucket
from streams.sources.http import SourceHttp
from streams.sources.connectors.mastodon import (
    MalformedStatus,
    MastodonConnector,
    SSEDecoder,
    snowflake_at,
    snowflake_seconds,
    status_to_mention,
    strip_quote_fallback,
)
from streams.sources.config import ConnectorConfigError, load_connectors, parse_connectors
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeMastodon, MemoryPublisher, RecordingSleep, free_port, mastodon_account

T0 = datetime(2024, 11, 20, 8, 0, tzinfo=timezone.utc)

# A Status as documented at docs.joinmastodon.org/entities/Status (trimmed to what matters here).
STATUS = {
    "id": "113513000000000001",
    "created_at": "2024-11-20T08:15:30.123Z",
    "in_reply_to_id": None,
    "in_reply_to_account_id": None,
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": "sv",
    "uri": "https://mastodon.nu/users/kalle/statuses/113513000000000001",
    "url": "https://mastodon.nu/@kalle/113513000000000001",
    "replies_count": 4,
    "reblogs_count": 7,
    "favourites_count": 31,
    "content": '<p>Skandi Air tappade mitt bagage &amp; svarar inte. <a href="https://mastodon.nu/tags/skandiair" class="mention hashtag" rel="tag">#<span>skandiair</span></a></p>',
    "reblog": None,
    "account": {
        "id": "109",
        "username": "kalle",
        "acct": "kalle@mastodon.nu",
        "display_name": "Kalle Anka",
        "followers_count": 5120,
        "url": "https://mastodon.nu/@kalle",
    },
    "media_attachments": [],
    "mentions": [],
    "tags": [{"name": "skandiair", "url": "https://m.example/tags/skandiair"}],
    "emojis": [],
}


def test_status_maps_author_engagement_text_and_time():
    mention = status_to_mention(STATUS, instance="https://m.example")
    assert mention.id == "mastodon:https://mastodon.nu/users/kalle/statuses/113513000000000001"
    assert mention.source == "mastodon" and mention.kind == "post" and mention.parent_id is None
    assert mention.text == "Skandi Air tappade mitt bagage & svarar inte. #skandiair"
    assert mention.author.handle == "kalle@mastodon.nu" and mention.author.followers == 5120
    assert mention.author.display_name == "Kalle Anka" and mention.author.profile_url == "https://mastodon.nu/@kalle"
    assert (mention.engagement.likes, mention.engagement.shares, mention.engagement.replies) == (31, 7, 4)
    assert mention.published_at == datetime(2024, 11, 20, 8, 15, 30, 123000, tzinfo=timezone.utc)
    assert mention.url == "https://mastodon.nu/@kalle/113513000000000001"
    assert mention.raw["language"] == "sv" and mention.raw["tags"] == ["skandiair"]


def test_replies_quotes_boosts_local_accounts_and_what_is_skipped():
    reply = {**STATUS, "in_reply_to_id": "1130", "in_reply_to_account_id": "5", "spoiler_text": "flyg"}
    mention = status_to_mention(reply, instance="m.example", parent_uri="https://m.example/users/a/statuses/1130")
    assert mention.kind == "reply" and mention.parent_id == "mastodon:https://m.example/users/a/statuses/1130"
    assert mention.title == "flyg"
    assert status_to_mention(reply, instance="m.example").parent_id is None  # parent unknown: kept, unthreaded

    quote = {**STATUS, "quote": {"state": "accepted", "quoted_status": {**STATUS, "uri": "https://x.example/users/b/statuses/9"}}}
    assert status_to_mention(quote, instance="m.example").parent_id == "mastodon:https://x.example/users/b/statuses/9"
    assert status_to_mention(quote, instance="m.example").kind == "quote"

    boost = {**STATUS, "id": "999", "uri": "https://m.example/users/c/statuses/999/activity", "reblog": STATUS, "content": ""}
    assert status_to_mention(boost, instance="m.example").id == status_to_mention(STATUS, instance="m.example").id

    local = {**STATUS, "account": {**STATUS["account"], "acct": "kalle"}}
    assert status_to_mention(local, instance="https://m.example").author.handle == "kalle@m.example"

    assert status_to_mention({**STATUS, "visibility": "direct"}, instance="m.example") is None
    assert status_to_mention({**STATUS, "content": "<p></p>"}, instance="m.example") is None
    media_only = {**STATUS, "content": "", "media_attachments": [{"type": "image", "description": "Et fly fra Skandi Air"}]}
    assert status_to_mention(media_only, instance="m.example").text == "Et fly fra Skandi Air"
    with pytest.raises(MalformedStatus, match="status.created_at"):
        status_to_mention({**STATUS, "created_at": None}, instance="m.example")
    with pytest.raises(MalformedStatus, match="status.account"):
        status_to_mention({**STATUS, "account": None}, instance="m.example")


def test_sse_decoder_dispatches_events_and_ignores_heartbeats():
    decoder = SSEDecoder()
    lines = [":)", "", "event: update", 'data: {"a":', "data: 1}", "", ":thump", "event: delete", "data: 123", "", "data: x", ""]
    events = [e for e in (decoder.feed(line) for line in lines) if e]
    assert events == [("update", '{"a":\n1}'), ("delete", "123"), ("message", "x")]


def test_snowflake_ids_carry_their_time():
    seconds = T0.timestamp()
    assert snowflake_seconds(snowflake_at(seconds)) == pytest.approx(seconds)
    assert snowflake_seconds("12345") is None and snowflake_seconds("abc") is None


# --- against the local instance -----------------------------------------------------------------------


@pytest.fixture
async def instance():
    server = FakeMastodon()
    await server.start()
    yield server
    await server.close()


def fast() -> TokenBucket:
    return TokenBucket(1000.0, burst=1000)


def _connector(instance: FakeMastodon, **kw) -> MastodonConnector:
    kw.setdefault("hashtag", "nordlys")
    kw.setdefault("limit", 5)
    kw.setdefault("overlap_s", 0)
    return MastodonConnector(instance.url, limiter=fast(), **kw)


def _runner(connector, tmp_path, publisher=None, sleep=None):
    http = SourceHttp(policy=RetryPolicy(max_attempts=4), sleep=sleep or RecordingSleep())
    publisher = publisher or MemoryPublisher()
    return Runner([connector], publisher, Checkpoints(tmp_path), http, on_batch=None), publisher, http


def _posts(instance: FakeMastodon, count: int, start_minute: int = 0, tag: str = "nordlys") -> list[dict]:
    return [
        instance.add_status(f"<p>Nordlys Energi nr {i}</p>", when=T0 + timedelta(minutes=start_minute + i), tags=[tag])
        for i in range(count)
    ]


async def test_first_run_backfills_older_pages_via_link_next_to_the_end(instance, tmp_path):
    statuses = _posts(instance, 12)
    connector = _connector(instance, backfill_pages=10)
    runner, publisher, http = _runner(connector, tmp_path)
    report = (await runner.run_once())[connector.source_id]
    await http.aclose()
    assert report.ok
    assert sorted(publisher.ids) == sorted(f"mastodon:{s['uri']}" for s in statuses)
    timeline = [r for r in instance.requests if r["path"].endswith("/tag/nordlys")]
    assert timeline[0]["query"].get("max_id") is None and timeline[1]["query"]["max_id"] == statuses[7]["id"]
    assert timeline[2]["query"]["max_id"] == statuses[2]["id"]
    assert all(r["query"]["limit"] == "5" for r in timeline)
    assert connector.state["min_id"] == statuses[-1]["id"] and connector.state["backfill"] is None


async def test_later_polls_page_forward_with_min_id_and_resume_after_a_crash_without_gap(instance, tmp_path):
    _posts(instance, 3)
    connector = _connector(instance)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()
    assert len(publisher.ids) == 3
    newer = _posts(instance, 12, start_minute=10)  # 12 new: 3 pages of 5 forward
    publisher.fail_after(2)  # the first forward page is acknowledged, the second is not
    report = (await runner.run_once())[connector.source_id]
    assert report.errors and len(publisher.ids) == 8

    # restart from the checkpoint: the rest, each once, following the rel="prev" Links
    connector2 = _connector(instance)
    runner2, publisher2, http2 = _runner(connector2, tmp_path, publisher=publisher)
    publisher.fail_after(None)
    await runner2.run_once()
    assert len(publisher.ids) == len(set(publisher.ids)) == 15
    assert set(publisher.ids) >= {f"mastodon:{s['uri']}" for s in newer}
    forward = [r["query"].get("min_id") for r in instance.requests if "min_id" in r["query"]]
    assert forward[-1] == newer[-1]["id"]  # ended with an empty page after the newest
    await http.aclose()
    await http2.aclose()


async def test_overlap_catches_late_federated_posts_and_drops_repeats(instance, tmp_path):
    _posts(instance, 3)
    connector = _connector(instance, overlap_s=600)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()
    # a remote post written 2 minutes ago arrives now: its id is *older* than the checkpoint's
    late = instance.add_status("<p>Sent: Nordlys Energi</p>", when=T0 + timedelta(seconds=30), seq=7, tags=["nordlys"], remote="remote.example")
    assert late["id"] < connector.state["min_id"]
    await runner.run_once()
    await http.aclose()
    assert publisher.ids[-1] == f"mastodon:{late['uri']}" and len(publisher.ids) == len(set(publisher.ids)) == 4


async def test_replies_are_threaded_through_a_status_lookup(instance, tmp_path):
    parent = instance.add_status("<p>Hvad synes I om Nordlys Energi?</p>", when=T0, tags=["andet"])  # not in the tag timeline
    reply = instance.add_status(
        "<p>Gode erfaringer med Nordlys Energi</p>",
        when=T0 + timedelta(minutes=1),
        tags=["nordlys"],
        in_reply_to=parent,
        account=mastodon_account("ole", "fosstodon.org", followers=77, account_id="42"),
        counts=(5, 1, 0),
    )
    connector = _connector(instance)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()
    await http.aclose()
    (mention,) = publisher.mentions
    assert mention.kind == "reply" and mention.parent_id == f"mastodon:{parent['uri']}"
    assert mention.author.handle == "ole@fosstodon.org" and mention.author.followers == 77
    assert (mention.engagement.likes, mention.engagement.shares, mention.engagement.replies) == (5, 1, 0)
    assert f"/api/v1/statuses/{parent['id']}" in instance.paths() and reply["in_reply_to_id"] == parent["id"]


async def test_search_pages_forward_with_min_id(instance, tmp_path):
    for i in range(7):
        instance.add_status(f"<p>Hygge Kaffe {i} er god</p>", when=T0 + timedelta(minutes=i), tags=[])
    instance.add_status("<p>noget andet</p>", when=T0, seq=3, tags=[])
    connector = _connector(instance, hashtag=None, search="hygge kaffe", limit=3)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()
    assert len(publisher.ids) == 3  # first run: the newest page
    for i in range(7, 12):
        instance.add_status(f"<p>Hygge Kaffe {i} er god</p>", when=T0 + timedelta(minutes=i), tags=[])
    await runner.run_once()
    await http.aclose()
    texts = sorted(m.text for m in publisher.mentions)
    assert len(texts) == 8 and texts[0] == "Hygge Kaffe 10 er god" and all("Hygge" in t for t in texts)
    search = [r for r in instance.requests if r["path"] == "/api/v2/search"]
    assert all(r["query"]["type"] == "statuses" and r["query"]["q"] == "hygge kaffe" for r in search)


async def test_rate_limit_and_server_errors_are_backed_off(instance, tmp_path):
    _posts(instance, 2)
    sleep = RecordingSleep()
    connector = _connector(instance)
    runner, publisher, http = _runner(connector, tmp_path, sleep=sleep)
    reset = (datetime.now(timezone.utc) + timedelta(seconds=40)).isoformat().replace("+00:00", "Z")
    instance.fail_next(429, headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, body='{"error":"Too many requests"}')
    instance.fail_next(502, body="Bad Gateway")
    report = (await runner.run_once())[connector.source_id]
    await http.aclose()
    assert report.ok and len(publisher.ids) == 2
    assert 35 <= sleep.waits[0] <= 40 and 0.5 <= sleep.waits[1] <= 2.0


async def test_unreachable_instance_malformed_answers_and_unknown_tags_are_clear_errors(instance):
    http = SourceHttp(policy=RetryPolicy(max_attempts=2), sleep=RecordingSleep())
    dead = MastodonConnector(f"http://127.0.0.1:{free_port()}", hashtag="x", limiter=fast())
    with pytest.raises(SourceError, match="cannot reach") as info:
        await dead.poll_once(http)
    assert "/api/v1/timelines/tag/x" in str(info.value)

    instance.fail_next(200, headers={"Content-Type": "application/json"}, body='{"statuses": "nope"}')
    with pytest.raises(SourceError, match="malformed response: a timeline must be a JSON list"):
        await _connector(instance).poll_once(http)

    locked = FakeMastodon(token="s3cret")
    await locked.start()
    with pytest.raises(SourceError, match="HTTP 401") as info:
        await _connector(locked).poll_once(http)
    assert "token_env" in str(info.value)
    ok = await MastodonConnector(locked.url, hashtag="nordlys", token="s3cret", limiter=fast()).poll_once(http)
    assert ok == [] and "s3cret" not in repr(_connector(locked, token="s3cret"))
    await locked.close()
    await http.aclose()


async def test_streaming_catches_up_then_reads_update_events(instance, tmp_path):
    _posts(instance, 2)
    connector = _connector(instance, stream=True)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()  # establishes the checkpoint (a one-off run does not stream)
    assert len(publisher.ids) == 2
    missed = _posts(instance, 1, start_minute=5)[0]  # posted while nothing was connected
    live = instance.add_status("<p>Live: Nordlys Energi</p>", when=T0 + timedelta(minutes=9), tags=["nordlys"])
    del instance.statuses[live["id"]]  # only on the stream (posted after the catch-up read)
    instance.push_raw(":thump\n\n")
    instance.push_update(missed)  # also read by the catch-up: a repeat, dropped
    instance.push_update(live)
    instance.push_raw("event: delete\ndata: 123\n\n")
    instance.push_raw("event: update\ndata: {not json\n\n")
    instance.end_stream()
    runner.restore()
    await runner._drive(connector, connector.stream(http))
    await http.aclose()
    assert publisher.ids[2:] == [f"mastodon:{missed['uri']}", f"mastodon:{live['uri']}"]
    assert connector.state["min_id"] == live["id"]
    stream_request = next(r for r in instance.requests if r["path"] == "/api/v1/streaming/hashtag")
    assert stream_request["query"] == {"tag": "nordlys"}


async def test_run_forever_polls_a_non_streaming_connector_every_interval_not_in_a_loop(instance, tmp_path):
    import asyncio

    _posts(instance, 2)
    connector = _connector(instance, interval_s=30)
    runner, publisher, http = _runner(connector, tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await task
    await http.aclose()
    assert len(publisher.ids) == 2
    assert len(instance.requests) <= 3  # newest page + one empty forward page; then it waits 30 s


# --- Mastodon 4.4+ sessions: quotes, edits, deletions, tokens, disabled timelines ------------------------------

CONFORMANCE = Path(__file__).parent.parent / "conformance" / "mastodon"


def _fixture(name: str):
    text = (CONFORMANCE / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def test_quote_posts_drop_the_quote_inline_fallback_and_count_quotes():
    status = _fixture("quote_status.json")  # a 4.6 quote post: the "RE: <link>" fallback paragraph first
    mention = status_to_mention(status, instance="https://social.example.dk")
    assert mention.text == "yoooooooo"
    assert mention.kind == "quote" and mention.parent_id == "mastodon:https://toot.example.no/users/nordlys/statuses/115340600000000042"
    assert mention.engagement.quotes == 3 and mention.engagement.total() == 9 + 1 + 2 + 3
    assert status_to_mention({**status, "quotes_count": None}, instance="social.example.dk").engagement.quotes is None

    # the fallback at the end, as a span (Fedibird, Misskey-style quotes), with nested spans; no `quote` object
    span = '<p>Enig!<span class="quote-inline"><br>RE: <a href="https://x.example/notes/9"><span class="invisible">https://</span><span>x.example/notes/9</span></a></span></p>'
    assert status_to_mention({**status, "quote": None, "content": span}, instance="social.example.dk").text == "Enig!"
    assert strip_quote_fallback('<p class="h-entry quote-inline">RE: x</p><p>a</p><p class="quoted">b</p>') == "<p>a</p><p class=\"quoted\">b</p>"
    # only the fallback: nothing of the author's own is left, so there is no mention
    assert status_to_mention({**status, "content": '<p class="quote-inline">RE: <a href="https://x">x</a></p>'}, instance="m.example") is None


def test_an_edited_status_maps_to_the_same_mention_with_edited_at():
    edited = {**STATUS, "edited_at": "2024-11-20T09:01:02.500Z", "content": "<p>Skandi Air fandt bagaget</p>"}
    mention = status_to_mention(edited, instance="m.example")
    assert mention.id == status_to_mention(STATUS, instance="m.example").id
    assert mention.edited_at == datetime(2024, 11, 20, 9, 1, 2, 500000, tzinfo=timezone.utc)
    assert status_to_mention(STATUS, instance="m.example").edited_at is None


class _Collect:
    def __init__(self) -> None:
        self.batches = []

    def __call__(self, connector, batch, report) -> None:
        self.batches.append(batch)


async def _feed(connector: MastodonConnector, session: str, http=None) -> list:
    """The events of a recorded-shape SSE session through the connector, each batch committed as the runner would."""
    decoder, batches = SSEDecoder(), []
    for line in session.split("\n"):
        event = decoder.feed(line)
        batch = await connector._on_event(http, *event) if event else None
        if batch is not None:
            batches.append(batch)
            connector.commit(batch.state)
    return batches


async def test_stream_session_edits_are_mentions_again_and_deletes_are_deletions(caplog):
    caplog.set_level(logging.DEBUG, logger="streams.sources.connectors.mastodon.connector")
    connector = MastodonConnector("https://social.example.dk", hashtag="nordlys", stream=True, resolve_parents=False, limiter=fast())
    batches = await _feed(connector, _fixture("hashtag_stream.sse"))
    uri = "https://social.example.dk/users/mette/statuses/115340800011112222"
    assert [b.note for b in batches] == ["stream", "stream", "stream edit", "stream delete"]  # the unboost and the unknown id: none
    assert [m.id for m in batches[0].mentions] == [f"mastodon:{uri}"] and batches[1].mentions == []  # the boost: a repeat
    (edit,) = batches[2].mentions
    assert edit.id == f"mastodon:{uri}" and edit.text == "Ny pris hos #nordlys fra 1. november (rettet)"
    assert edit.edited_at == datetime(2025, 10, 9, 9, 41, 57, 20000, tzinfo=timezone.utc) and edit.engagement.likes == 2
    (deletion,) = batches[3].deletions
    assert deletion.id == f"mastodon:{uri}" and deletion.source == "mastodon" and deletion.reason == "deleted"
    assert batches[3].mentions == [] and "115340800011112222" not in connector.state["uris"]
    assert "114000000000000001" in caplog.text and "not seen here" in caplog.text  # the unknown delete: a debug line


async def test_a_delete_after_a_restart_is_named_from_the_checkpoint():
    session = _fixture("hashtag_stream.sse")
    first_update = session.split("event: status.update")[0]
    connector = MastodonConnector("https://social.example.dk", hashtag="nordlys", stream=True, resolve_parents=False, limiter=fast())
    await _feed(connector, first_update)
    assert connector.state["uris"] == {"115340800011112222": "https://social.example.dk/users/mette/statuses/115340800011112222"}
    restarted = MastodonConnector("https://social.example.dk", hashtag="nordlys", stream=True, resolve_parents=False, limiter=fast())
    restarted.restore(json.loads(json.dumps(connector.state)))  # a fresh process: no id -> uri cache in memory
    (batch,) = await _feed(restarted, "event: delete\ndata: 115340800011112222\n\n")
    assert [d.id for d in batch.deletions] == ["mastodon:https://social.example.dk/users/mette/statuses/115340800011112222"]
    # a polling-only connector keeps no uris in its checkpoint
    polling = MastodonConnector("https://social.example.dk", hashtag="nordlys", resolve_parents=False, limiter=fast())
    await _feed(polling, first_update)
    assert "uris" not in polling.state


async def test_the_stream_dispatches_status_update_and_delete_events(instance, tmp_path):
    first, second = _posts(instance, 2)
    connector = _connector(instance, stream=True)
    collect = _Collect()
    runner, publisher, http = _runner(connector, tmp_path)
    runner.on_batch = collect
    await runner.run_once()
    edited = {**first, "edited_at": "2024-11-20T08:30:00.000Z", "content": "<p>Nordlys Energi nr 0, rettet</p>"}
    instance.push_raw(f"event: status.update\ndata: {json.dumps(edited)}\n\n")
    instance.push_raw(f"event: delete\ndata: {second['id']}\n\n")
    instance.end_stream()
    await runner._drive(connector, connector.stream(http))
    await http.aclose()
    assert publisher.ids == [f"mastodon:{second['uri']}", f"mastodon:{first['uri']}", f"mastodon:{first['uri']}"]
    assert publisher.mentions[-1].edited_at is not None and publisher.mentions[-1].text == "Nordlys Energi nr 0, rettet"
    assert [d.id for b in collect.batches for d in b.deletions] == [f"mastodon:{second['uri']}"]


async def test_rest_repolls_republish_a_status_edited_since_and_drop_plain_repeats(instance, tmp_path):
    (status,) = _posts(instance, 1)
    connector = _connector(instance, overlap_s=600)
    runner, publisher, http = _runner(connector, tmp_path)
    await runner.run_once()
    await runner.run_once()  # the overlap re-reads it: a repeat, dropped
    assert len(publisher.ids) == 1
    status.update(edited_at="2024-11-20T08:05:00.000Z", content="<p>Nordlys Energi nr 0 (rettet)</p>")
    await runner.run_once()
    await runner.run_once()  # the same edit again: dropped
    assert publisher.ids == [f"mastodon:{status['uri']}"] * 2
    assert publisher.mentions[-1].edited_at == datetime(2024, 11, 20, 8, 5, tzinfo=timezone.utc)
    status.update(edited_at="2024-11-20T08:04:00.000Z")  # an older edit than the one published (a stale cache)
    await runner.run_once()
    status.update(edited_at="2024-11-20T08:06:00.000Z")
    await runner.run_once()
    await http.aclose()
    assert len(publisher.ids) == 3 and connector.state["edited"] == {status["id"]: "2024-11-20T08:06:00.000Z"}


def test_streaming_hashtags_without_a_token_is_refused_naming_the_field(tmp_path, monkeypatch):
    entry = {"instance": "m.example", "hashtags": ["x"], "stream": True}
    with pytest.raises(ConnectorConfigError) as info:
        parse_connectors({"mastodon": [entry]})
    assert str(info.value).startswith("<watch>: connectors.mastodon[0].stream: streaming hashtags needs an access token")
    assert "token_env" in str(info.value)
    assert parse_connectors({"mastodon": [{**entry, "token_env": "LYTTER_TEST_MASTODON_TOKEN"}]}).mastodon[0].stream
    assert not parse_connectors({"mastodon": [{"instance": "m.example", "search": ["x"], "stream": True}]}).mastodon[0].hashtags
    path = tmp_path / "watch.yaml"
    path.write_text("connectors:\n  mastodon:\n    - instance: m.example\n      hashtags: [x]\n      stream: true\n")
    with pytest.raises(ConnectorConfigError, match=f"{path}:5: connectors.mastodon\\[0\\].stream: streaming hashtags"):
        load_connectors(path)
    from streams.cli import app

    result = CliRunner().invoke(app, ["ingest", "mastodon", "m.example", "--tag", "x", "--stream"], terminal_width=200)
    assert result.exit_code == 1 and "--stream" in result.output and "token" in result.output


async def test_an_empty_first_page_of_a_hashtag_warns_once_with_a_hint(instance, caplog):
    http = SourceHttp(policy=RetryPolicy(max_attempts=2), sleep=RecordingSleep())
    connector = _connector(instance, hashtag="slukket")
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        assert await connector.poll_once(http) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "#slukket" in warnings[0] and instance.url in warnings[0]
    assert "disabled" in warnings[0] and "token_env" in warnings[0]
    caplog.clear()
    await _connector(instance, hashtag=None, search="slukket").poll_once(http)  # an empty search is no sign of anything
    _posts(instance, 1, tag="lys")
    await _connector(instance, hashtag="lys").poll_once(http)
    await http.aclose()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
