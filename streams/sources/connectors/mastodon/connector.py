"""The Mastodon connector: REST catch-up and the streaming API (server-sent events)."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any, AsyncIterator, Iterable, Mapping
from urllib.parse import parse_qs, quote, urlsplit

import typer
from pydantic import Field, field_validator, model_validator

from streams.schema import Author, Engagement, Mention
from streams.sources.base import Batch, Connector, SourceError, StreamingConnector, TokenBucket, errors_total
from streams.sources.connectors.spec import CliRun, ConnectorConf, env_name, http_url, secret
from streams.sources.http import SourceHttp, malformed, parse_link_header
from streams.sources.text import SeenIds, clip, html_to_text, parse_time, stable_id

log = logging.getLogger(__name__)

SEEN_MAX = 2000


from streams.sources.connectors.mastodon.mapping import *  # noqa: F403
from streams.sources.connectors.mastodon.mapping import _count

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

    async def _map(self, http: SourceHttp, statuses: list, seen: SeenIds) -> list[Mention]:
        mentions: list[Mention] = []
        for status in statuses:
            inner = status.get("reblog") if isinstance(status, dict) and isinstance(status.get("reblog"), dict) else status
            try:
                if not isinstance(inner, dict) or not inner.get("id"):
                    raise MalformedStatus("status.id is missing")
                status_id = str(inner["id"])
                if inner.get("uri"):
                    self._remember(status_id, str(inner["uri"]))
                if status_id in seen:
                    continue
                mention = status_to_mention(inner, instance=self.base, parent_uri=await self._parent_uri(http, inner))
            except MalformedStatus as exc:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: skipping a malformed status from %s: %s", self.source_id, self.base, exc)
                continue
            seen.add(status_id)
            if mention is not None:
                mentions.append(mention)
        return mentions

    def _ids(self, statuses: list) -> list[str]:
        return [str(s["id"]) for s in statuses if isinstance(s, dict) and s.get("id")]

    def _state(self, state: Mapping[str, Any], seen: SeenIds, **changes: Any) -> dict[str, Any]:
        out = dict(state)
        out["seen"] = seen.to_list()
        out.update(changes)
        return out

    def _forward_start(self, min_id: str) -> str:
        seconds = snowflake_seconds(min_id)
        if not self.overlap_s or seconds is None:
            return min_id
        return min(min_id, snowflake_at(seconds - self.overlap_s), key=id_key)

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        state = dict(self.state)
        seen = SeenIds(state.get("seen", []), SEEN_MAX)

        # first run: the newest page, then (backfill) older ones
        if not state.get("min_id"):
            statuses, links = await self._page(http)
            ids = self._ids(statuses)
            mentions = await self._map(http, statuses, seen)
            backfill = None
            if ids and self.backfill_pages > 1:
                backfill = {"max_id": min(ids, key=id_key), "left": self.backfill_pages - 1}
            if not ids:  # nothing yet: the next poll asks for the newest page again
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
                if event is None or event[0] != "update":
                    continue
                try:
                    status = json.loads(event[1])
                except ValueError:
                    errors_total.labels(self.source_id).inc()
                    log.warning("%s: an update event that is not JSON: %.120r", self.source_id, event[1])
                    continue
                state = dict(self.state)
                seen = SeenIds(state.get("seen", []), SEEN_MAX)
                mentions = await self._map(http, [status], seen)
                ids = self._ids([status])
                state = self._state(state, seen, min_id=newest([state.get("min_id"), *ids]))
                yield Batch(mentions, state, 1, "stream")


