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
* HTML to plain text (entities decoded, no markup) where feedparser says a field is HTML; times
  timezone-aware (a feed time without a zone is UTC).

Mention ids are ``rss:<guid>`` (the item's ``<guid>``/``<id>``, else its link; an http(s) URL in one
spelling: ``http://``, lower-case host, no trailing slash), so the same item read from two feeds, over
https or http, through a mirror, or twice, is one mention. Dates are feedparser's own (``*_parsed``),
bounded by ``text.within_bounds``; an item whose dates cannot be trusted gets the fetch time and a
``raw["date_problem"]``. A ``rel="next"`` page that is gone for good ends the chain (a warning).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping
from urllib.parse import urlsplit, urlunsplit

import feedparser
import typer
from pydantic import Field, field_validator, model_validator

from streams.schema import Author, Engagement, Mention
from streams.sources.base import Batch, Connector, SourceError, TokenBucket
from streams.sources.connectors.spec import CliRun, ConnectorConf, http_url
from streams.sources.http import SourceHttp
from streams.sources.text import (
    EARLIEST_TIME,
    SeenIds,
    clip,
    html_to_text,
    normalize_whitespace,
    parse_time,
    stable_id,
    within_bounds,
)

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


def atom_feed(parsed: Any) -> Mapping[str, Any] | None:
    """The feed element whose authors apply to its entries: Atom only (RFC 4287 4.2.1); an RSS channel's
    ``managingEditor`` is the editor, not the author of every item."""
    return parsed.get("feed") if str(parsed.get("version", "")).startswith("atom") else None


_TIME_KEYS = ("published", "updated", "created")


def _feed_time(struct: Any, value: Any) -> datetime | None:
    """One entry date: the instant from feedparser's ``*_parsed`` (it reads the zones, languages and
    formats real feeds use), shown in the feed's own offset when dateutil reads the string to that same
    instant. Without a parsed value the string is read by ``parse_time``. None when out of bounds."""
    if not struct:
        return parse_time(value)
    try:
        instant = datetime(*struct[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError):  # feedparser gives year 10000 for 9999-12-31T23:00-05:00
        return None
    if within_bounds(instant) is None:
        return None
    local = parse_time(value)
    return local if local == instant else instant


def _entry_time(entry: Mapping[str, Any]) -> tuple[datetime | None, str | None]:
    """(the entry's time, None) or (None, why no date of it can be trusted; None when it has none)."""
    refused: list[str] = []
    for key in _TIME_KEYS:
        value = entry.get(key)
        if not value:
            continue
        when = _feed_time(entry.get(f"{key}_parsed"), value)
        if when is not None:
            return when, None
        refused.append(f"{key} {str(value)[:64]!r}")
    if not refused:
        return None, None
    return None, f"untrusted date ({', '.join(refused)}): unreadable or outside {EARLIEST_TIME.year}..now+1 day"


#: The scheme every http(s) item id is spelt with: the scheme is not part of an item's identity (a site
#: moved to https keeps its guids). ``http`` keeps the ids of plain-http feeds as they were.
ID_SCHEME = "http"


def _normal_url(value: str) -> str | None:
    """An http(s) URL in one spelling (``ID_SCHEME``, lower-case host, no default port, no trailing slash
    but the root's); None for anything else (``tag:`` and ``urn:`` ids are kept as they are)."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # urlsplit lower-cases it
    if parts.port not in (None, 80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((ID_SCHEME, host, path, parts.query, parts.fragment))


def entry_key(entry: Mapping[str, Any]) -> str:
    """The item's identity: its GUID/Atom id, else its link (URLs normalised, so the same item read over
    http and https, with or without a trailing slash or through a mirror is one item), else a hash of
    title and time."""
    for key in ("id", "guid", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return _normal_url(value.strip()) or value.strip()
    basis = f"{entry.get('title', '')}\x00{entry.get('published', entry.get('updated', ''))}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


def entry_id(entry: Mapping[str, Any]) -> str:
    return stable_id("rss", entry_key(entry))


def _as_text(value: str | None, detail: Mapping[str, Any] | None) -> str:
    """Markup flattened only when feedparser says the field is (X)HTML: a plain-text title such as
    ``Use <T> in Swift`` keeps its brackets."""
    if (detail or {}).get("type") == "text/plain":
        return normalize_whitespace(value)
    return html_to_text(value)


#: How much longer ``summary`` must be than ``content`` to be taken as the body instead.
SUMMARY_OVER_CONTENT = 2


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The item's body. ``content`` (``content:encoded``, Atom ``<content>``) is usually the article and
    ``summary`` an excerpt that may be a little longer than a short post (``[…]`` added), so ``content``
    wins unless ``summary`` is much longer: an unqualified ``<og><description>`` blurb also lands in
    ``content`` while the article is in ``<description>``."""
    bodies = [_as_text(c.get("value"), c) for c in entry.get("content") or []]
    content = max(bodies, key=len, default="")
    summary = _as_text(entry.get("summary"), entry.get("summary_detail"))
    return summary if len(summary) > SUMMARY_OVER_CONTENT * len(content) else content


def _named(holder: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in holder.get("authors") or [] if (p.get("name") or "").strip()]


def _people(entry: Mapping[str, Any], feed: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The entry's authors; else (RFC 4287 4.2.1, Atom) those of its ``<source>``, then of the feed."""
    own = _named(entry)
    name = (entry.get("author") or "").strip()  # e.g. an e-mail address only: no name in the detail
    if own or name:
        return own or [{"name": name}]
    return _named(entry.get("source") or {}) or _named(feed or {})


def _author(entry: Mapping[str, Any], feed: Mapping[str, Any] | None = None) -> Author | None:
    """The first author is the handle (and gives the profile link); co-authors are kept in the display
    name, ``"Anna Berg, Bo Lund"``."""
    people = _people(entry, feed)
    if not people:
        return None
    names = ", ".join(p["name"].strip() for p in people)
    first = people[0]
    return Author(handle=clip(first["name"].strip(), 512), display_name=clip(names, 1024), profile_url=first.get("href") or None)


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
    feed: Mapping[str, Any] | None = None,
) -> Mention | None:
    """One feed item as a mention (None when it has no text at all). Comments (``kind="comment"``) get the
    post as parent and no title (a comment feed's item titles only repeat the post's). ``feed`` is the
    parsed feed's ``feed`` element, whose Atom authors apply to entries without their own. An item whose
    dates cannot be trusted gets the fetch time, and the reason in ``raw["date_problem"]``."""
    text = _entry_text(entry)
    title = _as_text(entry.get("title"), entry.get("title_detail")) or None
    if not text:
        if kind != "post" or not title:
            return None
        text = title
    published, date_problem = _entry_time(entry)
    raw: dict[str, Any] = {"feed": feed_url, "guid": entry_key(entry)}
    if date_problem:
        log.warning("%s: item %s: %s; using the fetch time", feed_url, raw["guid"], date_problem)
        raw["date_problem"] = date_problem
    published = published or fetched_at or datetime.now(timezone.utc)
    comments_feed = entry.get("wfw_commentrss")
    if comments_feed:
        raw["comments_feed"] = comments_feed
    return Mention(
        id=entry_id(entry),
        source=source,
        url=entry.get("link") or None,
        title=clip(title, 4096) if kind == "post" else None,
        text=text,
        author=_author(entry, feed),
        published_at=published,
        parent_id=parent_id,
        kind=kind,  # type: ignore[arg-type]
        engagement=Engagement(replies=_int(entry.get("slash_comments"))),
        declared_lang=clip(str(lang), 35) if (lang := next((d["language"] for d in (entry.get("summary_detail"), entry.get("title_detail"), feed) if isinstance(d, Mapping) and d.get("language")), None)) else None,
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
        feed = atom_feed(parsed)
        for entry in entries:
            mention_id = entry_id(entry)
            if mention_id in seen:
                continue
            mention = entry_to_mention(entry, feed_url=self.url, source=self.source, fetched_at=fetched_at, feed=feed)
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
            try:
                parsed, _, _ = await self._fetch(http, url, None)
            except SourceError as exc:
                if exc.retryable:
                    raise
                # A page that is gone for good (404, 410, no longer a feed) would fail every later poll
                # and keep the comment feeds from being read: end the chain here.
                log.warning("%s: dropping older page %s: %s", self.source_id, url, exc.problem)
                state = self._state(state, seen, comment_feeds, next_url=None, chain_pages=None)
                yield Batch([], state, 0, f"page {pages} dropped: {url}")
                break
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
                    entry,
                    feed_url=feed["url"],
                    source=self.source,
                    kind="comment",
                    parent_id=feed["post_id"],
                    fetched_at=fetched_at,
                    feed=atom_feed(parsed),
                )
                if mention is not None:
                    mentions.append(mention)
            for c in comment_feeds:
                if c["url"] == feed["url"]:
                    c["etag"], c["last_modified"] = validators.get("etag"), validators.get("last_modified")
            state = self._state(state, seen, comment_feeds)
            yield Batch(mentions, state, len(entries), f"comments of {feed['post_id']}")


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

    Each feed keeps its checkpoint (seen GUIDs, ETag) in LYTTER_INGEST_STATE_DIR, shared with `lytter ingest run`.
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
