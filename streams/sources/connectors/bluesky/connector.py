"""The Jetstream connector: the WebSocket, the keyword filter, the cursor and its replay window."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp

from streams.schema import Deletion, Mention
from streams.sources.base import Batch, SourceError, StreamingConnector, errors_total
from streams.sources.connectors.bluesky.mapping import MalformedEvent, account_gone, event_time, event_to_deletion, event_to_mention, mention_id, subscribe_url
from streams.sources.http import SourceHttp
from streams.sources.text import SeenIds, keyword_pattern

log = logging.getLogger(__name__)

SEEN_MAX = 5000
DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
#: How far back Jetstream replays: "Replay is bounded to the most recent 36h by default — older cursors
#: clamp to the floor" (the Jetstream subscribe docs). A checkpoint older than that has a gap.
MAX_REPLAY_S = 36 * 3600.0


def _iso(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1_000_000, tz=timezone.utc).isoformat(timespec="seconds")


class _Window:
    """What was read since the last batch: the matches, the deletions, the count and the cursor."""

    def __init__(self, committed: dict[str, Any], seen: SeenIds) -> None:
        self.committed = committed
        self.seen = seen
        self.cursor: int | None = committed.get("cursor")
        self.mentions: list[Mention] = []
        self.deletions: list[Deletion] = []
        self.fetched = 0
        self.last_flush = time.monotonic()

    @property
    def pending(self) -> bool:
        return bool(self.mentions or self.deletions)

    def moved(self) -> bool:
        return self.pending or bool(self.fetched and self.cursor != self.committed.get("cursor"))

    def batch(self, note: str) -> Batch:
        state = {**self.committed, "cursor": self.cursor, "seen": self.seen.to_list()}
        out = Batch(self.mentions, state, self.fetched, note, deletions=self.deletions)
        self.mentions, self.deletions, self.fetched, self.last_flush = [], [], 0, time.monotonic()
        self.committed.update(state)
        return out


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
        max_replay_s: float | None = MAX_REPLAY_S,
        clock: Callable[[], float] = time.time,
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
        self.max_replay_us = int(max_replay_s * 1_000_000) if max_replay_s else None
        self.clock = clock

    def matches(self, mention: Mention, event: Mapping[str, Any]) -> bool:
        """The keywords in the text (with its full link URLs and link card) or the card's title; and, with
        ``langs``, a post tagged with one of them (untagged posts pass)."""
        if self.langs is not None:
            record = (event.get("commit") or {}).get("record") or {}
            langs = record.get("langs") if isinstance(record, Mapping) else None
            if isinstance(langs, list) and langs and not any(str(lang).lower().split("-")[0] in self.langs for lang in langs):
                return False
        return bool(self.pattern.search(mention.text) or (mention.title and self.pattern.search(mention.title)))

    def start_cursor(self, cursor: Any) -> int | None:
        """Where to resume: ``rewind_s`` before the checkpointed ``time_us`` (None: live). A checkpoint older
        than Jetstream's replay window (``max_replay_s``) cannot be replayed (Jetstream clamps it to its
        oldest event): the gap is logged, and the stream starts at the oldest moment it still has."""
        if not isinstance(cursor, int) or isinstance(cursor, bool):
            return None
        start = max(0, cursor - self.rewind_us)
        if self.max_replay_us is None:
            return start
        floor = int(self.clock() * 1_000_000) - self.max_replay_us
        if start >= floor:
            return start
        log.warning(
            "%s: the checkpoint (cursor %d, %s) is older than Jetstream's replay window (%.0f h): the events from %s to %s "
            "were missed (a gap of %.1f h) and cannot be read again; resuming from %s",
            self.source_id, cursor, _iso(cursor), self.max_replay_us / 3.6e9, _iso(start), _iso(floor), (floor - start) / 3.6e9, _iso(floor),
        )
        return floor

    def accept(self, event: Mapping[str, Any], seen: SeenIds) -> Mention | Deletion | None:
        """What an event adds to the batch: the deletion of a post this connector published (among the
        last ``SEEN_MAX``: the firehose deletes far more posts than any watch matched, and every one of
        them on ``mentions.deletions`` would be a flood), a matching new post, or an edit of a post that
        matches or was published; None for the rest and for repeats (a reconnect's rewind)."""
        deletion = event_to_deletion(event)
        if deletion is not None:
            key = f"{deletion.id}#deleted"
            if key in seen or deletion.id not in seen:
                return None
            seen.add(key)
            return deletion
        mention = event_to_mention(event)
        if mention is None:
            return None
        if mention.edited_at is None:
            if mention.id in seen or not self.matches(mention, event):
                return None
            seen.add(mention.id)
            return mention
        key = f"{mention.id}#{(event.get('commit') or {}).get('cid') or event.get('time_us')}"
        if key in seen or not (mention.id in seen or self.matches(mention, event)):
            return None
        seen.add(mention.id)
        seen.add(key)
        return mention

    def account_deletions(self, event: Mapping[str, Any], seen: SeenIds) -> list[Deletion]:
        """An account deleted (or taken down): a ``Deletion`` of each of its posts this connector published
        and still remembers (the seen-set holds the last ``SEEN_MAX`` ids: older posts of the account are
        not named, a limit documented in README), each once."""
        gone = account_gone(event)
        if gone is None:
            return []
        did, reason = gone
        prefix = mention_id(did, "")
        when = event_time(event.get("time_us")) or datetime.now(timezone.utc)
        deletions: list[Deletion] = []
        for item in seen:
            if item.startswith(prefix) and "#" not in item and f"{item}#deleted" not in seen:
                seen.add(f"{item}#deleted")
                deletions.append(Deletion(id=item, source="bluesky", deleted_at=when, reason=reason))  # type: ignore[arg-type]
        if deletions:
            log.info("%s: account %s is %s: %d of its posts published here are deleted", self.source_id, did, reason, len(deletions))
        return deletions

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        return
        yield  # pragma: no cover  (an async generator that yields nothing: Jetstream has no REST catch-up)

    async def stream(self, http: SourceHttp, *, until: datetime | None = None) -> AsyncIterator[Batch]:
        committed = dict(self.state)
        url = subscribe_url(self.jetstream_url, self.start_cursor(committed.get("cursor")))
        until_us = int(until.timestamp() * 1_000_000) if until is not None else None
        window = _Window(committed, SeenIds(committed.get("seen", []), SEEN_MAX))
        timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s, sock_connect=self.connect_timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.ws_connect(url, heartbeat=30.0, max_msg_size=8 * 1024 * 1024, autoping=True) as ws:
                    log.info("%s: connected to %s", self.source_id, url)
                    async for batch in self._read(ws, url, window, until_us):
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

    def _decode(self, data: Any) -> dict | None:
        """A message as an event with a ``time_us``; None (counted, logged) for anything else."""
        try:
            event = json.loads(data)
        except ValueError:
            errors_total.labels(self.source_id).inc()
            log.warning("%s: a message that is not JSON (compression on? it must be off): %.80r", self.source_id, data)
            return None
        time_us = event.get("time_us") if isinstance(event, dict) else None
        if not isinstance(time_us, int):
            errors_total.labels(self.source_id).inc()
            log.warning("%s: an event without time_us: %.120r", self.source_id, data)
            return None
        return event

    def _take(self, event: dict, window: _Window) -> None:
        window.fetched += 1
        window.deletions.extend(self.account_deletions(event, window.seen))
        try:
            item = self.accept(event, window.seen)
        except MalformedEvent as exc:
            errors_total.labels(self.source_id).inc()
            log.warning("%s: skipping a malformed event: %s", self.source_id, exc)
            item = None
        window.cursor = max(window.cursor or 0, event["time_us"])
        if isinstance(item, Deletion):
            window.deletions.append(item)
        elif item is not None:
            window.mentions.append(item)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, url: str, window: _Window, until_us: int | None) -> AsyncIterator[Batch]:
        last_event = time.monotonic()
        while True:
            wait = self.batch_s - (time.monotonic() - window.last_flush)
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=max(0.05, wait))
            except asyncio.TimeoutError:
                if window.moved():
                    yield window.batch("stream")
                else:
                    window.last_flush = time.monotonic()
                if until_us is not None and time.monotonic() - last_event >= self.idle_s:
                    log.info("%s: no events for %.0fs; caught up", self.source_id, self.idle_s)
                    return
                continue
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                if window.pending or window.fetched:
                    yield window.batch("stream (before the connection closed)")
                detail = ws.exception() or f"close code {ws.close_code}"
                errors_total.labels(self.source_id).inc()
                raise SourceError(self.source_id, url, f"the Jetstream connection closed ({detail})", "Reconnecting from the checkpoint", retryable=True)
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                continue
            last_event = time.monotonic()
            event = self._decode(msg.data)
            if event is None:
                continue
            if until_us is not None and event["time_us"] >= until_us:
                window.cursor = max(window.cursor or 0, until_us - 1)  # everything before the run began was read
                yield window.batch("caught up")
                return
            self._take(event, window)
            if len(window.mentions) + len(window.deletions) >= self.batch_max or time.monotonic() - window.last_flush >= self.batch_s:
                yield window.batch("stream")
