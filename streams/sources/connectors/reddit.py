"""Reddit: subreddit listings (new posts, new comments) and search, from the JSON API.

* ``GET /r/<sub>/new.json``, ``GET /r/<sub>/comments.json`` and ``GET /search.json?q=…&sort=new`` (or
  ``/r/<a+b>/search.json?restrict_sr=1``), ``limit`` up to 100, ``raw_json=1`` (unescaped text).
* Listings run newest first and page *backwards* with ``after=<fullname>``. A poll reads from the newest
  until it reaches what the checkpoint says was read (``hwm``: the highest item id, base 36), or the end
  (``after: null``). The pass in progress (``scan``: the ``after`` cursor and the newest id of the pass)
  is checkpointed with every page, and ``hwm`` only moves when the pass is complete, so a restart (or a
  poll cut short by ``max_pages``) resumes the pass: no gap, and a seen-set drops repeats.
* First run: ``backfill_pages`` pages, then from there on.
* Rate limits: ``X-Ratelimit-Remaining`` / ``-Used`` / ``-Reset`` are honoured (``SourceHttp`` waits for the
  reset when remaining reaches 0); 429 waits ``Retry-After``/the reset.
* OAuth (app-only, ``client_credentials``): with ``client_id``/``client_secret`` a token is fetched from
  ``/api/v1/access_token`` and requests go to ``https://oauth.reddit.com`` with ``Authorization: bearer``.

Mapping: ``reddit:<fullname>`` ids (``t3_…`` posts, ``t1_…`` comments); a comment's ``parent_id`` is its
parent's fullname (``t3_`` = the post: kind ``comment``; ``t1_`` = another comment: kind ``reply``);
``score`` (clamped at 0) is ``likes``, ``num_comments`` ``replies``, ``num_crossposts`` ``shares``;
``created_utc`` becomes an aware UTC datetime.
"""

from __future__ import annotations

import html
import logging
import time
from typing import Any, AsyncIterator, Mapping
from urllib.parse import quote

import typer
from pydantic import Field, field_validator, model_validator

from streams.schema import Author, Engagement, Mention
from streams.sources.base import Batch, Connector, SourceError, TokenBucket, errors_total
from streams.sources.connectors.spec import CliRun, ConnectorConf, env_name, secret
from streams.sources.http import SourceHttp, malformed
from streams.sources.text import SeenIds, clip, html_to_text, normalize_whitespace, parse_time, stable_id

log = logging.getLogger(__name__)

WEB = "https://www.reddit.com"
SEEN_MAX = 3000
_GONE = {"[deleted]", "[removed]", ""}


# --- pure mapping ------------------------------------------------------------------------------------


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
    """A listing child (``{"kind": "t3"|"t1", "data": {...}}``) as a mention; None for what has no text
    left (removed/deleted comments) and for kinds that are not posts or comments."""
    if not isinstance(thing, Mapping) or not isinstance(thing.get("data"), Mapping):
        raise MalformedThing("a listing child must be {kind, data}")
    kind, data = thing.get("kind"), thing["data"]
    if kind not in ("t1", "t3"):
        return None
    name = fullname(kind, data)
    published = parse_time(data.get("created_utc"))
    if published is None:
        raise MalformedThing(f"{name}: created_utc is missing or not a number")
    permalink = data.get("permalink")
    url = f"{WEB}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else (permalink or None)
    raw: dict[str, Any] = {"fullname": name}
    for key in ("subreddit", "link_id", "upvote_ratio", "over_18", "domain"):
        if data.get(key) is not None:
            raw[key] = data[key]
    if kind == "t3":
        title = normalize_whitespace(html.unescape(data.get("title") or "")) or None
        text = _markdown_or_html(data, "selftext", "selftext_html")
        if text in _GONE:
            text = title or ""
        if not text:
            return None
        if data.get("url") and data.get("url") != url:
            raw["link"] = data["url"]
        return Mention(
            id=stable_id("reddit", name),
            source="reddit",
            url=url,
            title=clip(title, 4096),
            text=text,
            author=_author(data),
            published_at=published,
            kind="post",
            engagement=Engagement(likes=_nonneg(data.get("score")), replies=_nonneg(data.get("num_comments")), shares=_nonneg(data.get("num_crossposts"))),
            raw=raw,
        )
    text = _markdown_or_html(data, "body", "body_html")
    if text in _GONE:
        return None
    parent = data.get("parent_id")
    if not isinstance(parent, str) or "_" not in parent:
        raise MalformedThing(f"{name}: parent_id is missing")
    return Mention(
        id=stable_id("reddit", name),
        source="reddit",
        url=url,
        text=text,
        author=_author(data),
        published_at=published,
        parent_id=stable_id("reddit", parent),
        kind="comment" if parent.startswith("t3_") else "reply",
        engagement=Engagement(likes=_nonneg(data.get("score"))),
        raw=raw,
    )


def listing_children(data: Any) -> tuple[list[dict], str | None]:
    """``{"kind": "Listing", "data": {"children": [...], "after": ...}}`` -> (children, after)."""
    if not isinstance(data, Mapping) or data.get("kind") != "Listing" or not isinstance(data.get("data"), Mapping):
        raise MalformedThing("not a Listing object")
    children = data["data"].get("children")
    if not isinstance(children, list):
        raise MalformedThing("Listing.data.children is not a list")
    after = data["data"].get("after")
    return children, after if isinstance(after, str) and after else None


# --- OAuth (app-only) ----------------------------------------------------------------------------------


class RedditAuth:
    """Application-only OAuth (``grant_type=client_credentials``); the token is fetched when needed and
    again shortly before it expires. Shared by the connectors of one configuration entry."""

    def __init__(self, client_id: str, client_secret: str, token_url: str = f"{WEB}/api/v1/access_token") -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"<RedditAuth {self.token_url}>"

    def invalidate(self) -> None:
        self._token = None

    async def headers(self, http: SourceHttp, source: str, limiter: TokenBucket | None) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires - 60:
            response = await http.request(
                source,
                "POST",
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
                limiter=limiter,
            )
            try:
                data = response.json()
                self._token = str(data["access_token"])
                self._expires = time.monotonic() + float(data.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise SourceError(
                    source,
                    self.token_url,
                    "the token endpoint did not answer with an access_token",
                    "Check the app's client id and secret (a 'script' or 'web' app at reddit.com/prefs/apps)",
                ) from None
        return {"Authorization": f"bearer {self._token}"}


# --- the connector -------------------------------------------------------------------------------------


class RedditConnector(Connector):
    """One listing: a subreddit's new posts, its new comments, or a search."""

    kind = "reddit"

    def __init__(
        self,
        *,
        subreddit: str | None = None,
        listing: str = "new",
        search: str | None = None,
        restrict_to: list[str] | None = None,
        base_url: str = WEB,
        interval_s: float = 120.0,
        limit: int = 100,
        max_pages: int = 10,
        backfill_pages: int = 1,
        limiter: TokenBucket | None = None,
        auth: RedditAuth | None = None,
        user_agent: str | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.base = base_url.rstrip("/")
        params: dict[str, Any] = {"limit": max(1, min(100, limit)), "raw_json": 1}
        if search is not None:
            subs = "+".join(restrict_to or [])
            self.path = f"/r/{subs}/search.json" if subs else "/search.json"
            params.update(q=search, sort="new", type="link")
            if subs:
                params["restrict_sr"] = 1
            source_id = f"reddit:search:{search}" + (f":r/{subs}" if subs else "")
        else:
            if not subreddit or listing not in ("new", "comments"):
                raise ValueError("a Reddit listing needs a subreddit and listing 'new' or 'comments'")
            subreddit = subreddit.strip().removeprefix("/").removeprefix("r/")
            self.path = f"/r/{subreddit}/{listing}.json"
            source_id = f"reddit:r/{subreddit}:{listing}"
        super().__init__(source_id, interval_s=interval_s)
        self.params = params
        self.max_pages = max_pages
        self.backfill_pages = max(1, backfill_pages)
        self.limiter = limiter or TokenBucket(0.5, burst=2)
        self.auth = auth

    async def _listing(self, http: SourceHttp, after: str | None) -> tuple[list[dict], str | None]:
        params = dict(self.params)
        if after:
            params["after"] = after
        url = f"{self.base}{self.path}"
        for attempt in (1, 2):
            headers = {"Accept": "application/json"}
            if self.user_agent:
                headers["User-Agent"] = self.user_agent
            if self.auth is not None:
                headers.update(await self.auth.headers(http, self.source_id, self.limiter))
            try:
                data, response = await http.get_json(self.source_id, url, params=params, headers=headers, limiter=self.limiter)
            except SourceError as exc:
                if exc.status == 401 and self.auth is not None and attempt == 1:
                    self.auth.invalidate()  # expired or revoked: fetch a new token once
                    continue
                raise
            try:
                return listing_children(data)
            except MalformedThing as exc:
                raise malformed(self.source_id, response, f"{exc} (a Reddit listing is {{kind: Listing, data: {{children, after}}}})") from None
        raise AssertionError("unreachable")

    def _map(self, children: list, seen: SeenIds) -> list[Mention]:
        mentions = []
        for child in children:
            try:
                mention = thing_to_mention(child)
            except MalformedThing as exc:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: skipping a malformed item: %s", self.source_id, exc)
                continue
            if mention is None or mention.id in seen:
                continue
            seen.add(mention.id)
            mentions.append(mention)
        return mentions

    def _key(self, child: Any) -> int | None:
        try:
            return id_number(fullname(child.get("kind", "t3"), child["data"]))
        except (MalformedThing, KeyError, AttributeError, TypeError):
            return None

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        state = dict(self.state)
        seen = SeenIds(state.get("seen", []), SEEN_MAX)
        hwm: int | None = state.get("hwm")
        scan = dict(state.get("scan") or {"after": None, "top": None, "pages": 0})
        pages_this_poll = 0
        while True:
            children, after = await self._listing(http, scan.get("after"))
            pages_this_poll += 1
            scan["pages"] = int(scan.get("pages") or 0) + 1
            keys = [k for k in (self._key(c) for c in children) if k is not None]
            fresh = [c for c in children if hwm is None or (self._key(c) or 0) > hwm]
            reached = hwm is not None and any(k <= hwm for k in keys)
            mentions = self._map(fresh, seen)
            top = max([k for k in (scan.get("top"), *keys) if k is not None], default=None)
            complete = reached or after is None or not children or (hwm is None and scan["pages"] >= self.backfill_pages)
            if complete:
                new_hwm = max([k for k in (hwm, top) if k is not None], default=None)
                state = {**state, "seen": seen.to_list(), "hwm": new_hwm, "scan": None}
            else:
                scan.update(after=after, top=top)
                state = {**state, "seen": seen.to_list(), "scan": dict(scan)}
            yield Batch(mentions, state, len(children), f"page {scan['pages']}" + (" (caught up)" if complete else ""))
            if complete:
                return
            if pages_this_poll >= self.max_pages:
                log.info("%s: %d pages read this poll; the pass continues on the next poll", self.source_id, pages_this_poll)
                return


# --- `connectors.reddit` in the watch file, the connectors it describes, `lytter ingest reddit` ------------


class RedditConf(ConnectorConf):
    subreddits: list[str] = Field(default_factory=list, description="Subreddits whose new posts (and comments) are read")
    search: list[str] = Field(default_factory=list, description="Searches (sort=new), site-wide unless restrict_search")
    restrict_search: bool = Field(False, description="Search only in the subreddits above")
    comments: bool = Field(True, description="Also read the subreddits' new comments")
    base_url: str | None = Field(None, description="API base URL (default https://www.reddit.com, or https://oauth.reddit.com with OAuth)")
    token_url: str = Field("https://www.reddit.com/api/v1/access_token", description="OAuth token endpoint")
    client_id_env: str | None = Field(None, description="Environment variable with the OAuth app's client id")
    client_secret_env: str | None = Field(None, description="Environment variable with the OAuth app's secret")
    user_agent: str | None = Field(None, description="Reddit asks for a descriptive User-Agent: '<app>/<version> (by u/<name>)'")
    interval_s: float = Field(120.0, ge=5)
    limit: int = Field(100, ge=1, le=100)
    max_pages: int = Field(10, ge=1, le=100, description="Pages per poll (a longer pass continues on the next poll)")
    backfill_pages: int = Field(1, ge=1, le=100, description="Pages read on the first run")
    rate_per_s: float = Field(0.5, gt=0, le=10, description="Requests per second (Reddit: 100 a minute with OAuth, far fewer without)")

    @field_validator("client_id_env", "client_secret_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return env_name(value)

    @field_validator("subreddits")
    @classmethod
    def _subs(cls, value: list[str]) -> list[str]:
        subs = [s.strip().removeprefix("/").removeprefix("r/") for s in value]
        bad = [s for s in subs if not s or not s.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"not subreddit names: {bad}")
        return subs

    @model_validator(mode="after")
    def _something(self) -> "RedditConf":
        if not self.subreddits and not self.search:
            raise ValueError("give subreddits or search (or both)")
        if (self.client_id_env is None) != (self.client_secret_env is None):
            raise ValueError("OAuth needs both client_id_env and client_secret_env")
        if self.restrict_search and not self.subreddits:
            raise ValueError("restrict_search needs subreddits")
        return self


def reddit_connectors(entries: list[RedditConf], *, where: str = "connectors.reddit") -> list[Connector]:
    out: list[Connector] = []
    for index, entry in enumerate(entries):
        auth = None
        if entry.client_id_env:
            auth = RedditAuth(
                secret(entry.client_id_env, f"{where}[{index}].client_id_env") or "",
                secret(entry.client_secret_env, f"{where}[{index}].client_secret_env") or "",
                entry.token_url,
            )
        base = entry.base_url or ("https://oauth.reddit.com" if auth else WEB)
        limiter = TokenBucket(entry.rate_per_s, burst=2)
        common = dict(
            base_url=base,
            interval_s=entry.interval_s,
            limit=entry.limit,
            max_pages=entry.max_pages,
            backfill_pages=entry.backfill_pages,
            limiter=limiter,
            auth=auth,
            user_agent=entry.user_agent,
        )
        for sub in entry.subreddits:
            out.append(RedditConnector(subreddit=sub, listing="new", **common))
            if entry.comments:
                out.append(RedditConnector(subreddit=sub, listing="comments", **common))
        for query in entry.search:
            out.append(RedditConnector(search=query, restrict_to=entry.subreddits if entry.restrict_search else None, **common))
    return out


def reddit_command(
    subreddit: list[str] = typer.Option(None, "--subreddit", "-r", help="Subreddit whose new posts (and comments) are read; repeatable."),
    search: list[str] = typer.Option(None, "--search", help="Search (sort=new); repeatable."),
    comments: bool = typer.Option(True, help="Also read the subreddits' new comments."),
    restrict_search: bool = typer.Option(False, help="Search only in the given subreddits."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(120.0, help="Seconds between polls with --follow."),
    base_url: str = typer.Option(None, help="API base URL (default https://www.reddit.com, https://oauth.reddit.com with OAuth)."),
    user_agent: str = typer.Option(None, help="Descriptive User-Agent as Reddit asks: '<app>/<version> (by u/<name>)'."),
    client_id_env: str = typer.Option(None, help="Environment variable with the OAuth app's client id (app-only OAuth)."),
    client_secret_env: str = typer.Option(None, help="Environment variable with the OAuth app's secret."),
) -> CliRun:
    """Read Reddit listings (new posts, new comments) and searches into Kafka.

    Honours X-Ratelimit-Remaining/-Reset (waits when the budget is spent) and Retry-After on 429.
    """
    return CliRun(
        entries=lambda: [
            RedditConf(
                subreddits=subreddit or [],
                search=search or [],
                comments=comments,
                restrict_search=restrict_search,
                interval_s=interval,
                base_url=base_url,
                user_agent=user_agent,
                client_id_env=client_id_env,
                client_secret_env=client_secret_env,
            )
        ],
        once=not follow,
        where="--client-id-env/--client-secret-env",
    )


REDDIT_EXAMPLE = """\
reddit:
  - subreddits: [denmark, norge, sweden]
    search: [lego]
    client_id_env: REDDIT_CLIENT_ID
    client_secret_env: REDDIT_CLIENT_SECRET
"""
