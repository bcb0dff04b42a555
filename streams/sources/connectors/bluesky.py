"""Bluesky through Jetstream, the JSON firehose over WebSocket (github.com/bluesky-social/jetstream).

``wss://<jetstream>/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>``: every event is a
JSON object ``{"did", "time_us", "kind": "commit"|"identity"|"account", "commit": {"operation": "create",
"collection": "app.bsky.feed.post", "rkey", "cid", "record": {"text", "createdAt", "langs", "reply",
"embed"}}}``. Posts (commit *create* of ``app.bsky.feed.post``) whose text matches one of the keywords
become mentions.

* Cursor: ``time_us`` of the last event read is checkpointed (every ``batch_s`` seconds, matches or not,
  and with every batch of matches), after the batch's mentions are acknowledged. A reconnect resumes at
  ``cursor - rewind_s`` (Jetstream's own advice for gapless playback) and a bounded seen-set of the
  published URIs drops the repeats.
* ``--once`` (``until``): reads until the stream reaches the moment the run began, or until it has been
  idle for ``idle_s``.
* Threading: a reply's ``parent_id`` is the mention id of ``reply.parent.uri``; a quote post
  (``app.bsky.embed.record`` or ``recordWithMedia``) points at the quoted post.

Mention id: ``bluesky:at://<did>/app.bsky.feed.post/<rkey>``. Jetstream carries no handle and no counts:
the author is the DID (with its bsky.app profile URL); engagement stays empty.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

import aiohttp
import typer
from pydantic import Field, field_validator

from streams.schema import Author, Mention
from streams.sources.base import Batch, Connector, SourceError, StreamingConnector, errors_total
from streams.sources.connectors.spec import CliRun, ConnectorConf, http_url
from streams.sources.http import SourceHttp
from streams.sources.text import SeenIds, clip, keyword_pattern, normalize_whitespace, parse_time, stable_id

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
SEEN_MAX = 5000
DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"


# --- pure mapping ------------------------------------------------------------------------------------


class MalformedEvent(ValueError):
    pass


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def _post_uri_or_none(uri: Any) -> str | None:
    """Only ``at://…/app.bsky.feed.post/…`` URIs are posts (an embed may quote a list or a feed)."""
    if isinstance(uri, str) and uri.startswith("at://") and f"/{POST}/" in uri:
        return uri
    return None


def quoted_post(record: Mapping[str, Any]) -> str | None:
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        inner = embed.get("record")
        return _post_uri_or_none(inner.get("uri")) if isinstance(inner, Mapping) else None
    if kind == "app.bsky.embed.recordWithMedia":
        outer = embed.get("record")
        inner = outer.get("record") if isinstance(outer, Mapping) else None
        return _post_uri_or_none(inner.get("uri")) if isinstance(inner, Mapping) else None
    return None


def new_post(event: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]] | None:
    """(did, rkey, record) when the event is the creation of a post, else None."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"an event must be an object, got {type(event).__name__}")
    if event.get("kind") != "commit":
        return None
    commit = event.get("commit")
    if not isinstance(commit, Mapping):
        raise MalformedEvent("commit event without a commit object")
    if commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    did, rkey, record = event.get("did"), commit.get("rkey"), commit.get("record")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise MalformedEvent("commit.did is missing or not a DID")
    if not isinstance(rkey, str) or not rkey:
        raise MalformedEvent("commit.rkey is missing")
    if not isinstance(record, Mapping):
        raise MalformedEvent("commit.record is missing")
    return did, rkey, record


def event_to_mention(event: Mapping[str, Any]) -> Mention | None:
    """A Jetstream event as a mention: None for anything but the creation of a post with text."""
    post = new_post(event)
    if post is None:
        return None
    did, rkey, record = post
    text = normalize_whitespace(record.get("text") if isinstance(record.get("text"), str) else "")
    if not text:
        return None
    time_us = event.get("time_us")
    published = parse_time(record.get("createdAt"))
    if published is None and isinstance(time_us, int):
        published = datetime.fromtimestamp(time_us / 1_000_000, tz=timezone.utc)
    if published is None:
        raise MalformedEvent("record.createdAt is missing and the event has no time_us")
    reply = record.get("reply")
    parent_uri = None
    if isinstance(reply, Mapping) and isinstance(reply.get("parent"), Mapping):
        parent_uri = reply["parent"].get("uri") if isinstance(reply["parent"].get("uri"), str) else None
    quoted = quoted_post(record)
    if parent_uri:
        kind, parent = "reply", stable_id("bluesky", parent_uri)
    elif quoted:
        kind, parent = "quote", stable_id("bluesky", quoted)
    else:
        kind, parent = "post", None
    raw: dict[str, Any] = {"did": did, "rkey": rkey, "time_us": time_us}
    commit = event.get("commit") or {}
    if commit.get("cid"):
        raw["cid"] = commit["cid"]
    if isinstance(record.get("langs"), list):
        raw["langs"] = record["langs"]
    if isinstance(reply, Mapping) and isinstance(reply.get("root"), Mapping) and reply["root"].get("uri"):
        raw["root"] = reply["root"]["uri"]
    return Mention(
        id=stable_id("bluesky", post_uri(did, rkey)),
        source="bluesky",
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        text=text,
        author=Author(handle=clip(did, 512), profile_url=f"https://bsky.app/profile/{did}"),
        published_at=published,
        parent_id=parent,
        kind=kind,  # type: ignore[arg-type]
        raw=raw,
    )


def subscribe_url(base: str, cursor: int | None, collections: tuple[str, ...] = (POST,)) -> str:
    """The Jetstream subscribe URL with ``wantedCollections`` and ``cursor`` (other query params kept)."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query += [("wantedCollections", c) for c in collections]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query), ""))


# --- the connector -------------------------------------------------------------------------------------


class BlueskyConnector(StreamingConnector):
    kind = "bluesky"

    def __init__(
        self,
        keywords: list[str],
        *,
        jetstream_url: str = DEFAULT_JETSTREAM,
        rewind_s: float = 5.0,
        batch_s: float = 1.0,
        batch_max: int = 500,
        idle_s: float = 10.0,
        langs: list[str] | None = None,
        connect_timeout_s: float = 15.0,
    ) -> None:
        pattern = keyword_pattern(keywords)
        if pattern is None:
            raise ValueError("the Bluesky connector needs at least one keyword")
        self.pattern: re.Pattern[str] = pattern
        self.keywords = list(keywords)
        self.jetstream_url = jetstream_url
        host = urlsplit(jetstream_url).netloc or jetstream_url
        super().__init__(f"bluesky:{host}:{'|'.join(sorted(k.casefold() for k in keywords))}", interval_s=0)
        self.rewind_us = int(rewind_s * 1_000_000)
        self.batch_s = batch_s
        self.batch_max = batch_max
        self.idle_s = idle_s
        self.langs = {lang.lower() for lang in langs} if langs else None
        self.connect_timeout_s = connect_timeout_s

    def matches(self, mention: Mention, event: Mapping[str, Any]) -> bool:
        if self.langs is not None:
            record = (event.get("commit") or {}).get("record") or {}
            langs = record.get("langs") if isinstance(record, Mapping) else None
            if isinstance(langs, list) and langs and not any(str(lang).lower().split("-")[0] in self.langs for lang in langs):
                return False
        return bool(self.pattern.search(mention.text))

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        return
        yield  # pragma: no cover  (an async generator that yields nothing: Jetstream has no REST catch-up)

    async def stream(self, http: SourceHttp, *, until: datetime | None = None) -> AsyncIterator[Batch]:
        committed = dict(self.state)
        cursor = committed.get("cursor")
        start = max(0, int(cursor) - self.rewind_us) if isinstance(cursor, int) else None
        url = subscribe_url(self.jetstream_url, start)
        until_us = int(until.timestamp() * 1_000_000) if until is not None else None
        seen = SeenIds(committed.get("seen", []), SEEN_MAX)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s, sock_connect=self.connect_timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.ws_connect(url, heartbeat=30.0, max_msg_size=8 * 1024 * 1024, autoping=True) as ws:
                    log.info("%s: connected to %s", self.source_id, url)
                    async for batch in self._read(ws, url, seen, committed, until_us):
                        yield batch
        except aiohttp.WSServerHandshakeError as exc:
            errors_total.labels(self.source_id).inc()
            raise SourceError(
                self.source_id,
                url,
                f"the WebSocket handshake was refused (HTTP {exc.status} {exc.message})",
                "Check jetstream_url (e.g. wss://jetstream2.us-east.bsky.network/subscribe)",
                retryable=exc.status >= 500 or exc.status == 429,
                status=exc.status,
            ) from None
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError) as exc:
            errors_total.labels(self.source_id).inc()
            raise SourceError(
                self.source_id,
                url,
                f"cannot reach Jetstream ({type(exc).__name__}: {exc or 'no detail'})",
                "Check jetstream_url and that the host is reachable; the runner reconnects from the checkpoint",
                retryable=True,
            ) from None

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, url: str, seen: SeenIds, committed: dict, until_us: int | None) -> AsyncIterator[Batch]:
        pending: list[Mention] = []
        fetched = 0
        cursor = committed.get("cursor")
        last_flush = time.monotonic()
        last_event = time.monotonic()

        def batch(note: str) -> Batch:
            nonlocal pending, fetched, last_flush
            state = {**committed, "cursor": cursor, "seen": seen.to_list()}
            out = Batch(pending, state, fetched, note)
            pending, fetched, last_flush = [], 0, time.monotonic()
            committed.update(state)
            return out

        while True:
            wait = self.batch_s - (time.monotonic() - last_flush)
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=max(0.05, wait))
            except asyncio.TimeoutError:
                if pending or (fetched and cursor != committed.get("cursor")):
                    yield batch("stream")
                else:
                    last_flush = time.monotonic()
                if until_us is not None and time.monotonic() - last_event >= self.idle_s:
                    log.info("%s: no events for %.0fs; caught up", self.source_id, self.idle_s)
                    return
                continue
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                if pending or fetched:
                    yield batch("stream (before the connection closed)")
                detail = ws.exception() or f"close code {ws.close_code}"
                errors_total.labels(self.source_id).inc()
                raise SourceError(self.source_id, url, f"the Jetstream connection closed ({detail})", "Reconnecting from the checkpoint", retryable=True)
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                continue
            last_event = time.monotonic()
            try:
                event = json.loads(msg.data)
            except ValueError:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: a message that is not JSON (compression on? it must be off): %.80r", self.source_id, msg.data)
                continue
            time_us = event.get("time_us") if isinstance(event, dict) else None
            if not isinstance(time_us, int):
                errors_total.labels(self.source_id).inc()
                log.warning("%s: an event without time_us: %.120r", self.source_id, msg.data)
                continue
            if until_us is not None and time_us >= until_us:
                cursor = max(cursor or 0, until_us - 1)  # everything before the run began was read
                yield batch("caught up")
                return
            fetched += 1
            try:
                mention = event_to_mention(event)
            except MalformedEvent as exc:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: skipping a malformed event: %s", self.source_id, exc)
                mention = None
            cursor = max(cursor or 0, time_us)
            if mention is not None and mention.id not in seen and self.matches(mention, event):
                seen.add(mention.id)
                pending.append(mention)
            if len(pending) >= self.batch_max or time.monotonic() - last_flush >= self.batch_s:
                yield batch("stream")


# --- `connectors.bluesky` in the watch file, the connectors it describes, `lytter ingest bluesky` ----------


class BlueskyConf(ConnectorConf):
    keywords: list[str] = Field(min_length=1, description="Posts whose text contains one of these (at a word start, any case)")
    jetstream_url: str = Field("wss://jetstream2.us-east.bsky.network/subscribe", description="Jetstream subscribe URL")
    langs: list[str] = Field(default_factory=list, description="Only posts tagged with one of these languages (empty: all)")
    rewind_s: float = Field(5.0, ge=0, le=3600, description="On reconnect, replay this much before the checkpoint (repeats are dropped)")
    batch_s: float = Field(1.0, gt=0, le=60, description="Publish and checkpoint at least this often")

    @field_validator("jetstream_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        return http_url(value, ("ws", "wss"))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if not all(k.strip() for k in value):
            raise ValueError("keywords must not be empty")
        return [k.strip() for k in value]


def bluesky_connectors(entries: list[BlueskyConf], *, where: str = "connectors.bluesky") -> list[Connector]:
    return [
        BlueskyConnector(e.keywords, jetstream_url=e.jetstream_url, rewind_s=e.rewind_s, batch_s=e.batch_s, langs=e.langs or None)
        for e in entries
    ]


def bluesky_command(
    keywords: list[str] = typer.Argument(..., help="Keywords or phrases; a post matches when its text contains one (at a word start, any case)."),
    jetstream_url: str = typer.Option("wss://jetstream2.us-east.bsky.network/subscribe", help="Jetstream subscribe URL."),
    follow: bool = typer.Option(True, "--follow/--once", help="Keep listening (default), or read from the checkpoint up to now and exit."),
    lang: list[str] = typer.Option(None, "--lang", help="Only posts tagged with this language (da, nb, sv, en, ...); repeatable."),
) -> CliRun:
    """Listen to the Bluesky firehose (Jetstream) for posts with the keywords and publish them to Kafka.

    The cursor (time_us) is checkpointed: a restart resumes a few seconds before it, without duplicates.
    """
    return CliRun(entries=lambda: [BlueskyConf(keywords=keywords, jetstream_url=jetstream_url, langs=lang or [])], once=not follow)


BLUESKY_EXAMPLE = """\
bluesky:
  - keywords: [lego, "lego group"]
"""
