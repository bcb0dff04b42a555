"""Feed items as mentions (pure functions, no I/O): dates, ids, text, authors and the declared language."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import feedparser

from streams.schema import Author, Engagement, Mention
from streams.sources.base import SourceError
from streams.sources.text import EARLIEST_TIME, clip, html_to_text, normal_lang, normalize_whitespace, parse_time, stable_id, within_bounds

log = logging.getLogger(__name__)


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


def entry_updated(entry: Mapping[str, Any]) -> datetime | None:
    """When the item says it was last changed (Atom ``<updated>``, ``dcterms:modified``); None when it says
    nothing. feedparser answers a missing ``updated`` with ``published`` (RSS ``<pubDate>``): that is no
    change date, so only a key the entry really has counts."""
    if "updated" not in entry or not entry["updated"]:
        return None
    return _feed_time(entry["updated_parsed"] if "updated_parsed" in entry else None, entry["updated"])


def has_own_publication_time(entry: Mapping[str, Any]) -> bool:
    """Whether the item's publication time is its own ``published`` (else it comes from ``updated`` or the
    fetch time, and moves when the item changes)."""
    value = entry.get("published")
    return bool(value) and _feed_time(entry.get("published_parsed"), value) is not None


def entry_version(entry: Mapping[str, Any], mention: Mention) -> str:
    """What tells one version of an item from the next: ``u:<updated, UTC>`` when the item has an update
    time, else ``h:<hash of the title and text as mapped>`` (markup or tracking changes are no edit)."""
    updated = entry_updated(entry)
    if updated is not None:
        return "u:" + updated.astimezone(timezone.utc).isoformat()
    digest = hashlib.sha256(f"{mention.title or ''}\x00{mention.text}".encode("utf-8")).hexdigest()[:16]
    return "h:" + digest


def is_edit(before: str, now: str) -> bool:
    """Whether version ``now`` of an item is an edit of ``before``: a later update time, or another hash.
    Versions of two kinds (the feed started or stopped giving update times) are not compared."""
    if before[:2] != now[:2]:
        return False
    if now.startswith("u:"):
        try:
            return datetime.fromisoformat(now[2:]) > datetime.fromisoformat(before[2:])
        except ValueError:  # a hand-edited checkpoint: take the feed's word
            return before != now
    return before != now


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


def feed_language(parsed: Any) -> str | None:
    """The language the feed declares for all its items: RSS 2.0 ``<channel><language>``, RSS 1.0 (RDF)
    ``<dc:language>``, Atom ``xml:lang`` on ``<feed>`` (feedparser gives each as ``feed.language``)."""
    feed = parsed.get("feed") if isinstance(parsed, Mapping) else None
    return feed.get("language") if isinstance(feed, Mapping) and isinstance(feed.get("language"), str) else None


def declared_language(entry: Mapping[str, Any], feed_lang: str | None = None) -> str | None:
    """The item's declared language, normalised (``text.normal_lang``: ``nb-NO`` -> ``nb``, ``no`` stays
    ``no``): its own ``xml:lang`` (on its content, summary or title), else the feed's."""
    details = [*(entry.get("content") or []), entry.get("summary_detail"), entry.get("title_detail")]
    for detail in details:
        lang = normal_lang(detail.get("language")) if isinstance(detail, Mapping) else None
        if lang:
            return lang
    return normal_lang(feed_lang)


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
    feed_lang: str | None = None,
) -> Mention | None:
    """One feed item as a mention (None when it has no text at all). Comments (``kind="comment"``) get the
    post as parent and no title (a comment feed's item titles only repeat the post's). ``feed`` is the
    parsed feed's ``feed`` element, whose Atom authors apply to entries without their own; ``feed_lang``
    the feed's declared language (``feed_language``), for items that declare none. An item whose
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
        declared_lang=declared_language(entry, feed_lang),
        raw=raw,
    )
