"""Jetstream events as mentions and deletions (pure functions, no I/O).

Event shapes (github.com/bluesky-social/jetstream README): ``{"did", "time_us", "kind": "commit",
"commit": {"rev", "operation": "create"|"update"|"delete", "collection", "rkey", "record", "cid"}}``; a
delete has no ``record`` and no ``cid``.

What a post says is more than ``record.text``: the app shortens a link in the text
(``nordlysenergi.dk/kampagne/vint...``) and keeps the full URL in a *facet*
(``facets[].features[]`` of ``$type`` ``app.bsky.richtext.facet#link``, with UTF-8 *byte* offsets
``index.byteStart``/``byteEnd``), and a link card (``embed`` ``app.bsky.embed.external``, or the
``media`` of ``app.bsky.embed.recordWithMedia``) carries the linked page's ``uri``, ``title`` and
``description``. So the mention's text has the full URLs in place of the shortened ones, the card's URL
and description follow the text, and the card's title is the mention's ``title``: the keyword filter and
the brand watch see all of it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from streams.schema import Author, Deletion, Mention
from streams.sources.text import clip, normal_lang, normalize_whitespace, parse_time, stable_id

POST = "app.bsky.feed.post"
LINK_FEATURE = "app.bsky.richtext.facet#link"
EXTERNAL = "app.bsky.embed.external"
RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"


class MalformedEvent(ValueError):
    pass


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def mention_id(did: str, rkey: str) -> str:
    """The mention id of a post: ``bluesky:at://<did>/app.bsky.feed.post/<rkey>`` (a delete carries did and
    rkey, so its deletion gets the id of the post it removes without any state)."""
    return stable_id("bluesky", post_uri(did, rkey))


def event_time(time_us: Any) -> datetime | None:
    return datetime.fromtimestamp(time_us / 1_000_000, tz=timezone.utc) if isinstance(time_us, int) and not isinstance(time_us, bool) else None


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
    if kind == RECORD_WITH_MEDIA:
        outer = embed.get("record")
        inner = outer.get("record") if isinstance(outer, Mapping) else None
        return _post_uri_or_none(inner.get("uri")) if isinstance(inner, Mapping) else None
    return None


def post_commit(event: Mapping[str, Any]) -> tuple[str, str, str, Mapping[str, Any] | None] | None:
    """(operation, did, rkey, record) when the event is a create, update or delete of a post, else None.
    ``record`` is None for a delete."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"an event must be an object, got {type(event).__name__}")
    if event.get("kind") != "commit":
        return None
    commit = event.get("commit")
    if not isinstance(commit, Mapping):
        raise MalformedEvent("commit event without a commit object")
    operation = commit.get("operation")
    if operation not in ("create", "update", "delete") or commit.get("collection") != POST:
        return None
    did, rkey, record = event.get("did"), commit.get("rkey"), commit.get("record")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise MalformedEvent("commit.did is missing or not a DID")
    if not isinstance(rkey, str) or not rkey:
        raise MalformedEvent("commit.rkey is missing")
    if operation == "delete":
        return operation, did, rkey, None
    if not isinstance(record, Mapping):
        raise MalformedEvent(f"commit.record is missing ({operation})")
    return operation, did, rkey, record


def new_post(event: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]] | None:
    """(did, rkey, record) when the event is the creation of a post, else None."""
    post = post_commit(event)
    if post is None or post[0] != "create":
        return None
    return post[1], post[2], post[3] or {}


# --- links and link cards --------------------------------------------------------------------------


def link_facets(record: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    """(byteStart, byteEnd, uri) of the record's link facets, in text order; broken ones are skipped."""
    facets = record.get("facets")
    out: list[tuple[int, int, str]] = []
    for facet in facets if isinstance(facets, list) else ():
        if not isinstance(facet, Mapping) or not isinstance(facet.get("features"), list):
            continue
        uri = next(
            (f["uri"] for f in facet["features"] if isinstance(f, Mapping) and f.get("$type") == LINK_FEATURE and isinstance(f.get("uri"), str) and f["uri"].strip()),
            None,
        )
        index = facet.get("index")
        start = index.get("byteStart") if isinstance(index, Mapping) else None
        end = index.get("byteEnd") if isinstance(index, Mapping) else None
        if uri is None:
            continue
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            start = end = -1  # a link without a usable range: appended to the text
        out.append((start, end, uri.strip()))
    return sorted(out, key=lambda s: s[0])


def _shortened(anchor: str, uri: str) -> bool:
    """Whether the link's text is the app's shortening of its URL (``example.com/a/b...``)."""
    bare = anchor.strip().rstrip(".…").removeprefix("https://").removeprefix("http://").removeprefix("www.")
    full = uri.removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return bool(bare) and full.startswith(bare)


def expand_links(text: str, record: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The text with every link facet's full URL in place of its (shortened) text, and the URLs.

    Facet offsets count UTF-8 bytes. A link whose text is not a shortening of its URL (a client that lets
    one write "read this") keeps its text, with the URL after it in parentheses; a facet whose range is
    out of bounds, overlaps another or splits a character has its URL appended instead."""
    data = text.encode("utf-8")
    parts: list[bytes] = []
    links: list[str] = []
    appended: list[str] = []
    pos = 0
    for start, end, uri in link_facets(record):
        links.append(uri)
        try:
            anchor = data[start:end].decode("utf-8") if start >= pos and end <= len(data) else None
        except UnicodeDecodeError:
            anchor = None
        if anchor is None:
            appended.append(uri)
            continue
        replacement = uri if _shortened(anchor, uri) or anchor.strip() == uri else f"{anchor} ({uri})"
        parts += [data[pos:start], replacement.encode("utf-8")]
        pos = end
    parts.append(data[pos:])
    out = b"".join(parts).decode("utf-8", errors="replace")
    extra = [u for u in dict.fromkeys(appended) if u not in out]
    return (out + ("\n" + "\n".join(extra) if extra else ""), list(dict.fromkeys(links)))


def link_card(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``external`` object of the post's link card (``app.bsky.embed.external``, also as the media of
    ``app.bsky.embed.recordWithMedia``), or None."""
    embed = record.get("embed")
    if isinstance(embed, Mapping) and embed.get("$type") == RECORD_WITH_MEDIA:
        embed = embed.get("media")
    if not isinstance(embed, Mapping) or embed.get("$type") != EXTERNAL:
        return None
    external = embed.get("external")
    return external if isinstance(external, Mapping) else None


def _card_str(card: Mapping[str, Any], key: str) -> str:
    value = card.get(key)
    return normalize_whitespace(value) if isinstance(value, str) else ""


def post_content(record: Mapping[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """(text, title, raw extras) of a post record: the text with full link URLs, then the link card's URL
    (when the text lacks it) and description; the card's title as the title."""
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    text, links = expand_links(text, record)
    text = normalize_whitespace(text)
    extras: dict[str, Any] = {}
    title = None
    card = link_card(record)
    if card is not None:
        uri, title, description = _card_str(card, "uri"), _card_str(card, "title") or None, _card_str(card, "description")
        tail = [part for part in (uri if uri and uri not in text else "", description) if part]
        text = "\n\n".join(p for p in (text, "\n".join(tail)) if p)
        if uri:
            extras["card"] = uri
    if links:
        extras["links"] = links
    return text, clip(title, 4096), extras


# --- events as mentions and deletions ---------------------------------------------------------------


def _threading(record: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(kind, parent mention id, root uri) of a post record."""
    reply = record.get("reply")
    parent_uri = root_uri = None
    if isinstance(reply, Mapping) and isinstance(reply.get("parent"), Mapping):
        parent_uri = reply["parent"].get("uri") if isinstance(reply["parent"].get("uri"), str) else None
    if isinstance(reply, Mapping) and isinstance(reply.get("root"), Mapping) and reply["root"].get("uri"):
        root_uri = reply["root"]["uri"]
    quoted = quoted_post(record)
    if parent_uri:
        return "reply", stable_id("bluesky", parent_uri), root_uri
    if quoted:
        return "quote", stable_id("bluesky", quoted), root_uri
    return "post", None, root_uri


def event_to_mention(event: Mapping[str, Any]) -> Mention | None:
    """A Jetstream event as a mention: the post of a create, or of an update (again, with ``edited_at``
    the time of the update); None for anything else and for posts with nothing to read."""
    post = post_commit(event)
    if post is None or post[0] == "delete":
        return None
    operation, did, rkey, record = post
    assert record is not None
    text, title, extras = post_content(record)
    if not text:
        return None
    time_us = event.get("time_us")
    published = parse_time(record.get("createdAt")) or event_time(time_us)
    if published is None:
        raise MalformedEvent("record.createdAt is missing and the event has no time_us")
    kind, parent, root = _threading(record)
    raw: dict[str, Any] = {"did": did, "rkey": rkey, "time_us": time_us}
    commit = event.get("commit") or {}
    if commit.get("cid"):
        raw["cid"] = commit["cid"]
    if isinstance(record.get("langs"), list):
        raw["langs"] = record["langs"]
    if root:
        raw["root"] = root
    raw.update(extras)
    return Mention(
        id=mention_id(did, rkey),
        source="bluesky",
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        title=title,
        text=text,
        author=Author(handle=clip(did, 512), profile_url=f"https://bsky.app/profile/{did}"),
        published_at=published,
        parent_id=parent,
        kind=kind,  # type: ignore[arg-type]
        declared_lang=normal_lang(record["langs"][0]) if isinstance(record.get("langs"), list) and record["langs"] else None,
        edited_at=(event_time(time_us) or datetime.now(timezone.utc)) if operation == "update" else None,
        raw=raw,
    )


def event_to_deletion(event: Mapping[str, Any]) -> Deletion | None:
    """A ``delete`` commit of a post as the deletion of that post's mention; None for anything else."""
    post = post_commit(event)
    if post is None or post[0] != "delete":
        return None
    _, did, rkey, _ = post
    return Deletion(id=mention_id(did, rkey), source="bluesky", deleted_at=event_time(event.get("time_us")) or datetime.now(timezone.utc), reason="deleted")


#: ``account.status`` values of an inactive account whose posts are gone for good (atproto
#: ``com.atproto.sync.subscribeRepos#account``), with the deletion reason. ``suspended`` and
#: ``deactivated`` are reversible (the posts come back when the account does): not deletions.
ACCOUNT_GONE = {"deleted": "account deleted", "takendown": "removed"}


def account_gone(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """(did, deletion reason) when the event says an account was deleted or taken down, else None.
    Shape: ``{"did", "time_us", "kind": "account", "account": {"active": false, "did", "seq", "time",
    "status": "deleted"}}``."""
    if not isinstance(event, Mapping) or event.get("kind") != "account":
        return None
    account = event.get("account")
    if not isinstance(account, Mapping) or account.get("active") is not False:
        return None
    reason = ACCOUNT_GONE.get(str(account.get("status") or ""))
    did = account.get("did") or event.get("did")
    if reason is None or not isinstance(did, str) or not did.startswith("did:"):
        return None
    return did, reason


def subscribe_url(base: str, cursor: int | None, collections: tuple[str, ...] = (POST,)) -> str:
    """The Jetstream subscribe URL with ``wantedCollections`` and ``cursor`` (other query params kept)."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query += [("wantedCollections", c) for c in collections]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query), ""))
