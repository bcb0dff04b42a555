"""The ``connectors:`` section of the brand-watch YAML, validated, and the connectors it describes.

Example::

    connectors:
      rss:
        - url: https://blog.example.dk/feed/
          interval_s: 300            # seconds between polls
          comments: true             # follow <wfw:commentRss> (WordPress comment feeds)
        - https://nyheder.example.no/rss   # a bare URL takes the defaults
      mastodon:
        - instance: https://mastodon.social
          hashtags: [lego, legogroup]
          search: ["lego group"]     # full-text search needs a token on most instances
          stream: true               # also the streaming API (hashtags), for seconds-fresh mentions
          token_env: MASTODON_TOKEN  # the *name* of the environment variable holding the token
      reddit:
        - subreddits: [denmark, norge, sweden]
          search: [lego]
          comments: true
          client_id_env: REDDIT_CLIENT_ID          # app-only OAuth (recommended by Reddit)
          client_secret_env: REDDIT_CLIENT_SECRET
          user_agent: "lytter/0.1 (by u/yourname)"
      bluesky:
        - keywords: [lego, "lego group"]
          jetstream_url: wss://jetstream2.us-east.bsky.network/subscribe
      push: {enabled: true}          # POST /mentions, token from LYTTER_PUSH_TOKEN

Secrets never live in the file: ``*_env`` fields name environment variables. Errors name the file, the
line and the field: ``watch.yaml:14: connectors.mastodon[0].hashtags: Input should be a valid list``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.sources.base import Connector, TokenBucket
from streams.watch.file import WatchConfigError, loc_text, parse_watch, yaml_node_at


class ConnectorConfigError(WatchConfigError):
    pass


class _Conf(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _http_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"{value!r} is not an absolute {'/'.join(schemes)} URL")
    return value


def _env_name(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.replace("_", "").isalnum() or value[0].isdigit():
        raise ValueError(f"{value!r} is not an environment variable name (the *name* of the variable, not the secret)")
    return value


def _secret(env: str | None, what: str) -> str | None:
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise ConnectorConfigError(f"{what}: the environment variable {env} is not set (it should hold the secret)")
    return value


class RssFeed(_Conf):
    url: str = Field(description="The feed's URL (RSS 2.0, RSS 1.0 or Atom)")
    interval_s: float = Field(300.0, ge=5, description="Seconds between polls")
    comments: bool = Field(True, description="Also read each post's comment feed (<wfw:commentRss>)")
    max_comment_feeds: int = Field(20, ge=0, le=1000, description="Comment feeds of the latest N posts are re-read every poll")
    max_pages: int = Field(10, ge=1, le=1000, description="Older pages (rel=next) followed in a chain when every item of a page is new")
    rate_per_s: float = Field(1.0, gt=0, le=100, description="Requests per second to this site at most")
    source: str = Field("blog", min_length=1, max_length=64, description="The mentions' source field (blog, news, forum, ...)")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class MastodonConf(_Conf):
    instance: str = Field(description="Instance base URL or host name, e.g. https://mastodon.social")
    hashtags: list[str] = Field(default_factory=list, description="Hashtags (with or without #) whose public timelines are read")
    search: list[str] = Field(default_factory=list, description="Full-text status searches (GET /api/v2/search)")
    stream: bool = Field(False, description="Also keep the streaming API open for the hashtags")
    streaming_url: str | None = Field(None, description="Streaming server base URL when it is not the instance's")
    interval_s: float = Field(60.0, ge=5)
    limit: int = Field(40, ge=1, le=40, description="Statuses per page (Mastodon's maximum is 40)")
    backfill_pages: int = Field(1, ge=1, le=100, description="Pages read backwards on the first run")
    overlap_s: float = Field(300.0, ge=0, le=86400, description="Each pass re-reads this far back for late-federated posts")
    resolve_parents: bool = Field(True, description="Look up replied-to statuses to thread replies")
    token_env: str | None = Field(None, description="Environment variable with an access token (read scope)")
    rate_per_s: float = Field(1.0, gt=0, le=50, description="Requests per second to this instance (300 per 5 min unauthenticated)")

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _http_url(value if "://" in value else f"https://{value}")

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [t.strip().lstrip("#") for t in value]
        bad = [t for t in tags if not t or any(ch.isspace() for ch in t)]
        if bad:
            raise ValueError(f"hashtags are single words: {bad}")
        return tags

    @model_validator(mode="after")
    def _something(self) -> "MastodonConf":
        if not self.hashtags and not self.search:
            raise ValueError("give hashtags or search (or both)")
        return self


class RedditConf(_Conf):
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
        return _env_name(value)

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


class BlueskyConf(_Conf):
    keywords: list[str] = Field(min_length=1, description="Posts whose text contains one of these (at a word start, any case)")
    jetstream_url: str = Field("wss://jetstream2.us-east.bsky.network/subscribe", description="Jetstream subscribe URL")
    langs: list[str] = Field(default_factory=list, description="Only posts tagged with one of these languages (empty: all)")
    rewind_s: float = Field(5.0, ge=0, le=3600, description="On reconnect, replay this much before the checkpoint (repeats are dropped)")
    batch_s: float = Field(1.0, gt=0, le=60, description="Publish and checkpoint at least this often")

    @field_validator("jetstream_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        return _http_url(value, ("ws", "wss"))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if not all(k.strip() for k in value):
            raise ValueError("keywords must not be empty")
        return [k.strip() for k in value]


class PushConf(_Conf):
    enabled: bool = Field(False, description="Serve POST /mentions (token: LYTTER_PUSH_TOKEN) in `lytter ingest run`")
    max_batch: int = Field(1000, ge=1, le=100_000, description="Mentions per request at most (413 above)")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024, description="Request body size at most (413 above)")


class ConnectorsConfig(_Conf):
    rss: list[RssFeed] = Field(default_factory=list)
    mastodon: list[MastodonConf] = Field(default_factory=list)
    reddit: list[RedditConf] = Field(default_factory=list)
    bluesky: list[BlueskyConf] = Field(default_factory=list)
    push: PushConf = Field(default_factory=PushConf)

    @field_validator("rss", mode="before")
    @classmethod
    def _bare_urls(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"url": item} if isinstance(item, str) else item for item in value]
        return value

    def is_empty(self) -> bool:
        return not (self.rss or self.mastodon or self.reddit or self.bluesky or self.push.enabled)


# --- parsing with file:line ---------------------------------------------------------------------------


def parse_connectors(data: Any, *, source: str = "<watch>", text: str | None = None) -> ConnectorsConfig:
    """Validate a ``connectors:`` mapping; errors carry ``file:line`` (when ``text`` is given) and the field."""
    try:
        return ConnectorsConfig.model_validate(data or {})
    except ValidationError as exc:
        root = yaml.compose(text) if text else None
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = ("connectors",) + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            node = yaml_node_at(root, loc) if root is not None else None
            line = f":{node.start_mark.line + 1}" if node is not None else ""
            lines.append(f"{source}{line}: {loc_text(loc) if loc else ''}: {err['msg'].removeprefix('Value error, ')}")
        raise ConnectorConfigError("\n".join(lines)) from None


def load_connectors(path: Path) -> ConnectorsConfig:
    """The ``connectors:`` section of a watch file (the whole file is validated, as the worker would)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConnectorConfigError(f"{path}: no such file (setting LYTTER_WATCH_FILE or --watch-file)") from None
    watch = parse_watch(text, str(path))
    return parse_connectors(watch.connectors, source=str(path), text=text)


# --- building the connectors --------------------------------------------------------------------------


def rss_connectors(feeds: list[RssFeed]) -> list[Connector]:
    from streams.sources.rss import RssConnector

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


def mastodon_connectors(entries: list[MastodonConf], *, where: str = "connectors.mastodon") -> list[Connector]:
    from streams.sources.mastodon import MastodonConnector

    out: list[Connector] = []
    for index, entry in enumerate(entries):
        token = _secret(entry.token_env, f"{where}[{index}].token_env")
        limiter = TokenBucket(entry.rate_per_s, burst=5)  # one budget per instance entry
        cache: OrderedDict = OrderedDict()
        common = dict(
            interval_s=entry.interval_s,
            limit=entry.limit,
            backfill_pages=entry.backfill_pages,
            overlap_s=entry.overlap_s,
            token=token,
            resolve_parents=entry.resolve_parents,
            limiter=limiter,
            parent_cache=cache,
        )
        for tag in entry.hashtags:
            out.append(MastodonConnector(entry.instance, hashtag=tag, stream=entry.stream, streaming_url=entry.streaming_url, **common))
        for query in entry.search:
            out.append(MastodonConnector(entry.instance, search=query, **common))
    return out


def reddit_connectors(entries: list[RedditConf], *, where: str = "connectors.reddit") -> list[Connector]:
    from streams.sources.reddit import WEB, RedditAuth, RedditConnector

    out: list[Connector] = []
    for index, entry in enumerate(entries):
        auth = None
        if entry.client_id_env:
            auth = RedditAuth(
                _secret(entry.client_id_env, f"{where}[{index}].client_id_env") or "",
                _secret(entry.client_secret_env, f"{where}[{index}].client_secret_env") or "",
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


def bluesky_connectors(entries: list[BlueskyConf]) -> list[Connector]:
    from streams.sources.bluesky import BlueskyConnector

    return [
        BlueskyConnector(e.keywords, jetstream_url=e.jetstream_url, rewind_s=e.rewind_s, batch_s=e.batch_s, langs=e.langs or None)
        for e in entries
    ]


def build_connectors(config: ConnectorsConfig) -> list[Connector]:
    """Every connector the configuration describes (one per feed, hashtag, search, listing, keyword set)."""
    return [
        *rss_connectors(config.rss),
        *mastodon_connectors(config.mastodon),
        *reddit_connectors(config.reddit),
        *bluesky_connectors(config.bluesky),
    ]
