"""`connectors.mastodon` in the watch file, the connectors it describes, `lytter ingest mastodon`."""

from __future__ import annotations

import logging
from collections import OrderedDict

import typer
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from streams.sources.base import Connector, TokenBucket
from streams.sources.connectors.spec import CliRun, ConnectorConf, env_name, http_url, secret

log = logging.getLogger(__name__)

SEEN_MAX = 2000


from streams.sources.connectors.mastodon.connector import MastodonConnector

# --- `connectors.mastodon` in the watch file, the connectors it describes, `lytter ingest mastodon` --------


class MastodonConf(ConnectorConf):
    instance: str = Field(description="Instance base URL or host name, e.g. https://mastodon.social")
    hashtags: list[str] = Field(default_factory=list, description="Hashtags (with or without #) whose public timelines are read")
    search: list[str] = Field(default_factory=list, description="Full-text status searches (GET /api/v2/search)")
    stream: bool = Field(False, description="Also keep the streaming API open for the hashtags (needs token_env: Mastodon 4.2+)")
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
        return env_name(value)

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        return http_url(value if "://" in value else f"https://{value}")

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
        if self.stream and self.hashtags and not self.token_env:
            # Mastodon 4.2+ answers the hashtag stream only with a user's token; without one the stream
            # would fail on every reconnect. Reported at `stream` (a model check has no field of its own).
            problem = (
                "streaming hashtags needs an access token since Mastodon 4.2: set token_env (--token-env) to the name "
                "of the environment variable holding a token with read scope, or leave stream off (the timelines are still polled)"
            )
            detail = InitErrorDetails(type=PydanticCustomError("value_error", problem), loc=("stream",), input=self.stream)
            raise ValidationError.from_exception_data(type(self).__name__, [detail])
        return self


def mastodon_connectors(entries: list[MastodonConf], *, where: str = "connectors.mastodon") -> list[Connector]:
    out: list[Connector] = []
    for index, entry in enumerate(entries):
        token = secret(entry.token_env, f"{where}[{index}].token_env")
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


def mastodon_command(
    instance: str = typer.Argument(..., help="Instance URL or host, e.g. mastodon.social."),
    tag: list[str] = typer.Option(None, "--tag", help="Hashtag whose public timeline is read; repeatable."),
    search: list[str] = typer.Option(None, "--search", help="Full-text status search (most instances want a token); repeatable."),
    stream: bool = typer.Option(False, "--stream", help="Keep the streaming API open for the hashtags (implies --follow; needs --token-env)."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(60.0, help="Seconds between polls with --follow."),
    backfill_pages: int = typer.Option(1, help="Pages (of 40) read backwards on the first run."),
    token_env: str = typer.Option(None, help="Name of the environment variable holding an access token."),
) -> CliRun:
    """Read Mastodon hashtag timelines and searches (and optionally the streaming API) into Kafka.

    Paging follows the Link headers; every page is checkpointed after Kafka acknowledged it.
    """
    return CliRun(
        entries=lambda: [
            MastodonConf(
                instance=instance, hashtags=tag or [], search=search or [], stream=stream, interval_s=interval, backfill_pages=backfill_pages, token_env=token_env
            )
        ],
        once=not (follow or stream),
        where="--token-env",
    )


MASTODON_EXAMPLE = """\
mastodon:
  - instance: https://mastodon.social
    hashtags: [lego]
    search: ["lego group"]
    stream: true
    token_env: MASTODON_TOKEN
"""
