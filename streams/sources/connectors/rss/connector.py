"""The RSS/Atom connector (conditional GET, rel=next chains, comment feeds) and its watch-file entry."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping

import typer
from pydantic import Field, field_validator, model_validator

from streams.schema import Mention
from streams.sources.base import Batch, Connector, SourceError, TokenBucket
from streams.sources.connectors.rss.mapping import (
    atom_feed,
    check_feed,
    entry_id,
    entry_to_mention,
    entry_updated,
    entry_version,
    feed_language,
    has_own_publication_time,
    is_edit,
    next_page_url,
    parse_feed_bytes,
)
from streams.sources.connectors.spec import CliRun, ConnectorConf, http_url
from streams.sources.http import SourceHttp
from streams.sources.text import SeenIds

log = logging.getLogger(__name__)

SEEN_MAX = 5000


class FeedMemory:
    """What the checkpoint remembers of the items read: their ids (``seen``) and, per id, the version last
    published (``versions``: ``{"v": mapping.entry_version, "p": publication time}``, ``p`` only for an
    item without a ``published`` of its own, so that its edits keep the time it was first counted at).
    Both bounded to ``SEEN_MAX``, the oldest forgotten first."""

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.seen = SeenIds(state.get("seen", []), SEEN_MAX)
        versions = state.get("versions")
        self.versions: dict[str, dict[str, str]] = {k: dict(v) for k, v in versions.items() if isinstance(v, dict)} if isinstance(versions, dict) else {}
        self._read: set[str] = set()  # ids read in this poll: a feed that repeats a guid publishes it once

    def remember(self, mention_id: str, version: str, published: str | None) -> None:
        self.versions.pop(mention_id, None)
        self.versions[mention_id] = {"v": version, "p": published} if published else {"v": version}
        while len(self.versions) > SEEN_MAX:
            self.versions.pop(next(iter(self.versions)))

    def to_state(self) -> dict[str, Any]:
        return {"seen": self.seen.to_list(), "versions": {k: dict(v) for k, v in self.versions.items()}}

    def track(self, entry: Mapping[str, Any], mention: Mention | None, fetched_at: datetime) -> Mention | None:
        """What to publish of an item on a page: a new one as it is; one read before when it changed since
        (``is_edit``) as an edit (``edited_at`` its update time, else the fetch time; the publication time
        kept); else None. An item that is no longer in the feed is simply not here: no deletion."""
        mention_id = entry_id(entry)
        if mention_id in self._read:
            return None
        self._read.add(mention_id)
        own_time = mention is not None and has_own_publication_time(entry)
        if mention_id not in self.seen:
            self.seen.add(mention_id)
            if mention is not None:
                self.remember(mention_id, entry_version(entry, mention), None if own_time else mention.published_at.isoformat())
            return mention
        if mention is None:
            return None
        version, before = entry_version(entry, mention), self.versions.get(mention_id)
        if before is None:  # read before versions were kept (an older checkpoint): compared from now on
            self.remember(mention_id, version, None if own_time else mention.published_at.isoformat())
            return None
        if not is_edit(before["v"], version):
            if before["v"][:2] != version[:2]:  # the feed started or stopped giving update times
                self.remember(mention_id, version, before.get("p"))
            return None
        published = datetime.fromisoformat(before["p"]) if before.get("p") else mention.published_at
        self.remember(mention_id, version, before.get("p"))
        return mention.model_copy(update={"edited_at": entry_updated(entry) or fetched_at, "published_at": published})


# --- the connector -------------------------------------------------------------------------------------


class RssConnector(Connector):
    kind = "rss"

    def __init__(
        self,
        url: str,
        *,
        interval_s: float = 300.0,
        comments: bool = True,
        max_comment_feeds: int = 20,
        max_pages: int = 10,
        source: str = "blog",
        limiter: TokenBucket | None = None,
    ) -> None:
        super().__init__(f"rss:{url}", interval_s=interval_s)
        self.url = url
        self.comments = comments
        self.max_comment_feeds = max_comment_feeds
        self.max_pages = max_pages
        self.source = source
        self.limiter = limiter or TokenBucket(1.0, burst=3)

    async def _fetch(self, http: SourceHttp, url: str, validators: Mapping[str, Any] | None) -> tuple[Any | None, dict[str, str | None], int]:
        """GET a feed (conditionally when ``validators`` has etag/last_modified): (parsed or None for 304,
        the new validators, the HTTP status)."""
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"}
        if validators:
            if validators.get("etag"):
                headers["If-None-Match"] = validators["etag"]
            if validators.get("last_modified"):
                headers["If-Modified-Since"] = validators["last_modified"]
        response = await http.get(self.source_id, url, headers=headers, ok=(200, 304), limiter=self.limiter)
        if response.status_code == 304:
            return None, dict(validators or {}), 304
        parsed = await asyncio.to_thread(parse_feed_bytes, response.content, url=str(response.url), content_type=response.headers.get("content-type"))
        check_feed(parsed, source=self.source_id, url=str(response.url))
        new_validators = {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
        return parsed, new_validators, response.status_code

    def _page(self, parsed: Any, memory: FeedMemory, comment_feeds: list[dict], fetched_at: datetime) -> tuple[list[Mention], int, int]:
        """Map a page of posts: (the new mentions and the edits, the entries on the page, how many of them
        were new). Registers the comment feeds of new posts."""
        mentions: list[Mention] = []
        entries = parsed.get("entries", [])
        feed, lang = atom_feed(parsed), feed_language(parsed)
        new = 0
        for entry in entries:
            new += entry_id(entry) not in memory.seen
            mention = memory.track(
                entry, entry_to_mention(entry, feed_url=self.url, source=self.source, fetched_at=fetched_at, feed=feed, feed_lang=lang), fetched_at
            )
            if mention is None:
                continue
            mentions.append(mention)
            comments_url = entry.get("wfw_commentrss")
            if self.comments and comments_url and self.max_comment_feeds > 0 and not any(c["url"] == comments_url for c in comment_feeds):
                comment_feeds.append({"url": comments_url, "post_id": mention.id})
                del comment_feeds[: max(0, len(comment_feeds) - self.max_comment_feeds)]
        return mentions, len(entries), new

    def _state(self, base: Mapping[str, Any], memory: FeedMemory, comment_feeds: list[dict], **changes: Any) -> dict[str, Any]:
        state = dict(base)
        state.update(memory.to_state())
        state["comment_feeds"] = [dict(c) for c in comment_feeds]
        state.update(changes)
        return state

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        fetched_at = datetime.now(timezone.utc)
        state = dict(self.state)
        memory = FeedMemory(state)
        comment_feeds: list[dict] = [dict(c) for c in state.get("comment_feeds", [])]

        # 1. the feed itself (conditional GET)
        parsed, validators, status = await self._fetch(http, self.url, state)
        if parsed is None:
            log.debug("%s: not modified", self.source_id)
            yield Batch([], self._state(state, memory, comment_feeds), 0, "not modified (304)")
        else:
            mentions, count, new = self._page(parsed, memory, comment_feeds, fetched_at)
            follow = next_page_url(parsed) if (count and new == count and self.max_pages > 1) else None
            changes: dict[str, Any] = {"etag": validators.get("etag"), "last_modified": validators.get("last_modified")}
            if follow and not state.get("next_url"):
                changes.update(next_url=follow, chain_pages=1)
            state = self._state(state, memory, comment_feeds, **changes)
            yield Batch(mentions, state, count, "page 1")

        # 2. an older-page chain (new, or interrupted by a restart)
        while state.get("next_url"):
            url = state["next_url"]
            pages = int(state.get("chain_pages", 1)) + 1
            try:
                parsed, _, _ = await self._fetch(http, url, None)
            except SourceError as exc:
                if exc.retryable:
                    raise
                # A page that is gone for good (404, 410, no longer a feed) would fail every later poll
                # and keep the comment feeds from being read: end the chain here.
                log.warning("%s: dropping older page %s: %s", self.source_id, url, exc.problem)
                state = self._state(state, memory, comment_feeds, next_url=None, chain_pages=None)
                yield Batch([], state, 0, f"page {pages} dropped: {url}")
                break
            assert parsed is not None
            mentions, count, new = self._page(parsed, memory, comment_feeds, fetched_at)
            follow = next_page_url(parsed) if (count and new == count and pages < self.max_pages) else None
            state = self._state(state, memory, comment_feeds, next_url=follow, chain_pages=pages if follow else None)
            yield Batch(mentions, state, count, f"page {pages}")

        # 3. comment feeds of the latest posts
        if not self.comments:
            return
        for feed in list(comment_feeds):
            try:
                parsed, validators, _ = await self._fetch(http, feed["url"], feed)
            except SourceError as exc:
                if exc.retryable:
                    raise
                log.warning("%s: dropping comment feed %s: %s", self.source_id, feed["url"], exc.problem)
                comment_feeds = [c for c in comment_feeds if c["url"] != feed["url"]]
                state = self._state(state, memory, comment_feeds)
                yield Batch([], state, 0, f"comment feed dropped: {feed['url']}")
                continue
            if parsed is None:
                continue
            mentions, entries = self._comments(parsed, feed, memory, fetched_at)
            for c in comment_feeds:
                if c["url"] == feed["url"]:
                    c["etag"], c["last_modified"] = validators.get("etag"), validators.get("last_modified")
            state = self._state(state, memory, comment_feeds)
            yield Batch(mentions, state, entries, f"comments of {feed['post_id']}")

    def _comments(self, parsed: Any, feed: Mapping[str, Any], memory: FeedMemory, fetched_at: datetime) -> tuple[list[Mention], int]:
        """The new and the edited comments of a post's comment feed (kind ``comment``, the post as parent),
        and the count read."""
        mentions: list[Mention] = []
        entries = parsed.get("entries", [])
        for entry in entries:
            mention = entry_to_mention(
                entry,
                feed_url=feed["url"],
                source=self.source,
                kind="comment",
                parent_id=feed["post_id"],
                fetched_at=fetched_at,
                feed=atom_feed(parsed),
                feed_lang=feed_language(parsed),
            )
            mention = memory.track(entry, mention, fetched_at)
            if mention is not None:
                mentions.append(mention)
        return mentions, len(entries)


# --- `connectors.rss` in the watch file, the connectors it describes, `lytter ingest rss` ------------------


class RssConf(ConnectorConf):
    url: str = Field(description="The feed's URL (RSS 2.0, RSS 1.0 or Atom)")
    interval_s: float = Field(300.0, ge=5, description="Seconds between polls")
    comments: bool = Field(True, description="Also read each post's comment feed (<wfw:commentRss>)")
    max_comment_feeds: int = Field(20, ge=0, le=1000, description="Comment feeds of the latest N posts are re-read every poll")
    max_pages: int = Field(10, ge=1, le=1000, description="Older pages (rel=next) followed in a chain when every item of a page is new")
    rate_per_s: float = Field(1.0, gt=0, le=100, description="Requests per second to this site at most")
    source: str = Field("blog", min_length=1, max_length=64, description="The mentions' source field (blog, news, forum, ...)")

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value  # a bare URL takes the defaults

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


def rss_connectors(feeds: list[RssConf], *, where: str = "connectors.rss") -> list[Connector]:
    return [
        RssConnector(
            f.url,
            interval_s=f.interval_s,
            comments=f.comments,
            max_comment_feeds=f.max_comment_feeds,
            max_pages=f.max_pages,
            source=f.source,
            limiter=TokenBucket(f.rate_per_s, burst=3),
        )
        for f in feeds
    ]


def rss_command(
    urls: list[str] = typer.Argument(..., help="Feed URLs (RSS or Atom)."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(300.0, help="Seconds between polls with --follow."),
    comments: bool = typer.Option(True, help="Read WordPress comment feeds (<wfw:commentRss>) of the posts too."),
    max_pages: int = typer.Option(10, help="Older pages (rel=next) to follow when every item on a page is new."),
    source: str = typer.Option("blog", help="The mentions' `source` field."),
) -> CliRun:
    """Read RSS/Atom feeds (conditional GET, paging, comment feeds, de-duplicated by GUID) into Kafka.

    Each feed keeps its checkpoint (seen GUIDs and their versions, ETag) in LYTTER_INGEST_STATE_DIR, shared with `lytter ingest run`.
    """
    return CliRun(
        entries=lambda: [RssConf(url=u, interval_s=interval, comments=comments, max_pages=max_pages, source=source) for u in urls],
        once=not follow,
    )


RSS_EXAMPLE = """\
rss:
  - url: https://blog.example.dk/feed/
    interval_s: 300
"""
