"""`connectors.reddit` in the watch file, the connectors it describes, `lytter ingest reddit`."""

from __future__ import annotations

import typer
from pydantic import Field, field_validator, model_validator

from streams.sources.base import Connector, TokenBucket
from streams.sources.connectors.reddit.connector import RedditAuth, RedditConnector
from streams.sources.connectors.reddit.mapping import WEB
from streams.sources.connectors.spec import CliRun, ConnectorConf, env_name, secret


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
    recheck: int = Field(
        100, ge=0, le=100, description="Published items looked up again each poll (/api/info.json, one request) for deletions and edits; 0 = off"
    )

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
            recheck=entry.recheck,
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
