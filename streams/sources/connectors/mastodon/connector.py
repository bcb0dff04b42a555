"""The Mastodon connector: REST catch-up and the streaming API (server-sent events)."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any, AsyncIterator, Mapping
from urllib.parse import quote


from streams.schema import Deletion, Mention
from streams.sources.base import Batch, SourceError, StreamingConnector, TokenBucket, errors_total
from streams.sources.http import SourceHttp, malformed, parse_link_header
from streams.sources.text import SeenIds, parse_time, stable_id

log = logging.getLogger(__name__)

SEEN_MAX = 2000
#: status id -> uri of the latest statuses a *streaming* connector published, kept in its checkpoint so that a
#: ``delete`` event (which carries only the id) can name the mention after a restart too
URIS_MAX = 1000


from streams.sources.connectors.mastodon.mapping import (  # noqa: F401 (re-exported names)
    MalformedStatus,
    _count,
    account_handle,
    host_of,
    id_key,
    instance_base,
    link_param,
    newest,
    quoted_uri,
    snowflake_at,
    snowflake_seconds,
    status_to_mention,
)

# --- server-sent events ------------------------------------------------------------------------------


class SSEDecoder:
    """The text/event-stream format (WHATWG): ``event:``/``data:``/``id:`` fields, a blank line dispatches,
    ``:`` lines are comments (Mastodon's heart-beats). Feed it lines without their newline."""

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []
        self.last_id: str | None = None

    def feed(self, line: str) -> tuple[str, str] | None:
        if line == "":
            if not self.data:
                self.event = ""
                return None
            event = (self.event or "message", "\n".join(self.data))
            self.event, self.data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        elif name == "id":
            self.last_id = value
        return None


# --- what a connector has seen -------------------------------------------------------------------------


class _Seen:
    """The checkpoint's memory of published statuses: ``seen`` (bounded ids, drops repeats of the overlap),
    ``edited`` (id -> the ``edited_at`` last published, for the statuses that have one: a seen status edited
    since passes again, as an edit) and, for streaming connectors, ``uris`` (id -> uri, for deletions)."""

    def __init__(self, state: Mapping[str, Any], *, keep_uris: bool = False) -> None:
        self.ids = SeenIds(state.get("seen", []), SEEN_MAX)
        self.edited: OrderedDict[str, str] = OrderedDict(_str_map(state.get("edited")))
        self.keep_uris = keep_uris
        self.uris: OrderedDict[str, str] = OrderedDict(_str_map(state.get("uris")) if keep_uris else {})

    def is_new(self, status_id: str, edited_at: str | None) -> bool:
        if status_id not in self.ids:
            return True
        if edited_at is None:
            return False
        last = self.edited.get(status_id)
        if last is None:
            return True
        new_time, last_time = parse_time(edited_at), parse_time(last)
        return new_time > last_time if new_time and last_time else edited_at != last

    def add(self, status_id: str, edited_at: str | None, uri: str | None) -> None:
        self.ids.add(status_id)
        if edited_at is not None:
            _bounded_put(self.edited, status_id, edited_at, SEEN_MAX)
        if uri and self.keep_uris:
            _bounded_put(self.uris, status_id, uri, URIS_MAX)

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seen": self.ids.to_list(), "edited": dict(self.edited)}
        if self.keep_uris:
            out["uris"] = dict(self.uris)
        return out


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _bounded_put(items: "OrderedDict[str, str]", key: str, value: str, maxlen: int) -> None:
    items[key] = value
    items.move_to_end(key)
    while len(items) > maxlen:
        items.popitem(last=False)


def _edited_at(status: Mapping[str, Any]) -> str | None:
    value = status.get("edited_at")
    return value if isinstance(value, str) and value else None


# --- the connector -------------------------------------------------------------------------------------


class MastodonConnector(StreamingConnector):
    """One hashtag timeline or one search query on one instance."""

    kind = "mastodon"

    def __init__(
        self,
        instance: str,
        *,
        hashtag: str | None = None,
        search: str | None = None,
        stream: bool = False,
        streaming_url: str | None = None,
        interval_s: float = 60.0,
        limit: int = 40,
        backfill_pages: int = 1,
        overlap_s: float = 300.0,
        token: str | None = None,
        resolve_parents: bool = True,
        limiter: TokenBucket | None = None,
        parent_cache: "OrderedDict[str, str | None] | None" = None,
    ) -> None:
        if (hashtag is None) == (search is None):
            raise ValueError("a Mastodon connector reads either one hashtag or one search query")
        self.base = instance_base(instance)
        self.host = host_of(self.base)
        self.hashtag = hashtag.lstrip("#") if hashtag else None
        self.search = search
        what = f"tag:{self.hashtag}" if self.hashtag else f"search:{search}"
        super().__init__(f"mastodon:{self.host}:{what}", interval_s=interval_s)
        self.streaming = bool(stream and self.hashtag)
        self.streaming_url = (streaming_url or self.base).rstrip("/")
        self.limit = max(1, min(40, limit))
        self.backfill_pages = backfill_pages
        self.overlap_s = overlap_s
        self._token = token
        self.resolve_parents = resolve_parents
        self.limiter = limiter or TokenBucket(1.0, burst=5)
        # local status id -> uri (shared by the connectors of one instance; not checkpointed: a cache)
        self.parent_cache: OrderedDict[str, str | None] = parent_cache if parent_cache is not None else OrderedDict()
        self._warned_empty = False

    @property
    def streams(self) -> bool:
        return self.streaming

    def __repr__(self) -> str:  # never shows the token
        return f"<MastodonConnector {self.source_id}>"

    @property
    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    # -- REST ----------------------------------------------------------------------------------------

    async def _page(self, http: SourceHttp, **params: str) -> tuple[list[dict], dict[str, str]]:
        """One page of statuses (newest first) and the Link relations."""
        query: dict[str, Any] = {"limit": self.limit, **params}
        if self.hashtag:
            url = f"{self.base}/api/v1/timelines/tag/{quote(self.hashtag, safe='')}"
        else:
            url = f"{self.base}/api/v2/search"
            query.update(q=self.search, type="statuses", resolve="false")
        data, response = await http.get_json(self.source_id, url, params=query, headers=self._headers, limiter=self.limiter)
        if self.search is not None:
            if not isinstance(data, dict) or not isinstance(data.get("statuses"), list):
                raise malformed(self.source_id, response, "a search result must be an object with a 'statuses' list")
            statuses = data["statuses"]
        else:
            if not isinstance(data, list):
                raise malformed(self.source_id, response, f"a timeline must be a JSON list of statuses, got {type(data).__name__}")
            statuses = data
        return statuses, parse_link_header(response.headers.get("link"))

    async def _parent_uri(self, http: SourceHttp, status: Mapping[str, Any]) -> str | None:
        parent_id = status.get("in_reply_to_id")
        if not parent_id:
            return None
        parent_id = str(parent_id)
        if parent_id in self.parent_cache:
            return self.parent_cache[parent_id]
        if not self.resolve_parents:
            return None
        uri: str | None = None
        try:
            data, _ = await http.get_json(
                self.source_id, f"{self.base}/api/v1/statuses/{quote(parent_id, safe='')}", headers=self._headers, limiter=self.limiter
            )
            uri = data.get("uri") if isinstance(data, dict) else None
        except SourceError as exc:
            if exc.retryable:
                raise
            log.info("%s: the parent %s of a reply cannot be read (%s); the reply is kept without parent", self.source_id, parent_id, exc.problem)
        self._remember(parent_id, uri)
        return uri

    def _remember(self, status_id: str, uri: str | None) -> None:
        self.parent_cache[status_id] = uri
        self.parent_cache.move_to_end(status_id)
        while len(self.parent_cache) > 10_000:
            self.parent_cache.popitem(last=False)

    async def _map(self, http: SourceHttp, statuses: list, seen: _Seen) -> list[Mention]:
        mentions: list[Mention] = []
        for status in statuses:
            inner = status.get("reblog") if isinstance(status, dict) and isinstance(status.get("reblog"), dict) else status
            try:
                if not isinstance(inner, dict) or not inner.get("id"):
                    raise MalformedStatus("status.id is missing")
                status_id, edited_at = str(inner["id"]), _edited_at(inner)
                if inner.get("uri"):
                    self._remember(status_id, str(inner["uri"]))
                if not seen.is_new(status_id, edited_at):
                    continue
                mention = status_to_mention(inner, instance=self.base, parent_uri=await self._parent_uri(http, inner))
            except MalformedStatus as exc:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: skipping a malformed status from %s: %s", self.source_id, self.base, exc)
                continue
            seen.add(status_id, edited_at, str(inner["uri"]) if mention is not None else None)
            if mention is not None:
                mentions.append(mention)
        return mentions

    def _ids(self, statuses: list) -> list[str]:
        return [str(s["id"]) for s in statuses if isinstance(s, dict) and s.get("id")]

    def _seen(self, state: Mapping[str, Any]) -> _Seen:
        return _Seen(state, keep_uris=self.streaming)

    def _state(self, state: Mapping[str, Any], seen: _Seen, **changes: Any) -> dict[str, Any]:
        out = dict(state)
        out.update(seen.dump())
        out.update(changes)
        return out

    def _forward_start(self, min_id: str) -> str:
        seconds = snowflake_seconds(min_id)
        if not self.overlap_s or seconds is None:
            return min_id
        return min(min_id, snowflake_at(seconds - self.overlap_s), key=id_key)

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        state = dict(self.state)
        seen = self._seen(state)

        # first run: the newest page, then (backfill) older ones
        if not state.get("min_id"):
            statuses, links = await self._page(http)
            ids = self._ids(statuses)
            mentions = await self._map(http, statuses, seen)
            backfill = None
            if ids and self.backfill_pages > 1:
                backfill = {"max_id": min(ids, key=id_key), "left": self.backfill_pages - 1}
            if not ids:  # nothing yet: the next poll asks for the newest page again
                self._warn_empty()
                yield Batch(mentions, self._state(state, seen), len(statuses), "no statuses yet")
                return
            state = self._state(state, seen, min_id=newest(ids), backfill=backfill)
            yield Batch(mentions, state, len(statuses), "newest page")

        while state.get("backfill"):
            backfill = state["backfill"]
            statuses, links = await self._page(http, max_id=backfill["max_id"])
            ids = self._ids(statuses)
            mentions = await self._map(http, statuses, seen)
            left = int(backfill["left"]) - 1
            more = ids and left > 0 and (links.get("next") or self.search is not None)
            older = link_param(links, "next", "max_id") or (min(ids, key=id_key) if ids else None)
            state = self._state(state, seen, backfill={"max_id": older, "left": left} if more else None)
            yield Batch(mentions, state, len(statuses), "older page")

        # forward from the checkpoint, page by page, to the newest
        cursor = self._forward_start(state["min_id"])
        pages = 0
        while True:
            statuses, links = await self._page(http, min_id=cursor)
            ids = self._ids(statuses)
            if not ids:
                if statuses:
                    raise malformed(self.source_id, f"{self.base}", "statuses without ids")
                break
            pages += 1
            mentions = await self._map(http, statuses, seen)
            top = newest(ids)
            state = self._state(state, seen, min_id=newest([state["min_id"], top]))
            yield Batch(mentions, state, len(statuses), f"page {pages}")
            # the rel="prev" Link names the next newer page (min_id=<newest on this page>); search has no Link
            cursor = link_param(links, "prev", "min_id") or top

    # -- streaming -------------------------------------------------------------------------------------

    async def stream(self, http: SourceHttp, *, until: datetime | None = None) -> AsyncIterator[Batch]:
        if not self.streaming or until is not None:
            return  # a one-off run reads with poll(); nothing to stream
        url = f"{self.streaming_url}/api/v1/streaming/hashtag"
        headers = {**self._headers, "Accept": "text/event-stream"}
        async with http.stream(self.source_id, url, params={"tag": self.hashtag}, headers=headers, limiter=self.limiter) as response:
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                raise SourceError(
                    self.source_id,
                    str(response.url),
                    f"the streaming endpoint answered {content_type or 'no content type'}, not text/event-stream",
                    "Check streaming_url (the instance's configuration.urls.streaming) and that streaming needs no other token",
                )
            log.info("%s: streaming from %s", self.source_id, response.url)
            # catch up *after* the stream is open: anything posted meanwhile is either read here or arrives
            # on the stream (and is then dropped as seen)
            async for batch in self.poll(http):
                yield batch
            decoder = SSEDecoder()
            async for line in response.aiter_lines():
                event = decoder.feed(line.rstrip("\r"))
                batch = await self._on_event(http, *event) if event is not None else None
                if batch is not None:
                    yield batch

    async def _on_event(self, http: SourceHttp, name: str, data: str) -> Batch | None:
        """One server-sent event as a batch: ``update`` (a new status), ``status.update`` (an edit: the same
        mention again, with ``edited_at``), ``delete`` (a ``Deletion``); None for the rest and for repeats."""
        if name == "delete":
            return self._deletion(data)
        if name not in ("update", "status.update"):
            return None
        try:
            status = json.loads(data)
        except ValueError:
            errors_total.labels(self.source_id).inc()
            log.warning("%s: a %s event that is not JSON: %.120r", self.source_id, name, data)
            return None
        state = dict(self.state)
        seen = self._seen(state)
        mentions = await self._map(http, [status], seen)
        ids = self._ids([status])
        state = self._state(state, seen, min_id=newest([state.get("min_id"), *ids]))
        return Batch(mentions, state, 1, "stream edit" if name == "status.update" else "stream")

    def _deletion(self, data: str) -> Batch | None:
        """A ``delete`` event carries only the local status id: the mention is named from the statuses this
        connector (or a sibling on the same instance) has seen; an unknown one is skipped."""
        status_id = data.strip().strip('"')
        state = dict(self.state)
        seen = self._seen(state)
        uri = seen.uris.pop(status_id, None) or self.parent_cache.get(status_id)
        if not status_id or not uri:
            log.debug("%s: a delete event for status %r, which was not seen here; skipped", self.source_id, status_id)
            return None
        deletion = Deletion(id=stable_id("mastodon", uri), source="mastodon", reason="deleted")
        return Batch([], self._state(state, seen), 1, "stream delete", deletions=[deletion])

    def _warn_empty(self) -> None:
        """A hashtag timeline the instance has switched off answers ``[]`` forever: say so, once."""
        if self._warned_empty or self.hashtag is None:
            return
        self._warned_empty = True
        log.warning(
            "%s: the first read of #%s on %s returned no statuses. Either nobody there has posted with the tag "
            "yet, or the instance does not serve this hashtag timeline (timeline disabled for visitors since "
            "Mastodon 4.3: give a token with token_env, or read another instance)",
            self.source_id,
            self.hashtag,
            self.base,
        )
