"""What a connector module gives the registry: its watch-file model, its builder, its CLI command.

A connector module (``rss.py``, ``mastodon.py``, ...) defines a :class:`ConnectorConf` model (one entry
of ``connectors.<name>`` in the watch file), a builder (``entries -> connectors``) and the options of
``lytter ingest <name>`` (a function returning a :class:`CliRun`); one :class:`ConnectorSpec` row in
:data:`streams.sources.connectors.REGISTRY` makes all three known to the watch file
(:mod:`streams.sources.config`), ``build_connectors`` and the CLI.

This module imports no connector: the connector modules import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from streams.watch.file import WatchConfigError

if TYPE_CHECKING:
    from streams.sources.base import Connector


class ConnectorConfigError(WatchConfigError):
    pass


class ConnectorConf(BaseModel):
    """Base of the watch file's connector models: unknown fields are refused, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def http_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"{value!r} is not an absolute {'/'.join(schemes)} URL")
    return value


def env_name(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.replace("_", "").isalnum() or value[0].isdigit():
        raise ValueError(f"{value!r} is not an environment variable name (the *name* of the variable, not the secret)")
    return value


def secret(env: str | None, what: str) -> str | None:
    """The value of the environment variable ``env`` (``None`` without one); ``what`` names the field in errors."""
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise ConnectorConfigError(f"{what}: the environment variable {env} is not set (it should hold the secret)")
    return value


@dataclass(frozen=True)
class CliRun:
    """What a ``lytter ingest <name>`` command asks for: the entries (built lazily, so that validation
    errors become CLI errors), one pass or keep running, and what to call the secrets' fields in errors."""

    entries: Callable[[], Sequence[ConnectorConf]]
    once: bool
    where: str | None = None


@dataclass(frozen=True)
class ConnectorSpec:
    """One row of the connector registry.

    * ``conf``: the model of one entry of ``connectors.<name>`` (the watch file holds a list of them).
    * ``build``: ``build(entries, *, where=...) -> list[Connector]`` (``where`` prefixes error locations).
    * ``command``: the ``lytter ingest <name>`` command: its parameters are the typer options, its
      docstring the help; it returns a :class:`CliRun`.
    * ``help``: one line about the source (the watch model's field description).
    * ``example``: the YAML of a ``connectors.<name>`` section, for ``lytter ingest run --help``.
    """

    conf: type[ConnectorConf]
    build: Callable[..., list["Connector"]]
    command: Callable[..., CliRun]
    help: str
    example: str
