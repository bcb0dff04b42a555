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

The sections (``rss``, ``mastodon``, ...) are the rows of :data:`streams.sources.connectors.REGISTRY`: each
is a list of that connector's ``*Conf`` model (defined in its module); ``push`` is the push endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, create_model

from streams.sources.base import Connector
from streams.sources.connectors import REGISTRY
from streams.sources.connectors.spec import ConnectorConf, ConnectorConfigError
from streams.watch.file import loc_text, parse_watch, yaml_node_at

__all__ = ["ConnectorConfigError", "ConnectorsConfig", "PushConf", "build_connectors", "load_connectors", "parse_connectors"]


class PushConf(ConnectorConf):
    enabled: bool = Field(False, description="Serve POST /mentions (token: LYTTER_PUSH_TOKEN) in `lytter ingest run`")
    max_batch: int = Field(1000, ge=1, le=100_000, description="Mentions per request at most (413 above)")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024, description="Request body size at most (413 above)")


class _ConnectorsBase(ConnectorConf):
    def entries(self, name: str) -> list[ConnectorConf]:
        """The entries of the ``connectors.<name>`` section (a registry row's name)."""
        return list(getattr(self, name))

    def is_empty(self) -> bool:
        return not (any(self.entries(name) for name in REGISTRY) or self.push.enabled)


#: ``connectors:``: one list per registry row (of its ``*Conf``), in the registry's order, then ``push``.
ConnectorsConfig = create_model(
    "ConnectorsConfig",
    __base__=_ConnectorsBase,
    __module__=__name__,
    **{name: (list[spec.conf], Field(default_factory=list, description=spec.help)) for name, spec in REGISTRY.items()},  # type: ignore[valid-type]
    push=(PushConf, Field(default_factory=PushConf)),
)


# --- parsing with file:line ---------------------------------------------------------------------------


def parse_connectors(data: Any, *, source: str = "<watch>", text: str | None = None) -> _ConnectorsBase:
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


def load_connectors(path: Path) -> _ConnectorsBase:
    """The ``connectors:`` section of a watch file (the whole file is validated, as the worker would)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConnectorConfigError(f"{path}: no such file (setting LYTTER_WATCH_FILE or --watch-file)") from None
    watch = parse_watch(text, str(path))
    return parse_connectors(watch.connectors, source=str(path), text=text)


# --- building the connectors --------------------------------------------------------------------------


def build_connectors(config: _ConnectorsBase) -> list[Connector]:
    """Every connector the configuration describes (one per feed, hashtag, search, listing, keyword set)."""
    return [connector for name, spec in REGISTRY.items() for connector in spec.build(config.entries(name), where=f"connectors.{name}")]
