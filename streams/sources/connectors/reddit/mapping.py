"""Reddit listing children as mentions, deletions and edits (pure functions, no I/O).

A re-read item that is gone shows it in place: ``body`` / ``selftext`` ``[deleted]`` (the author deleted
it), ``[removed]`` or ``[ Removed by Reddit ]`` (a moderator or Reddit removed it), ``author``
``[deleted]`` (the account is gone), or, since 2019, ``removed_by_category`` (``deleted`` for the author's
own deletion; ``moderator``, ``automod_filtered``, ``reddit``, ``copyright_takedown``, ... for removals).
Such an item is a ``Deletion``, never a mention. ``edited`` is ``false`` or the epoch seconds of the last
edit (very old items say ``true``: edited at an unknown time).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Literal, Mapping
from urllib.parse import quote

from streams.schema import Author, Deletion, Engagement, Mention
from streams.sources.text import clip, html_to_text, normalize_whitespace, parse_time, stable_id

WEB = "https://www.reddit.com"
_GONE = {"[deleted]", "[removed]", ""}
#: ``removed_by_category`` values that mean the author deleted it (every other value is a removal)
_BY_AUTHOR = {"deleted", "author"}


class MalformedThing(ValueError):
    pass


def fullname(kind: str, data: Mapping[str, Any]) -> str:
    name = data.get("name")
    if isinstance(name, str) and "_" in name:
        return name
    if not data.get("id"):
        raise MalformedThing(f"{kind}.data.id is missing")
    return f"{kind}_{data['id']}"


def id_number(name: str) -> int:
    """The base-36 number of a fullname or id (``t3_1abc`` -> int): Reddit ids grow with time."""
    try:
        return int(name.rsplit("_", 1)[-1], 36)
    except ValueError:
        raise MalformedThing(f"{name!r} is not a Reddit id") from None


def _markdown_or_html(data: Mapping[str, Any], text_key: str, html_key: str) -> str:
    body_html = data.get(html_key)
    if isinstance(body_html, str) and body_html.strip():
        if body_html.lstrip().startswith("&lt;"):  # without raw_json=1 Reddit escapes its HTML once more
            body_html = html.unescape(body_html)
        return html_to_text(body_html)
    return normalize_whitespace(html.unescape(data.get(text_key) or ""))


def _marker(text: Any) -> Literal["deleted", "removed"] | None:
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    if value == "[deleted]":
        return "deleted"
    if value == "[removed]" or value.startswith("[ removed by reddit"):
        return "removed"
    return None


def gone_reason(kind: str, data: Mapping[str, Any]) -> Literal["deleted", "removed"] | None:
    """Why an item is gone ("deleted" by its author, "removed" by a moderator or Reddit), or None."""
    text_key, html_key = ("body", "body_html") if kind == "t1" else ("selftext", "selftext_html")
    reason = _marker(data.get(text_key)) or _marker(_markdown_or_html(data, text_key, html_key))
    category = data.get("removed_by_category")
    if reason is None and isinstance(category, str) and category:
        reason = "deleted" if category in _BY_AUTHOR else "removed"
    if reason is None and data.get("author") == "[deleted]":
        reason = "deleted"
    return reason


def thing_deletion(thing: Mapping[str, Any]) -> Deletion | None:
    """The deletion of a post or comment that is gone (see the module text), else None."""
    if not isinstance(thing, Mapping) or not isinstance(thing.get("data"), Mapping):
        raise MalformedThing("a listing child must be {kind, data}")
    kind, data = thing.get("kind"), thing["data"]
    if kind not in ("t1", "t3"):
        return None
    reason = gone_reason(kind, data)
    if reason is None:
        return None
    return Deletion(id=stable_id("reddit", fullname(kind, data)), source="reddit", deleted_at=datetime.now(timezone.utc), reason=reason)


def edited_at(data: Mapping[str, Any]) -> datetime | None:
    """When the item was last edited: ``edited`` as epoch seconds (``false``/``true``: None)."""
    value = data.get("edited")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return parse_time(value)


def _author(data: Mapping[str, Any]) -> Author | None:
    name = data.get("author")
    if not isinstance(name, str) or name in _GONE:
        return None
    return Author(handle=clip(name, 512), display_name=None, profile_url=f"{WEB}/user/{quote(name)}")


def _nonneg(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return max(0, int(value))


def thing_to_mention(thing: Mapping[str, Any]) -> Mention | None:
    """A listing child (``{"kind": "t3"|"t1", "data": {...}}``) as a mention; None for what is gone
    (deleted, removed: see ``thing_deletion``), has no text, or is not a post or a comment."""
    if not isinstance(thing, Mapping) or not isinstance(thing.get("data"), Mapping):
        raise MalformedThing("a listing child must be {kind, data}")
    kind, data = thing.get("kind"), thing["data"]
    if kind not in ("t1", "t3"):
        return None
    name = fullname(kind, data)
    published = parse_time(data.get("created_utc"))
    if published is None:
        raise MalformedThing(f"{name}: created_utc is missing or not a number")
    if gone_reason(kind, data) is not None:
        return None
    permalink = data.get("permalink")
    url = f"{WEB}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else (permalink or None)
    raw: dict[str, Any] = {"fullname": name}
    for key in ("subreddit", "link_id", "upvote_ratio", "over_18", "domain"):
        if data.get(key) is not None:
            raw[key] = data[key]
    common = dict(id=stable_id("reddit", name), source="reddit", url=url, author=_author(data), published_at=published, edited_at=edited_at(data), raw=raw)
    if kind == "t3":
        title = normalize_whitespace(html.unescape(data.get("title") or "")) or None
        text = _markdown_or_html(data, "selftext", "selftext_html") or title or ""
        if not text:
            return None
        if data.get("url") and data.get("url") != url:
            raw["link"] = data["url"]
        engagement = Engagement(likes=_nonneg(data.get("score")), replies=_nonneg(data.get("num_comments")), shares=_nonneg(data.get("num_crossposts")))
        return Mention(title=clip(title, 4096), text=text, kind="post", engagement=engagement, **common)
    text = _markdown_or_html(data, "body", "body_html")
    if not text:
        return None
    parent = data.get("parent_id")
    if not isinstance(parent, str) or "_" not in parent:
        raise MalformedThing(f"{name}: parent_id is missing")
    kind_ = "comment" if parent.startswith("t3_") else "reply"
    return Mention(text=text, parent_id=stable_id("reddit", parent), kind=kind_, engagement=Engagement(likes=_nonneg(data.get("score"))), **common)


def listing_children(data: Any) -> tuple[list[dict], str | None]:
    """``{"kind": "Listing", "data": {"children": [...], "after": ...}}`` -> (children, after)."""
    if not isinstance(data, Mapping) or data.get("kind") != "Listing" or not isinstance(data.get("data"), Mapping):
        raise MalformedThing("not a Listing object")
    children = data["data"].get("children")
    if not isinstance(children, list):
        raise MalformedThing("Listing.data.children is not a list")
    after = data["data"].get("after")
    return children, after if isinstance(after, str) and after else None
