"""An edit and a delete on each source, end to end on the real services (issue 15's acceptance).

Each connector runs its real fetch or stream path, as ``lytter ingest run`` (``run_agents``) or
``lytter ingest push`` (``push.serve``) runs it, against the conformance suite's scripted server
(``tests/streams/sources/conformance/server.py``) serving the suite's fixtures, into Kafka, through one
real worker, into Elasticsearch. What a source reports on a later read:

* Mastodon: a REST re-poll with an edited status (``edited_at``), then the streaming API's ``update``,
  ``status.update`` and, after a restart from the checkpoint, ``delete``.
* Bluesky: Jetstream ``update`` and ``delete`` commits, after a restart from the checkpoint.
* Reddit: the re-poll of ``/new`` with an edited post (``edited``), ``[deleted]`` and ``[removed]`` ones.
* Push: the same id again with ``edited_at`` on ``POST /mentions``, then the review's deletion on
  ``POST /deletions``.
* RSS/Atom: an entry whose content changed with a newer ``<updated>`` is published again as an edit (same
  id, ``edited_at``); an entry that vanished from the feed is no deletion (its document stays as it was).

One worker for all sources: starting one costs more than all the rest here. The sentiment model is off
(as in the other integration tests): the edit's recomputed brands and text are checked, not its score.
The brands are one per source, so that each source's publication minutes make up its brands' windows.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime

import httpx
import pytest
import yaml

from streams.alerting.windows import window_start
from streams.sinks.elasticsearch import sync_client
from streams.sources.agent import run_agents
from streams.sources.base import TokenBucket
from streams.sources.connectors.bluesky import BlueskyConnector, mention_id
from streams.sources.connectors.mastodon import MastodonConnector
from streams.sources.connectors.reddit import RedditConnector
from streams.sources.connectors.rss import RssConnector
from streams.sources.push import create_app, serve
from streams.sources.runner import KafkaPublisher
from tests.integration.conftest import free_port
from tests.integration.helpers import drained, indexed_count, indexed_docs, wait_for
from tests.streams.sources.conformance.server import Reply, ScriptedServer, Session, fixture_json, fixture_text, jsonl

pytestmark = pytest.mark.integration

BRANDS = {
    "Nordlys Mastodon": "nordlys* AND source:mastodon",
    "Fjordbank Bluesky": "fjordbank* AND source:bluesky",
    "Nordlys Reddit": '"Nordlys Energi*" AND source:reddit',
    "Nordlys Push": '"Nordlys Energi*" AND source:trustpilot',
    "Fjordbank Push": "fjordbank* AND source:trustpilot",
    "Nordlys Blog": '"Nordlys Energi*" AND source:blog',  # an RSS feed's mentions are source "blog" by default
}

# -- Mastodon: the suite's timeline pages and streaming session ---------------------------------------------

TAG, STREAM = "/api/v1/timelines/tag/nordlys", "/api/v1/streaming/hashtag"
QUOTE_ID, REPLY_ID, NEW_ID = "115340712293001234", "115340760000000200", "115340790000000300"
MASTODON_REPLY = "mastodon:https://social.example.dk/users/jonas/statuses/115340760000000200"
MASTODON_STREAMED = "mastodon:https://social.example.dk/users/mette/statuses/115340800011112222"


def _links(next_max: str, prev_min: str) -> dict[str, str]:
    return {"Link": f'<@BASE@{TAG}?max_id={next_max}>; rel="next", <@BASE@{TAG}?min_id={prev_min}>; rel="prev"'}


def _forward_page_with_an_edit() -> str:
    """The suite's forward page (a new status, an edit of the quote) and an edit of the reply read on the
    first poll: the same status, ``edited_at`` set, other words (the brand still named)."""
    reply = next(s for s in fixture_json("mastodon/tag_newest.json") if s["id"] == REPLY_ID)
    assert "har hævet prisen" in reply["content"]
    edited = {**reply, "edited_at": "2025-10-09T09:33:10.412Z", "content": reply["content"].replace("har hævet prisen", "har sænket prisen igen, rettelse")}
    return json.dumps([*fixture_json("mastodon/tag_forward.json"), edited])


def _script_mastodon(server: ScriptedServer) -> None:
    server.on(TAG, Reply(fixture="mastodon/tag_newest.json", headers=_links(QUOTE_ID, REPLY_ID)))
    # forward from the newest id read: nothing on the first run; on the next, the page with the edits
    server.on(TAG, Reply(body="[]"), Reply(body=_forward_page_with_an_edit(), headers=_links(QUOTE_ID, NEW_ID)), when={"min_id": REPLY_ID})
    server.on(TAG, Reply(body="[]"), when={"min_id": NEW_ID})
    server.on(f"/api/v1/statuses/{QUOTE_ID}", Reply(fixture="mastodon/quote_status.json"))  # the reply's parent
    # the streaming session in two connections: the new status and its edit; after a restart, the deletes
    sse = fixture_text("mastodon/hashtag_stream.sse")
    cut = sse.index("event: delete")
    server.on(STREAM, Reply(body=sse[:cut], content_type="text/event-stream"), Reply(body=sse[cut:], content_type="text/event-stream"))


def _mastodon(server: ScriptedServer) -> MastodonConnector:
    # the newest page only (no backfill): an older page, read after it, would be late for its windows
    return MastodonConnector(server.url, hashtag="nordlys", stream=True, token="t0ken", overlap_s=0, limiter=TokenBucket(1000, burst=1000))


async def _stream_mastodon_until(settings, server: ScriptedServer, note: str) -> dict:
    """``lytter ingest run`` (not --once) of the streaming connector: REST catch-up, then the stream,
    until a batch with ``note`` was published and its checkpoint saved."""
    stop = asyncio.Event()

    def on_batch(connector, batch, report):
        if batch.note == note:
            stop.set()

    task = asyncio.create_task(run_agents(settings, [_mastodon(server)], stop=stop, on_batch=on_batch, handle_signals=False))
    try:
        await asyncio.wait_for(stop.wait(), 60)
    finally:
        stop.set()
    return await asyncio.wait_for(task, 30)


# -- Bluesky: the suite's Jetstream events, in two connections ---------------------------------------------

BLUESKY_EVENTS = "bluesky/links_edits_deletes.jsonl"
BLUESKY_NOW_S = 1732200020.0  # the fixtures' own time: inside Jetstream's replay window
DELETED_POST = mention_id("did:plc:4uz2445cjiw7w4nobfgnu35f", "3lbqhwz5w2k2a")
EDITED_POST = mention_id("did:plc:q6gjnaw2blty4crticxkmujt", "3lbqhx4ql3s2d")
QUOTING_POST = mention_id("did:plc:4uz2445cjiw7w4nobfgnu35f", "3lbqhxgsvlk2s")


def _script_bluesky(server: ScriptedServer) -> None:
    events = jsonl(BLUESKY_EVENTS)
    operations = [json.loads(e).get("commit", {}).get("operation") for e in events]
    first_update = operations.index("update")
    server.websocket("/subscribe", Session(events[:first_update]), Session(events[first_update:]))


def _bluesky(server: ScriptedServer) -> BlueskyConnector:
    return BlueskyConnector(["fjordbank"], jetstream_url=f"{server.ws_url}/subscribe", batch_s=0.05, idle_s=1.0, clock=lambda: BLUESKY_NOW_S)


# -- Reddit, RSS, push -------------------------------------------------------------------------------------

NEW = "/r/denmark/new.json"
ATOM = "/atom.xml"
ATOM_FIRST = "tag:elpris.example.se,2024-11-21:/2024/11/nordlys-sverige/"
ATOM_SECOND = "tag:elpris.example.se,2024-11-21:/en/2024/11/nordlys-sweden/"
PUSH_TOKEN = "pk_integration_7c1d0e93a5"
REVIEW = "trustpilot:review/6740a1f2c9e77b1d2f4a0b11"


def _script_reddit(server: ScriptedServer) -> None:
    server.on(NEW, Reply(fixture="reddit/new_first_poll.json"), Reply(fixture="reddit/new_second_poll.json"))


def _reddit(server: ScriptedServer) -> RedditConnector:
    return RedditConnector(subreddit="denmark", base_url=server.url, user_agent="lytter-test/0.1 (by u/lytter)", recheck=0, limiter=TokenBucket(1000, burst=1000))


def _script_rss(server: ScriptedServer) -> None:
    # read again later: the first entry rewritten (a newer <updated>), the second gone from the feed
    server.on(ATOM, Reply(fixture="rss/atom_blog.xml", content_type="application/atom+xml"), Reply(fixture="rss/atom_blog_later.xml", content_type="application/atom+xml"))


def _rss(server: ScriptedServer) -> RssConnector:
    return RssConnector(f"{server.url}{ATOM}", limiter=TokenBucket(1000, burst=1000))


async def _push(settings, *requests: tuple[str, list[dict] | dict]) -> list[httpx.Response]:
    """``lytter ingest push``'s endpoint (``push.serve`` on a real socket, publishing to Kafka), one POST a
    (path, body)."""
    port, stop = free_port(), asyncio.Event()
    publisher = KafkaPublisher(settings)
    task = asyncio.create_task(serve(create_app(PUSH_TOKEN, publisher), "127.0.0.1", port, stop))
    answers = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(200):  # until it listens
                try:
                    await client.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            for path, body in requests:
                answers.append(await client.post(path, json=body, headers={"Authorization": f"Bearer {PUSH_TOKEN}"}))
    finally:
        stop.set()
        await task
        await publisher.aclose()
    return answers


def _push_review_and_edit() -> tuple[dict, dict]:
    """The suite's review and its edit; the edit names a second brand too (the brands are recomputed)."""
    review, edit, _reply = fixture_json("push/batch.json")
    assert edit["id"] == review["id"] == REVIEW and edit["edited_at"]
    return review, {**edit, "text": edit["text"] + " Fjordbank var hurtigere."}


# -- what Elasticsearch and the worker's windows hold --------------------------------------------------------


def _copies(settings, mention_id: str) -> int:
    """Documents with this id across the index alias (one per id: an edit replaces, never adds)."""
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        return client.count(index=settings.es_index_prefix, query={"ids": {"values": [mention_id]}})["count"]
    finally:
        client.close()


def _assert_tombstone(doc: dict, source: str) -> None:
    assert doc.get("deleted") is True and doc.get("deleted_at"), doc
    assert doc["text"] == "" and doc.get("title") is None and doc.get("author") is None and doc.get("url") is None and doc.get("raw") is None, doc
    assert doc["source"] == source and doc["published_at"]  # kept for the counts


def _brand_windows(settings) -> dict:
    return httpx.get(f"http://127.0.0.1:{settings.worker_web_port}/lytter/brands/", params={"windows": "all"}, timeout=60).json()


def _check_windows(settings, windows: dict, brand: str, *, all_open: bool, counted_once: tuple[str, ...]) -> int:
    """The brand's open windows each count exactly the documents indexed for it in their minute (ids,
    volume, sentiment labels), none late; each id of ``counted_once`` is in exactly one window, once.
    ``all_open``: every minute with a document of the brand still has its window open (the brand's
    mentions lie within the allowed lateness). Returns the windows checked."""
    stored = windows.get(brand)
    assert stored is not None, f"no windows for {brand} in the worker's brands table: {sorted(windows)}"
    assert stored["late"] == 0, (brand, stored["late"])
    by_minute: dict[float, list[tuple[str, dict]]] = {}
    for mention_id, doc in indexed_docs(settings).items():
        if brand in (doc.get("brands") or []):
            by_minute.setdefault(window_start(datetime.fromisoformat(doc["published_at"])), []).append((mention_id, doc))
    opened = {float(start): window for start, window in stored["windows"].items()}
    if all_open:
        assert set(opened) == set(by_minute), (brand, sorted(opened), sorted(by_minute))
    for start, window in opened.items():
        minute = by_minute.get(start, [])
        assert sorted(window["seen"]) == sorted(i for i, _ in minute), (brand, start, window["seen"])
        labels = Counter(next((b["label"] for b in d.get("brand_sentiment") or [] if b["brand"] == brand), None) for _, d in minute)
        got = (window["volume"], window["negative"], window["neutral"], window["positive"])
        assert got == (len(minute), labels["negative"], labels["neutral"], labels["positive"]), (brand, start, got, labels)
    for mention_id in counted_once:
        assert sum(w["seen"].count(mention_id) for w in opened.values()) == 1, (brand, mention_id, opened)
    return len(opened)


# -- the test ----------------------------------------------------------------------------------------------


def _edited_and_deleted(settings) -> bool:
    docs = indexed_docs(settings)
    return (
        "sænket prisen" in docs[MASTODON_REPLY]["text"] and "1. november" in docs.get(MASTODON_STREAMED, {}).get("text", "")
        and "skifter bank" in docs[EDITED_POST]["text"] and docs[DELETED_POST].get("deleted") is True
        and "Edit: tak for svarene" in docs["reddit:t3_1gvx2ad"]["text"]
        and all(docs[f"reddit:{n}"].get("deleted") for n in ("t3_1gvx2ae", "t3_1gvx2ac", "t3_1gvx2ab"))
        and "Fjordbank var hurtigere" in docs[REVIEW]["text"]
        and "skjuter upp Sverige" in docs[f"rss:{ATOM_FIRST}"]["text"]
    )


def _check_edits_and_deletions(docs: dict, before: dict) -> None:
    # edits: the text changed, the brands were recomputed from it, the publication time and author kept
    for mention_id, brand in ((MASTODON_REPLY, "Nordlys Mastodon"), (EDITED_POST, "Fjordbank Bluesky"), ("reddit:t3_1gvx2ad", "Nordlys Reddit")):
        doc = docs[mention_id]
        assert doc["edited_at"] and doc["brands"] == [brand] and doc["published_at"] == before[mention_id]["published_at"], doc
        assert doc["author"] == before[mention_id]["author"] and not doc.get("deleted"), doc
    assert docs[EDITED_POST]["title"] == "Fjordbank hæver renten for tredje gang i år"  # the card, still the brand's
    assert docs[REVIEW]["edited_at"].startswith("2024-11-22T08:15") and sorted(docs[REVIEW]["brands"]) == ["Fjordbank Push", "Nordlys Push"]
    assert docs[REVIEW]["title"] == "Lang ventetid, men løst" and docs[REVIEW]["engagement"]["likes"] == 5
    # deletions: anonymous tombstones, the brands kept for the counts
    _assert_tombstone(docs[DELETED_POST], "bluesky")
    assert docs[DELETED_POST]["brands"] == ["Fjordbank Bluesky"]
    for name in ("t3_1gvx2ae", "t3_1gvx2ac", "t3_1gvx2ab"):
        _assert_tombstone(docs[f"reddit:{name}"], "reddit")
        assert docs[f"reddit:{name}"]["brands"] == ["Nordlys Reddit"]
    assert docs[QUOTING_POST]["text"] == before[QUOTING_POST]["text"] and not docs[QUOTING_POST].get("deleted")  # another post
    # RSS: the rewritten entry is an edit (its <updated>); the entry gone from the feed stays as it was
    rewritten, first = docs[f"rss:{ATOM_FIRST}"], before[f"rss:{ATOM_FIRST}"]
    assert rewritten["text"] == "Nordlys Energi skjuter upp Sverige till 2026." and rewritten["edited_at"] == "2024-11-22T08:30:00+01:00", rewritten
    assert first.get("edited_at") is None and rewritten["brands"] == ["Nordlys Blog"] and not rewritten.get("deleted")
    assert (rewritten["published_at"], rewritten["author"], rewritten["title"]) == (first["published_at"], first["author"], first["title"])
    assert docs[f"rss:{ATOM_SECOND}"] == before[f"rss:{ATOM_SECOND}"]


def _check_all_windows(settings) -> int:
    """Once the alert stage has read every by-brand record (the edits among them): each brand's windows."""
    wait_for(lambda: drained(settings, settings.topic_by_brand), 60, "the alert stage caught up")
    windows = _brand_windows(settings)
    checked = _check_windows(settings, windows, "Nordlys Mastodon", all_open=False, counted_once=(MASTODON_REPLY, MASTODON_STREAMED))
    checked += _check_windows(settings, windows, "Fjordbank Bluesky", all_open=True, counted_once=(EDITED_POST, DELETED_POST))
    checked += _check_windows(settings, windows, "Nordlys Reddit", all_open=True, counted_once=tuple(f"reddit:t3_1gvx2a{c}" for c in "bcde"))
    checked += _check_windows(settings, windows, "Nordlys Push", all_open=True, counted_once=(REVIEW,))
    checked += _check_windows(settings, windows, "Fjordbank Push", all_open=True, counted_once=(REVIEW,))  # named by the edit only
    checked += _check_windows(settings, windows, "Nordlys Blog", all_open=True, counted_once=(f"rss:{ATOM_FIRST}", f"rss:{ATOM_SECOND}"))
    return checked


async def test_an_edit_and_a_delete_on_each_source_through_kafka_and_the_worker(lytter, worker_factory, tmp_path):
    watch = tmp_path / "watch.yaml"
    watch.write_text(yaml.safe_dump({"brands": [{"name": name, "query": query} for name, query in BRANDS.items()]}))
    settings = lytter.model_copy(update={"watch_file": watch, "ingest_state_dir": tmp_path / "ingest"})
    started = time.monotonic()
    worker = worker_factory(settings)  # starts while the sources are read
    server = await ScriptedServer().start()
    try:
        for script in (_script_mastodon, _script_bluesky, _script_reddit, _script_rss):
            script(server)

        # 1. the first read of every source (`lytter ingest run --once`), and a review pushed
        reports = await run_agents(settings, [_mastodon(server), _bluesky(server), _reddit(server), _rss(server)], once=True, handle_signals=False)
        published = {sid.split(":")[0]: r.published for sid, r in reports.items()}
        assert published == {"mastodon": 3, "bluesky": 3, "reddit": 4, "rss": 2}, reports
        for sid, report in reports.items():  # the scripted Jetstream closes the connection after its events
            assert all("connection closed" in e for e in report.errors) and (sid.startswith("bluesky") or report.ok), (sid, report.errors)
        review, review_edit = _push_review_and_edit()
        (answer,) = await _push(settings, ("/mentions", [review]))
        assert answer.status_code == 202, answer.text
        total = sum(published.values()) + 1
        wait_for(lambda: indexed_count(settings) == total, 150, f"the first {total} mentions indexed", worker)
        before = indexed_docs(settings)
        assert "hævet prisen" in before[MASTODON_REPLY]["text"] and before[f"rss:{ATOM_FIRST}"]["text"].startswith("Nordlys Energi börjar")
        assert before[REVIEW]["brands"] == ["Nordlys Push"] and before[DELETED_POST]["author"] is not None

        # 2. the later reads report the edits and deletions: Bluesky, Reddit, RSS once more from their
        # checkpoints; Mastodon running (REST re-poll, then the stream); the edit pushed
        reports = await run_agents(settings, [_bluesky(server), _reddit(server), _rss(server)], once=True, handle_signals=False)
        later = {sid.split(":")[0]: (r.published, r.deletions) for sid, r in reports.items()}
        assert later == {"bluesky": (1, 1), "reddit": (1, 3), "rss": (1, 0)}, reports  # (edits, deletions)
        (report,) = (await _stream_mastodon_until(settings, server, "stream edit")).values()
        # the forward page: a new status and two edits; the stream: a new status and its edit (its boost, a repeat)
        assert report.published == 5 and report.deletions == 0 and report.ok, report
        (answer,) = await _push(settings, ("/mentions", [review_edit]))
        assert answer.status_code == 202, answer.text
        reported_at = time.monotonic()
        wait_for(lambda: _edited_and_deleted(settings), 90, "the edits and deletions of every source in Elasticsearch", worker)
        honoured_in = time.monotonic() - reported_at
        _check_edits_and_deletions(indexed_docs(settings), before)

        # 3. the review deleted at its source, pushed (POST /deletions); then Mastodon restarted from its
        # checkpoint: the stream's deletes name what it published before
        (deletion,) = fixture_json("push/deletions.json")["deletions"][:1]
        assert deletion["id"] == REVIEW
        (answer,) = await _push(settings, ("/deletions", {"deletions": [deletion]}))
        assert answer.status_code == 202 and answer.json() == {"accepted": [REVIEW], "count": 1}, answer.text
        pushed_at = time.monotonic()
        wait_for(lambda: indexed_docs(settings)[REVIEW].get("deleted") is True, 60, "the pushed deletion honoured", worker)
        push_deleted_in = time.monotonic() - pushed_at
        (report,) = (await _stream_mastodon_until(settings, server, "stream delete")).values()
        assert report.deletions == 1 and report.published == 0 and report.ok, report  # the boost's own id, a status never seen: skipped
        wait_for(lambda: indexed_docs(settings)[MASTODON_STREAMED].get("deleted") is True, 60, "the Mastodon delete honoured", worker)
        docs = indexed_docs(settings)
        _assert_tombstone(docs[MASTODON_STREAMED], "mastodon")
        assert docs[MASTODON_STREAMED]["brands"] == ["Nordlys Mastodon"]
        _assert_tombstone(docs[REVIEW], "trustpilot")  # the edit's brands kept for the counts
        assert sorted(docs[REVIEW]["brands"]) == ["Fjordbank Push", "Nordlys Push"] and docs[REVIEW]["deleted_at"] == "2024-11-23T10:12:40+01:00"

        # one document per id; nothing else was indexed
        expected = set(before) | {MASTODON_STREAMED, f"mastodon:https://social.example.dk/users/jonas/statuses/{NEW_ID}"}
        assert set(docs) == expected, sorted(set(docs) ^ expected)
        assert all(_copies(settings, mention_id) == 1 for mention_id in docs)

        # the windows: each counts what is indexed for its brand and minute, the edited mentions once
        checked = _check_all_windows(settings)
        print(f"edits and deletions of 5 sources: {len(docs)} documents, honoured {honoured_in:.1f}s after the sources reported them, "
              f"the pushed deletion {push_deleted_in:.1f}s after its 202, {checked} brand windows checked, {time.monotonic() - started:.0f}s in all")
        assert honoured_in < 60 and push_deleted_in < 60, (honoured_in, push_deleted_in)
    finally:
        await server.close()
