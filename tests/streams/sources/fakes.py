"""Local fake servers that answer in the real APIs' documented formats, for the connector tests.

Each fake is an ``aiohttp.web`` application on 127.0.0.1 (an ephemeral port), with:

* the API's own response shapes, paging parameters and headers (Link, ETag, X-RateLimit-*),
* ``fail_next(status, headers=..., body=...)``: the next requests answer with these errors (429, 5xx, ...),
* ``requests``: what was asked (path, query, selected headers), for assertions.

Formats, from the public documentation:

* WordPress RSS 2.0 (``content:encoded``, ``dc:creator``, ``wfw:commentRss``, ``slash:comments``,
  ``atom:link rel="next"`` for paging per RFC 5005), per-post comment feeds, Atom 1.0.
* Mastodon REST (docs.joinmastodon.org): ``Status``/``Account`` entities, ``GET /api/v1/timelines/tag/:tag``
  and ``GET /api/v2/search`` with ``max_id``/``since_id``/``min_id``/``limit``, the ``Link`` header with
  ``rel="next"``/``rel="prev"``, ``X-RateLimit-Limit/Remaining/Reset`` (ISO 8601), ``{"error": "..."}``
  bodies; the streaming API (server-sent events, ``event: update``, ``:thump`` heart-beats).
* Reddit JSON listings (``{"kind": "Listing", "data": {"after", "before", "dist", "children": [...]}}``,
  ``t3`` posts, ``t1`` comments), ``after``/``limit``, ``X-Ratelimit-Used/Remaining/Reset`` (seconds),
  app-only OAuth at ``/api/v1/access_token``.
* Bluesky Jetstream: WebSocket ``/subscribe?wantedCollections=…&cursor=<time_us>``, JSON events
  ``{"did", "time_us", "kind", "commit": {"rev", "operation", "collection", "rkey", "record", "cid"}}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Sequence
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.test_utils import TestServer

from streams.schema import Mention

# --- shared -------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MemoryPublisher:
    """A ``Publisher`` that keeps what it is given; ``fail_after(n)`` makes the n+1-th publish fail."""

    def __init__(self) -> None:
        self.batches: list[list[Mention]] = []
        self._fail_at: int | None = None
        self.closed = False

    @property
    def mentions(self) -> list[Mention]:
        return [m for batch in self.batches for m in batch]

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.mentions]

    def fail_after(self, publishes: int | None) -> None:
        self._fail_at = publishes

    async def publish(self, mentions: Sequence[Mention]) -> None:
        if self._fail_at is not None and len(self.batches) >= self._fail_at:
            from streams.sources.producer import PublishError

            raise PublishError("fake: Kafka did not acknowledge")
        self.batches.append(list(mentions))

    async def publish_deletions(self, deletions) -> None:
        self.deletions = getattr(self, "deletions", []) + list(deletions)

    async def aclose(self) -> None:
        self.closed = True


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


class FakeServer:
    """Base: an aiohttp app on 127.0.0.1, failure injection and a request log."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.failures: list[Failure] = []
        self.requests: list[dict[str, Any]] = []
        self.server: TestServer | None = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": {k: v for k, v in request.headers.items() if k.lower() in ("if-none-match", "if-modified-since", "authorization", "user-agent")},
            }
        )
        if self.failures and request.path != "/subscribe":
            failure = self.failures.pop(0)
            return web.Response(status=failure.status, headers=failure.headers, text=failure.body)
        return await handler(request)

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None, body: str = "") -> None:
        for _ in range(times):
            self.failures.append(Failure(status, dict(headers or {}), body))

    async def start(self) -> "FakeServer":
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


# --- RSS / WordPress ----------------------------------------------------------------------------------

BASE_TIME = datetime(2024, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=1)))


@dataclass
class BlogPost:
    number: int
    title: str
    html: str
    author: str = "Rasmus"
    published: datetime = BASE_TIME
    comments: list[tuple[str, str, datetime]] = field(default_factory=list)  # (author, html, when)


class FakeBlog(FakeServer):
    """A WordPress-like blog: ``/feed/`` (RSS 2.0, ``?paged=N``), ``/<n>/feed/`` (the post's comments),
    ``/atom.xml`` (Atom 1.0), ``/page.html`` (not a feed). ETag/Last-Modified with 304."""

    def __init__(self, per_page: int = 3) -> None:
        super().__init__()
        self.posts: list[BlogPost] = []
        self.per_page = per_page
        self.version = 1
        self.app.router.add_get("/feed/", self.feed)
        self.app.router.add_get("/{n:\\d+}/feed/", self.comments_feed)
        self.app.router.add_get("/atom.xml", self.atom)
        self.app.router.add_get("/page.html", self.page)

    def add_post(self, title: str, html: str, *, author: str = "Rasmus", hours: float = 0.0, comments=()) -> BlogPost:
        post = BlogPost(len(self.posts) + 1, title, html, author, BASE_TIME + timedelta(hours=hours), list(comments))
        self.posts.append(post)
        self.version += 1
        return post

    def add_comment(self, post: BlogPost, author: str, html: str, hours: float = 1.0) -> None:
        post.comments.append((author, html, post.published + timedelta(hours=hours)))
        self.version += 1

    def _conditional(self, request: web.Request, tag: str, modified: datetime) -> web.Response | None:
        etag = f'"{tag}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return None

    def post_url(self, post: BlogPost) -> str:
        return f"{self.url}/{post.number}/"

    def guid(self, post: BlogPost) -> str:
        return f"{self.url}/?p={post.number}"

    async def feed(self, request: web.Request) -> web.Response:
        page = int(request.query.get("paged", "1"))
        etag = f"feed-{self.version}-{page}"
        not_modified = self._conditional(request, etag, BASE_TIME)
        if not_modified is not None:
            return not_modified
        newest_first = sorted(self.posts, key=lambda p: p.published, reverse=True)
        chunk = newest_first[(page - 1) * self.per_page : page * self.per_page]
        if not chunk and page > 1:
            return web.Response(status=404, text="<html>Siden blev ikke fundet</html>", content_type="text/html")
        has_next = len(newest_first) > page * self.per_page
        items = []
        for post in chunk:
            items.append(
                f"""<item>
  <title>{escape(post.title)}</title>
  <link>{self.post_url(post)}</link>
  <comments>{self.post_url(post)}#comments</comments>
  <dc:creator><![CDATA[{post.author}]]></dc:creator>
  <pubDate>{format_datetime(post.published)}</pubDate>
  <category><![CDATA[Ukategoriseret]]></category>
  <guid isPermaLink="false">{self.guid(post)}</guid>
  <description><![CDATA[{post.html[:40]} [&#8230;]]]></description>
  <content:encoded><![CDATA[{post.html}]]></content:encoded>
  <wfw:commentRss>{self.url}/{post.number}/feed/</wfw:commentRss>
  <slash:comments>{len(post.comments)}</slash:comments>
</item>"""
            )
        next_link = f'<atom:link href="{self.url}/feed/?paged={page + 1}" rel="next" type="application/rss+xml" />' if has_next else ""
        body = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel>
  <title>Nordlys Blog</title>
  <atom:link href="{self.url}/feed/" rel="self" type="application/rss+xml" />
  {next_link}
  <link>{self.url}</link>
  <description>Om energi og hverdag</description>
  <lastBuildDate>{format_datetime(BASE_TIME)}</lastBuildDate>
  <language>da-DK</language>
  <sy:updatePeriod>hourly</sy:updatePeriod>
  <generator>https://wordpress.org/?v=6.7</generator>
  {''.join(items)}
</channel></rss>"""
        return web.Response(
            body=body.encode("utf-8"),
            headers={"ETag": f'"{etag}"', "Last-Modified": format_datetime(BASE_TIME.astimezone(timezone.utc), usegmt=True)},
            content_type="application/rss+xml",
            charset="UTF-8",
        )

    async def comments_feed(self, request: web.Request) -> web.Response:
        number = int(request.match_info["n"])
        post = next((p for p in self.posts if p.number == number), None)
        if post is None:
            return web.Response(status=404, text="<html>not found</html>", content_type="text/html")
        etag = f"comments-{number}-{len(post.comments)}"
        not_modified = self._conditional(request, etag, BASE_TIME)
        if not_modified is not None:
            return not_modified
        items = []
        for index, (author, html, when) in enumerate(post.comments, start=1):
            items.append(
                f"""<item>
  <title>Kommentar til {escape(post.title)} af {escape(author)}</title>
  <link>{self.post_url(post)}#comment-{number * 100 + index}</link>
  <dc:creator><![CDATA[{author}]]></dc:creator>
  <pubDate>{format_datetime(when)}</pubDate>
  <guid isPermaLink="false">{self.url}/?p={number}#comment-{number * 100 + index}</guid>
  <description><![CDATA[{html}]]></description>
  <content:encoded><![CDATA[{html}]]></content:encoded>
</item>"""
            )
        body = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Kommentarer til: {escape(post.title)}</title>
  <atom:link href="{self.url}/{number}/feed/" rel="self" type="application/rss+xml" />
  <link>{self.post_url(post)}</link>
  <description>Om energi og hverdag</description>
  {''.join(items)}
</channel></rss>"""
        return web.Response(body=body.encode("utf-8"), headers={"ETag": f'"{etag}"'}, content_type="application/rss+xml", charset="UTF-8")

    async def atom(self, request: web.Request) -> web.Response:
        entries = []
        for post in sorted(self.posts, key=lambda p: p.published, reverse=True):
            entries.append(
                f"""<entry>
  <title type="html">{escape(post.title)}</title>
  <link rel="alternate" type="text/html" href="{self.post_url(post)}"/>
  <id>tag:nordlys.example,2024:post-{post.number}</id>
  <updated>{post.published.isoformat()}</updated>
  <published>{post.published.isoformat()}</published>
  <author><name>{escape(post.author)}</name><uri>{self.url}/author/{post.author.lower()}</uri></author>
  <content type="html">{escape(post.html)}</content>
</entry>"""
            )
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Nordlys Blog</title>
  <id>tag:nordlys.example,2024:feed</id>
  <updated>{BASE_TIME.isoformat()}</updated>
  <link rel="self" href="{self.url}/atom.xml"/>
  {''.join(entries)}
</feed>"""
        return web.Response(body=body.encode("utf-8"), content_type="application/atom+xml", charset="utf-8")

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><html><head><title>Nordlys</title></head><body><h1>Velkommen</h1></body></html>", content_type="text/html")


# --- Mastodon -----------------------------------------------------------------------------------------


def snowflake(when: datetime, seq: int = 0) -> str:
    return str((int(when.timestamp() * 1000) << 16) + seq)


def mastodon_account(username: str, domain: str | None, *, followers: int = 10, display_name: str | None = None, account_id: str = "1") -> dict:
    acct = f"{username}@{domain}" if domain else username
    host = domain or "local.example"
    return {
        "id": account_id,
        "username": username,
        "acct": acct,
        "display_name": display_name or username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-11-04T00:00:00.000Z",
        "note": "<p>Bor i Aarhus</p>",
        "url": f"https://{host}/@{username}",
        "uri": f"https://{host}/users/{username}",
        "avatar": f"https://{host}/avatars/{username}.png",
        "avatar_static": f"https://{host}/avatars/{username}.png",
        "header": "",
        "header_static": "",
        "followers_count": followers,
        "following_count": 12,
        "statuses_count": 345,
        "last_status_at": "2024-11-20",
        "emojis": [],
        "fields": [],
    }


class FakeMastodon(FakeServer):
    """A Mastodon instance: tag timelines, search, single statuses and the hashtag stream."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.statuses: dict[str, dict] = {}
        self.token = token
        self.remaining = 300
        self.stream_queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.app.router.add_get("/api/v1/timelines/tag/{tag}", self.tag_timeline)
        self.app.router.add_get("/api/v2/search", self.search)
        self.app.router.add_get("/api/v1/statuses/{id}", self.status)
        self.app.router.add_get("/api/v1/streaming/hashtag", self.streaming)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}" if self.server else "127.0.0.1"

    def add_status(
        self,
        text_html: str,
        *,
        when: datetime,
        seq: int = 0,
        tags: Sequence[str] = (),
        account: dict | None = None,
        in_reply_to: dict | None = None,
        remote: str | None = None,
        visibility: str = "public",
        counts: tuple[int, int, int] = (1, 2, 3),
        spoiler: str = "",
        status_id: str | None = None,
    ) -> dict:
        status_id = status_id or snowflake(when, seq)
        account = account or mastodon_account("signe", None, followers=120)
        domain = remote or self.host
        username = account["username"]
        status = {
            "id": status_id,
            "created_at": when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
            "in_reply_to_account_id": in_reply_to["account"]["id"] if in_reply_to else None,
            "sensitive": bool(spoiler),
            "spoiler_text": spoiler,
            "visibility": visibility,
            "language": "da",
            "uri": f"https://{domain}/users/{username}/statuses/{status_id}",
            "url": f"https://{domain}/@{username}/{status_id}",
            "replies_count": counts[2],
            "reblogs_count": counts[1],
            "favourites_count": counts[0],
            "edited_at": None,
            "content": text_html,
            "reblog": None,
            "application": None,
            "account": account,
            "media_attachments": [],
            "mentions": [],
            "tags": [{"name": t, "url": f"https://{domain}/tags/{t}"} for t in tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        self.statuses[status_id] = status
        return status

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "The access token is invalid"}, status=401)
        return None

    def _rate_headers(self) -> dict[str, str]:
        self.remaining = max(0, self.remaining - 1)
        reset = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining), "X-RateLimit-Reset": reset}

    @staticmethod
    def _key(status_id: str) -> tuple[int, str]:
        return (len(status_id), status_id)

    def _page(self, candidates: list[dict], query) -> list[dict]:
        limit = min(40, int(query.get("limit", "20")))
        items = sorted(candidates, key=lambda s: self._key(s["id"]), reverse=True)
        if query.get("max_id"):
            items = [s for s in items if self._key(s["id"]) < self._key(query["max_id"])]
        if query.get("since_id"):
            items = [s for s in items if self._key(s["id"]) > self._key(query["since_id"])]
        if query.get("min_id"):
            newer = [s for s in items if self._key(s["id"]) > self._key(query["min_id"])]
            return list(reversed(list(reversed(newer))[:limit]))  # the `limit` immediately newer, newest first
        return items[:limit]

    def _link(self, path: str, page: list[dict], query) -> dict[str, str]:
        if not page:
            return {}
        keep = {k: v for k, v in query.items() if k not in ("max_id", "min_id", "since_id")}
        base = f"{self.url}{path}?" + "&".join(f"{k}={v}" for k, v in keep.items())
        sep = "&" if keep else ""
        return {"Link": f'<{base}{sep}max_id={page[-1]["id"]}>; rel="next", <{base}{sep}min_id={page[0]["id"]}>; rel="prev"'}

    async def tag_timeline(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        if denied:
            return denied
        tag = request.match_info["tag"].lower()
        candidates = [s for s in self.statuses.values() if tag in [t["name"].lower() for t in s["tags"]] and s["visibility"] == "public"]
        page = self._page(candidates, request.query)
        return web.json_response(page, headers={**self._rate_headers(), **self._link(request.path, page, request.query)})

    async def search(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        if denied:
            return denied
        if request.query.get("type") != "statuses":
            return web.json_response({"error": "type must be statuses in this fake"}, status=422)
        q = request.query.get("q", "").lower()
        candidates = [s for s in self.statuses.values() if q in s["content"].lower() and s["visibility"] == "public"]
        page = self._page(candidates, request.query)
        return web.json_response({"accounts": [], "statuses": page, "hashtags": []}, headers=self._rate_headers())

    async def status(self, request: web.Request) -> web.Response:
        status = self.statuses.get(request.match_info["id"])
        if status is None or status["visibility"] not in ("public", "unlisted"):
            return web.json_response({"error": "Record not found"}, status=404)
        return web.json_response(status, headers=self._rate_headers())

    def push_update(self, status: dict) -> None:
        self.stream_queue.put_nowait(f"event: update\ndata: {json.dumps(status)}\n\n")

    def push_raw(self, text: str) -> None:
        self.stream_queue.put_nowait(text)

    def end_stream(self) -> None:
        self.stream_queue.put_nowait(None)

    async def streaming(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_auth(request)
        if denied:
            return denied
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        await response.write(b":)\n\n")
        while True:
            chunk = await self.stream_queue.get()
            if chunk is None:
                break
            await response.write(chunk.encode("utf-8"))
        return response


# --- Reddit -------------------------------------------------------------------------------------------


def reddit_md_html(markdown: str) -> str:
    """Reddit's rendering of (a little) markdown, escaped once more as the API sends it without raw_json=1."""
    import html as _html
    import re

    body = _html.escape(markdown, quote=False)
    body = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", body)
    body = re.sub(r"\*(.+?)\*", r"<em>\1</em>", body)
    return _html.escape(f'<!-- SC_OFF --><div class="md"><p>{body}</p>\n</div><!-- SC_ON -->', quote=False)


def b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if number == 0:
            return out


class FakeReddit(FakeServer):
    """Reddit's JSON API: ``/r/<sub>/new.json``, ``/r/<sub>/comments.json``, ``/search.json``,
    ``/r/<subs>/search.json``, ``/api/info.json``, OAuth ``/api/v1/access_token``; rate-limit headers on every answer."""

    def __init__(self, client: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.things: list[dict] = []  # {"kind", "data"}
        self.next_id = 36**5
        self.client = client
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.remaining = 99.0
        self.reset_s = 120
        self.app.router.add_post("/api/v1/access_token", self.access_token)
        self.app.router.add_get("/r/{sub}/new.json", self.new)
        self.app.router.add_get("/r/{sub}/comments.json", self.comments)
        self.app.router.add_get("/r/{subs}/search.json", self.search)
        self.app.router.add_get("/search.json", self.search)
        self.app.router.add_get("/api/info.json", self.info)

    def add_post(self, sub: str, title: str, selftext: str = "", *, author: str = "nordbo", created: float = 1732100000.0, score: int = 5, num_comments: int = 0, url: str | None = None) -> dict:
        self.next_id += 7
        id36 = b36(self.next_id)
        permalink = f"/r/{sub}/comments/{id36}/{title.lower().replace(' ', '_')[:30]}/"
        data = {
            "subreddit": sub,
            "selftext": selftext,
            "selftext_html": reddit_md_html(selftext) if selftext else None,
            "author_fullname": "t2_abc123",
            "title": title,
            "name": f"t3_{id36}",
            "id": id36,
            "score": score,
            "ups": max(score, 0),
            "upvote_ratio": 0.93,
            "num_comments": num_comments,
            "num_crossposts": 0,
            "created": created,
            "created_utc": created,
            "author": author,
            "permalink": permalink,
            "url": url or f"https://www.reddit.com{permalink}",
            "is_self": not url,
            "over_18": False,
            "domain": f"self.{sub}",
            "subreddit_name_prefixed": f"r/{sub}",
            "subreddit_subscribers": 400000,
        }
        thing = {"kind": "t3", "data": data}
        self.things.append(thing)
        return thing

    def add_comment(self, parent: dict, body: str, *, author: str = "fjeldbo", created: float | None = None, score: int = 2) -> dict:
        self.next_id += 5
        id36 = b36(self.next_id)
        link = parent if parent["kind"] == "t3" else next(t for t in self.things if t["data"]["name"] == parent["data"]["link_id"])
        created = created if created is not None else parent["data"]["created_utc"] + 60
        data = {
            "subreddit": link["data"]["subreddit"],
            "link_id": link["data"]["name"],
            "link_title": link["data"]["title"],
            "parent_id": parent["data"]["name"],
            "id": id36,
            "name": f"t1_{id36}",
            "author": author,
            "body": body,
            "body_html": reddit_md_html(body),
            "score": score,
            "created": created,
            "created_utc": created,
            "permalink": f"{link['data']['permalink']}{id36}/",
            "replies": "",
            "depth": 0,
        }
        thing = {"kind": "t1", "data": data}
        self.things.append(thing)
        return thing

    def _headers(self) -> dict[str, str]:
        self.remaining = max(0.0, self.remaining - 1)
        used = 100 - self.remaining
        return {"X-Ratelimit-Used": str(int(used)), "X-Ratelimit-Remaining": f"{self.remaining:.1f}", "X-Ratelimit-Reset": str(self.reset_s)}

    def _authorized(self, request: web.Request) -> web.Response | None:
        if self.client is None:
            return None
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer ") or header.split(" ", 1)[1] not in self.valid_tokens:
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401, headers={"WWW-Authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        return None

    def _listing(self, things: list[dict], query) -> web.Response:
        limit = max(1, min(100, int(query.get("limit", "25"))))
        items = sorted(things, key=lambda t: int(t["data"]["id"], 36), reverse=True)
        after = query.get("after")
        if after:
            names = [t["data"]["name"] for t in items]
            if after not in names:
                items = []
            else:
                items = items[names.index(after) + 1 :]
        page = items[:limit]
        more = len(items) > limit
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["data"]["name"] if more and page else None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": None,
                "children": page,
                "before": None,
            },
        }
        text = json.dumps(body)
        if query.get("raw_json") == "1":
            import html as _html

            for t in page:
                for key in ("selftext_html", "body_html"):
                    if t["data"].get(key):
                        text = text.replace(json.dumps(t["data"][key])[1:-1], json.dumps(_html.unescape(t["data"][key]))[1:-1])
        return web.Response(text=text, content_type="application/json", headers=self._headers())

    async def access_token(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        form = await request.post()
        expected = "Basic " + base64.b64encode(f"{self.client[0]}:{self.client[1]}".encode()).decode() if self.client else None
        if header != expected or form.get("grant_type") != "client_credentials":
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        self.tokens_issued += 1
        token = f"tok-{self.tokens_issued}"
        self.valid_tokens = {token}
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    async def new(self, request: web.Request) -> web.Response:
        denied = self._authorized(request)
        if denied:
            return denied
        sub = request.match_info["sub"].lower()
        return self._listing([t for t in self.things if t["kind"] == "t3" and t["data"]["subreddit"].lower() == sub], request.query)

    async def comments(self, request: web.Request) -> web.Response:
        denied = self._authorized(request)
        if denied:
            return denied
        sub = request.match_info["sub"].lower()
        return self._listing([t for t in self.things if t["kind"] == "t1" and t["data"]["subreddit"].lower() == sub], request.query)

    async def info(self, request: web.Request) -> web.Response:
        """``/api/info.json?id=t3_a,t1_b``: the things with these fullnames (unknown ones left out)."""
        denied = self._authorized(request)
        if denied:
            return denied
        wanted = request.query.get("id", "").split(",")
        by_name = {t["data"]["name"]: t for t in self.things}
        page = [by_name[n] for n in wanted if n in by_name]
        return web.json_response({"kind": "Listing", "data": {"after": None, "dist": len(page), "modhash": "", "geo_filter": "", "children": page, "before": None}}, headers=self._headers())

    async def search(self, request: web.Request) -> web.Response:
        denied = self._authorized(request)
        if denied:
            return denied
        q = request.query.get("q", "").lower()
        subs = request.match_info.get("subs")
        allowed = {s.lower() for s in subs.split("+")} if subs and request.query.get("restrict_sr") in ("1", "on", "true") else None
        hits = [
            t
            for t in self.things
            if t["kind"] == "t3"
            and (q in t["data"]["title"].lower() or q in t["data"]["selftext"].lower())
            and (allowed is None or t["data"]["subreddit"].lower() in allowed)
        ]
        return self._listing(hits, request.query)


# --- Bluesky Jetstream ----------------------------------------------------------------------------------


def jetstream_post(did: str, rkey: str, text: str, time_us: int, *, reply_to: str | None = None, quote: str | None = None, langs=("da",)) -> dict:
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": datetime.fromtimestamp(time_us / 1e6, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "langs": list(langs),
        "text": text,
    }
    if reply_to:
        record["reply"] = {
            "parent": {"cid": "bafyreiparent", "uri": reply_to},
            "root": {"cid": "bafyreiroot", "uri": reply_to},
        }
    if quote:
        record["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": "bafyreiquoted", "uri": quote}}
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"3l{rkey}rev",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
            "cid": f"bafyrei{rkey}",
        },
    }


def jetstream_other(did: str, time_us: int, kind: str = "identity") -> dict:
    if kind == "identity":
        return {"did": did, "time_us": time_us, "kind": "identity", "identity": {"did": did, "handle": "someone.bsky.social", "seq": 1, "time": "2024-11-20T08:00:00Z"}}
    if kind == "account":
        return {"did": did, "time_us": time_us, "kind": "account", "account": {"active": True, "did": did, "seq": 2, "time": "2024-11-20T08:00:00Z"}}
    if kind == "delete":
        return {"did": did, "time_us": time_us, "kind": "commit", "commit": {"rev": "3lrev", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "gone"}}
    if kind == "like":
        return {
            "did": did,
            "time_us": time_us,
            "kind": "commit",
            "commit": {
                "rev": "3lrev",
                "operation": "create",
                "collection": "app.bsky.feed.like",
                "rkey": "3llike",
                "record": {"$type": "app.bsky.feed.like", "createdAt": "2024-11-20T08:00:00Z", "subject": {"cid": "x", "uri": "at://did:plc:x/app.bsky.feed.post/1"}},
                "cid": "bafyreilike",
            },
        }
    raise ValueError(kind)


class FakeJetstream(FakeServer):
    """Jetstream: replays ``events`` (ordered by ``time_us``) from the ``cursor`` (all of them without
    one), filtered by ``wantedCollections``; ``close_after`` closes the connection after that many events
    (a dropped connection); ``send_garbage`` sends a non-JSON message first. Then stays open, idle."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []
        self.close_after: int | None = None
        self.send_garbage = False
        self.connections: list[dict[str, Any]] = []
        self.app.router.add_get("/subscribe", self.subscribe)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/subscribe"

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        wanted = request.query.getall("wantedCollections", [])
        cursor = request.query.get("cursor")
        self.connections.append({"cursor": int(cursor) if cursor else None, "wanted": wanted})
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        if self.send_garbage:
            await ws.send_str("\x00not json")
        sent = 0
        for event in sorted(self.events, key=lambda e: e["time_us"]):
            if cursor and event["time_us"] < int(cursor):
                continue
            collection = (event.get("commit") or {}).get("collection")
            if wanted and event["kind"] == "commit" and collection not in wanted:
                continue
            await ws.send_str(json.dumps(event))
            sent += 1
            if self.close_after is not None and sent >= self.close_after:
                await ws.close(code=1011, message=b"server going away")
                return ws
        try:
            async for _ in ws:  # stay open (idle) until the client goes
                pass
        except asyncio.CancelledError:
            pass
        return ws


# --- running the CLI from an async test (the fakes keep serving meanwhile) ------------------------------


async def run_lytter(settings, *args: str, timeout: float = 120.0, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    """``python -m streams.cli <args>`` with the settings as LYTTER_* variables; (exit code, output)."""
    import os
    import sys

    env = {**os.environ, **settings.to_env(), "LYTTER_INGEST_METRICS_PORT": "0", "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **(extra_env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        return 124, out.decode("utf-8", "replace")
    return process.returncode or 0, out.decode("utf-8", "replace")
