"""`connectors.bluesky` in the watch file, the connectors it describes, `lytter ingest bluesky`."""

from __future__ import annotations

import typer
from pydantic import Field, field_validator

from streams.sources.base import Connector
from streams.sources.connectors.bluesky.connector import DEFAULT_JETSTREAM, MAX_REPLAY_S, BlueskyConnector
from streams.sources.connectors.spec import CliRun, ConnectorConf, http_url


class BlueskyConf(ConnectorConf):
    keywords: list[str] = Field(min_length=1, description="Posts whose text, link URLs or link card contain one of these (at a word start, any case)")
    jetstream_url: str = Field(DEFAULT_JETSTREAM, description="Jetstream subscribe URL")
    langs: list[str] = Field(default_factory=list, description="Only posts tagged with one of these languages (empty: all)")
    rewind_s: float = Field(5.0, ge=0, le=3600, description="On reconnect, replay this much before the checkpoint (repeats are dropped)")
    batch_s: float = Field(1.0, gt=0, le=60, description="Publish and checkpoint at least this often")
    max_replay_s: float = Field(
        MAX_REPLAY_S,
        ge=0,
        description="How far back the Jetstream instance replays (public instances: 36 h); an older checkpoint is logged as a gap "
        "and the stream resumes from the oldest moment still replayed (0: trust the instance)",
    )

    @field_validator("jetstream_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        return http_url(value, ("ws", "wss"))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if not all(k.strip() for k in value):
            raise ValueError("keywords must not be empty")
        return [k.strip() for k in value]


def bluesky_connectors(entries: list[BlueskyConf], *, where: str = "connectors.bluesky") -> list[Connector]:
    return [
        BlueskyConnector(
            e.keywords,
            jetstream_url=e.jetstream_url,
            rewind_s=e.rewind_s,
            batch_s=e.batch_s,
            langs=e.langs or None,
            max_replay_s=e.max_replay_s or None,
        )
        for e in entries
    ]


def bluesky_command(
    keywords: list[str] = typer.Argument(..., help="Keywords or phrases; a post matches when its text, link URLs or link card contain one (at a word start, any case)."),
    jetstream_url: str = typer.Option(DEFAULT_JETSTREAM, help="Jetstream subscribe URL."),
    follow: bool = typer.Option(True, "--follow/--once", help="Keep listening (default), or read from the checkpoint up to now and exit."),
    lang: list[str] = typer.Option(None, "--lang", help="Only posts tagged with this language (da, nb, sv, en, ...); repeatable."),
) -> CliRun:
    """Listen to the Bluesky firehose (Jetstream) for posts with the keywords and publish them to Kafka.

    The cursor (time_us) is checkpointed: a restart resumes a few seconds before it, without duplicates.
    Deleted posts are published as deletions, edited ones again.
    """
    return CliRun(entries=lambda: [BlueskyConf(keywords=keywords, jetstream_url=jetstream_url, langs=lang or [])], once=not follow)


BLUESKY_EXAMPLE = """\
bluesky:
  - keywords: [lego, "lego group"]
"""
