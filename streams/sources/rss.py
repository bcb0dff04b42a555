"""RSS and Atom feeds (blogs, news sites) and WordPress comment feeds, parsed with feedparser.

* Conditional GET: the feed's ``ETag`` / ``Last-Modified`` are kept in the checkpoint and sent back as
  ``If-None-Match`` / ``If-Modified-Since``; a ``304 Not Modified`` costs nothing.
* Paging (RFC 5005): when every item of a page is new and the feed links a ``rel="next"`` page (Atom
  archives, WordPress ``?paged=2``), the next page is read too, up to ``max_pages`` in a chain. An
  interrupted chain is continued after a restart (``next_url`` in the checkpoint).
* Comments: an item with ``<wfw:commentRss>`` (WordPress) has its comment feed read as well; each comment
  is a mention of kind ``comment`` whose ``parent_id`` is the post's mention id. The comment feeds of the
  latest ``max_comment_feeds`` posts are re-read (conditionally) on every poll, as comments keep coming.
* De-duplication by GUID across restarts: a bounded seen-set in the checkpoint.
* HTML to plain text (entities decoded, no markup); times timezone-aware (a feed time without a zone is UTC).

Mention ids are ``rss:<guid>`` (the item's ``<guid>``/``<id>``, else its link), so the same item read
from two feeds, or twice, is one mention.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping

import feedparser

from streams.schema import Author, Engagement, Mention
from streams.sources.base import Batch, Connector, SourceError, TokenBucket
from streams.sources.http import SourceHttp
from streams.sources.text import SeenIds, clip, html_to_text, normalize_whitespace, parse_time, stable_id

log = logging.getLogger(__name__)

SEEN_MAX = 5000


# --- pure mapping ------------------------------------------------------------------------------------


def parse_feed_bytes(content: bytes, *, url: str, content_type: str | None = None) -> Any:
    """feedparser on the bytes of a response (never a string: feedparser would take it for a URL)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    return feedparser.parse(content, response_headers=headers)


def check_feed(parsed: Any, *, source: str, url: str) -> None:
    """Raise a clear ``SourceError`` when the document is not a feed at all."""
    if parsed.get("version"):
        if parsed.get("bozo"):
            log.warning("%s: %s is not well-formed (%s); using what could be read", source, url, parsed.get("bozo_exception"))
        return
    reason = parsed.get("bozo_exception")
    raise SourceError(
        source,
        url,
        f"not an RSS or Atom feed ({reason or 'no feed elements found'})",
        "Check the URL points at the feed itself (WordPress: /feed/ for posts, /comments/feed/ for comments), not a web page",
    )


def next_page_url(parsed: Any) -> str | None:
    for link in parsed.get("feed", {}).get("links", []) or []:
        if link.get("rel") == "next" and link.get("href"):
            return link["href"]
    return None


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published", "updated", "created"):
        when = parse_time(entry.get(key))
        if when is not None:
            return when
    for key in ("published_parsed", "updated_parsed"):
        struct = entry.get(key)
        if struct:
            return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    return None


def entry_key(entry: Mapping[str, Any]) -> str:
    """The item's identity: its GUID/Atom id, else its link, else a hash of title and time."""
    for key in ("id", "guid", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    basis = f"{entry.get('title', '')}\x00{entry.get('published', entry.get('updated', ''))}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


def entry_id(entry: Mapping[str, Any]) -> str:
    return stable_id("rss", entry_key(entry))


def _entry_text(entry: Mapping[str, Any]) -> str:
    contents = entry.get("content") or []
    for content in contents:
        value = content.get("value")
        if value:
            if content.get("type") == "text/plain":
                return normalize_whitespace(value)
            return html_to_text(value)
    summary = entry.get("summary")
    if summary:
        detail = entry.get("summary_detail") or {}
        if detail.get("type") == "text/plain":
            return normalize_whitespace(summary)
        return html_to_text(summary)
    return ""


def _author(entry: Mapping[str, Any]) -> Author | None:
    detail = entry.get("author_detail") or {}
    name = (detail.get("name") or entry.get("author") or "").strip()
    if not name:
        return None
    return Author(handle=clip(name, 512), display_name=clip(name, 1024), profile_url=detail.get("href") or None)


def _int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def entry_to_mention(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    source: str = "blog",
    kind: str = "post",
    parent_id: str | None = None,
    fetched_at: datetime | None = None,
) -> Mention | None:
    """One feed item as a mention (None when it has no text at all). Comments (``kind="comment"``) get the
    post as parent and no title (a comment feed's item titles only repeat the post's)."""
    text = _entry_text(entry)
    title = html_to_text(entry.get("title")) or None
    if not text:
        if kind != "post" or not title:
            return None
        text = title
    published = _entry_time(entry) or fetched_at or datetime.now(timezone.utc)
    comments_feed = entry.get("wfw_commentrss")
    raw: dict[str, Any] = {"feed": feed_url, "guid": entry_key(entry)}
    if comments_feed:
        raw["comments_feed"] = comments_feed
    return Mention(
        id=entry_id(entry),
        source=source,
        url=entry.get("link") or None,
        title=clip(title, 4096) if kind == "post" else None,
        text=text,
        author=_author(entry),
        published_at=published,
        parent_id=parent_id,
        kind=kind,  # type: ignore[arg-type]
        engagement=Engagement(replies=_int(entry.get("slash_comments"))),
        raw=raw,
    )


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

    def _page(self, parsed: Any, seen: SeenIds, comment_feeds: list[dict], fetched_at: datetime) -> tuple[list[Mention], int]:
        """Map a page of posts; returns (new mentions, entries on the page). Registers comment feeds."""
        mentions: list[Mention] = []
        entries = parsed.get("entries", [])
        for entry in entries:
            mention_id = entry_id(entry)
            if mention_id in seen:
                continue
            mention = entry_to_mention(entry, feed_url=self.url, source=self.source, fetched_at=fetched_at)
            seen.add(mention_id)
            if mention is None:
                continue
            mentions.append(mention)
            feed = entry.get("wfw_commentrss")
            if self.comments and feed and self.max_comment_feeds > 0 and not any(c["url"] == feed for c in comment_feeds):
                comment_feeds.append({"url": feed, "post_id": mention.id})
                del comment_feeds[: max(0, len(comment_feeds) - self.max_comment_feeds)]
        return mentions, len(entries)

    def _state(self, base: Mapping[str, Any], seen: SeenIds, comment_feeds: list[dict], **changes: Any) -> dict[str, Any]:
        state = dict(base)
        state["seen"] = seen.to_list()
        state["comment_feeds"] = [dict(c) for c in comment_feeds]
        state.update(changes)
        return state

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        fetched_at = datetime.now(timezone.utc)
        state = dict(self.state)
        seen = SeenIds(state.get("seen", []), SEEN_MAX)
        comment_feeds: list[dict] = [dict(c) for c in state.get("comment_feeds", [])]

        # 1. the feed itself (conditional GET)
        parsed, validators, status = await self._fetch(http, self.url, state)
        if parsed is None:
            log.debug("%s: not modified", self.source_id)
            yield Batch([], self._state(state, seen, comment_feeds), 0, "not modified (304)")
        else:
            mentions, count = self._page(parsed, seen, comment_feeds, fetched_at)
            follow = next_page_url(parsed) if (count and len(mentions) == count and self.max_pages > 1) else None
            changes: dict[str, Any] = {"etag": validators.get("etag"), "last_modified": validators.get("last_modified")}
            if follow and not state.get("next_url"):
                changes.update(next_url=follow, chain_pages=1)
            state = self._state(state, seen, comment_feeds, **changes)
            yield Batch(mentions, state, count, "page 1")

        # 2. an older-page chain (new, or interrupted by a restart)
        while state.get("next_url"):
            url = state["next_url"]
            pages = int(state.get("chain_pages", 1)) + 1
            parsed, _, _ = await self._fetch(http, url, None)
            assert parsed is not None
            mentions, count = self._page(parsed, seen, comment_feeds, fetched_at)
            follow = next_page_url(parsed) if (count and len(mentions) == count and pages < self.max_pages) else None
            state = self._state(state, seen, comment_feeds, next_url=follow, chain_pages=pages if follow else None)
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
                state = self._state(state, seen, comment_feeds)
                yield Batch([], state, 0, f"comment feed dropped: {feed['url']}")
                continue
            if parsed is None:
                continue
            mentions = []
            entries = parsed.get("entries", [])
            for entry in entries:
                mention_id = entry_id(entry)
                if mention_id in seen:
                    continue
                seen.add(mention_id)
                mention = entry_to_mention(
                    entry, feed_url=feed["url"], source=self.source, kind="comment", parent_id=feed["post_id"], fetched_at=fetched_at
                )
                if mention is not None:
                    mentions.append(mention)
            for c in comment_feeds:
                if c["url"] == feed["url"]:
                    c["etag"], c["last_modified"] = validators.get("etag"), validators.get("last_modified")
            state = self._state(state, seen, comment_feeds)
            yield Batch(mentions, state, len(entries), f"comments of {feed['post_id']}")
