"""Mastodon statuses as mentions: ids, handles, Snowflake times, the pure mapping."""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit


from streams.schema import Author, Engagement, Mention
from streams.sources.text import clip, html_to_text, normal_lang, parse_time, stable_id

log = logging.getLogger(__name__)

SEEN_MAX = 2000


# --- pure mapping ------------------------------------------------------------------------------------


class MalformedStatus(ValueError):
    pass


def instance_base(instance: str) -> str:
    """``mastodon.social`` or ``https://mastodon.social/`` -> ``https://mastodon.social``."""
    value = instance.strip().rstrip("/")
    if "://" not in value:
        value = f"https://{value}"
    return value


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def id_key(status_id: str) -> tuple[int, str]:
    """Order of Mastodon ids (numeric strings of varying length; compared as numbers)."""
    return (len(status_id), status_id)


def newest(ids: Iterable[str | None]) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=id_key) if present else None


def link_param(links: Mapping[str, str], rel: str, name: str) -> str | None:
    """A query parameter of a Link relation: ``link_param(links, "next", "max_id")``."""
    url = links.get(rel)
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def snowflake_seconds(status_id: str) -> float | None:
    """The time encoded in a Mastodon Snowflake id (ms since the epoch << 16), or None for other ids."""
    try:
        n = int(status_id)
    except (TypeError, ValueError):
        return None
    if n < (10**12 << 16):  # before 2001: not a Snowflake
        return None
    return (n >> 16) / 1000.0


def snowflake_at(seconds: float) -> str:
    return str(int(seconds * 1000) << 16)


def account_handle(account: Mapping[str, Any], instance_host: str) -> str:
    acct = str(account.get("acct") or account.get("username") or "").strip().lstrip("@")
    if not acct:
        raise MalformedStatus("account.acct is missing")
    return acct if "@" in acct else f"{acct}@{instance_host}"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# The fallback a quote post's content carries for software that cannot show quotes (Mastodon 4.4+:
# ``<p class="quote-inline">RE: <a href="…">…</a></p>``; Fedibird and Misskey-style quotes send a
# ``<span class="quote-inline">``). Clients hide it; as text it is a stray "RE: https://…".
_QUOTE_INLINE = re.compile(r"""<(p|span)\b[^>]*?\bclass\s*=\s*(["'])(?:(?!\2).)*?\bquote-inline\b(?:(?!\2).)*?\2[^>]*>""", re.IGNORECASE | re.DOTALL)


def strip_quote_fallback(content: str | None) -> str | None:
    """``content`` without its ``quote-inline`` elements (with everything inside them, nested tags too)."""
    if not content or "quote-inline" not in content:
        return content
    out: list[str] = []
    position = 0
    while (start := _QUOTE_INLINE.search(content, position)) is not None:
        out.append(content[position : start.start()])
        tag = start.group(1).lower()
        tags = re.compile(rf"<(/?){tag}\b[^>]*>", re.IGNORECASE)
        depth, end = 1, len(content)  # an element left open runs to the end
        for match in tags.finditer(content, start.end()):
            depth += -1 if match.group(1) else (0 if match.group(0).endswith("/>") else 1)
            if depth == 0:
                end = match.end()
                break
        position = end
    out.append(content[position:])
    return "".join(out)


def quoted_uri(status: Mapping[str, Any]) -> str | None:
    """The quoted status of a quote post (Mastodon 4.4+ ``quote``), when the quote was accepted."""
    quote_obj = status.get("quote")
    if isinstance(quote_obj, Mapping):
        quoted = quote_obj.get("quoted_status")
        if isinstance(quoted, Mapping) and quote_obj.get("state", "accepted") == "accepted" and quoted.get("uri"):
            return str(quoted["uri"])
    return None


def status_to_mention(status: Mapping[str, Any], *, instance: str, parent_uri: str | None = None) -> Mention | None:
    """A Mastodon ``Status`` entity as a mention; None for statuses without text or not public.

    ``instance`` is the base URL the status was read from (for local accounts' handles); ``parent_uri``
    is the ``uri`` of the status ``in_reply_to_id`` names, when known. Raises ``MalformedStatus`` (naming
    the field) for an object that is not a status.
    """
    if not isinstance(status, Mapping):
        raise MalformedStatus(f"a status must be an object, got {type(status).__name__}")
    if isinstance(status.get("reblog"), Mapping):  # a boost: the boosted post is the mention
        status = status["reblog"]
    for name in ("id", "uri", "created_at", "account"):
        if not status.get(name):
            raise MalformedStatus(f"status.{name} is missing")
    if status.get("visibility") in ("private", "direct"):
        return None
    account = status["account"]
    if not isinstance(account, Mapping):
        raise MalformedStatus("status.account is not an object")
    published = parse_time(status["created_at"])
    if published is None:
        raise MalformedStatus(f"status.created_at {status['created_at']!r} is not a date")
    host = host_of(instance_base(instance))
    text = html_to_text(strip_quote_fallback(status.get("content")))
    if not text:
        descriptions = [m.get("description") for m in status.get("media_attachments") or [] if isinstance(m, Mapping)]
        text = "\n".join(d.strip() for d in descriptions if isinstance(d, str) and d.strip())
    if not text:
        return None
    handle = account_handle(account, host)
    quoted = quoted_uri(status)
    if status.get("in_reply_to_id"):
        kind, parent = "reply", (stable_id("mastodon", parent_uri) if parent_uri else None)
    elif quoted:
        kind, parent = "quote", stable_id("mastodon", quoted)
    else:
        kind, parent = "post", None
    raw: dict[str, Any] = {"instance": host, "status_id": str(status["id"])}
    for name in ("language", "visibility", "in_reply_to_id", "in_reply_to_account_id"):
        if status.get(name):
            raw[name] = status[name]
    tags = [t.get("name") for t in status.get("tags") or [] if isinstance(t, Mapping) and t.get("name")]
    if tags:
        raw["tags"] = tags
    return Mention(
        id=stable_id("mastodon", str(status["uri"])),
        source="mastodon",
        url=status.get("url") or str(status["uri"]),
        title=clip(html_to_text(status.get("spoiler_text")) or None, 4096),
        text=text,
        author=Author(
            handle=clip(handle, 512),
            display_name=clip(account.get("display_name") or None, 1024),
            followers=_count(account.get("followers_count")),
            profile_url=account.get("url") or None,
        ),
        published_at=published,
        parent_id=parent,
        kind=kind,  # type: ignore[arg-type]
        declared_lang=normal_lang(status.get("language")),
        engagement=Engagement(
            likes=_count(status.get("favourites_count")),
            shares=_count(status.get("reblogs_count")),
            replies=_count(status.get("replies_count")),
            quotes=_count(status.get("quotes_count")),
        ),
        edited_at=parse_time(status["edited_at"]) if isinstance(status.get("edited_at"), str) else None,
        raw=raw,
    )


