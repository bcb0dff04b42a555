"""The brand watch: which brands to listen for and the alert rules' thresholds (one YAML file).

Example (``deploy/watch.example.yaml``)::

    brands:
      - name: Lego
        query: '(lego OR "lego group" OR #lego) NOT legoland'
        competitors: [Mega Bloks]
    alerts:
      volume_spike: {min_count: 10}
      crisis_keyword:
        keywords: {da: [boykot, tilbagekald*, skandale], sv: [bojkott, återkall*]}

A brand can list its own accounts (``owned_accounts``, per source) and its reply targets (``reply``):
mentions addressed to those accounts that wait too long for an answer raise the ``unanswered`` alert
(:mod:`streams.answer`)::

      - name: Lego
        query: lego
        owned_accounts:
          bluesky: [lego.bsky.social, "did:plc:abc123"]   # the handle (for @mentions) and the DID (the author id)
          mastodon: ["@lego@mastodon.social"]
          reddit: [LEGO_Group]
        reply: {target_minutes: 60, by_source: {bluesky: 30}, by_severity: {critical: 15}}

Errors name the file, the line and the field (``watch.yaml:7: brands[1].query: ... (column 12)``), so a
brand team can fix the file without reading code. The worker re-reads the file when it changes
(``WatchFile.current()``): a broken edit is reported and the previous, valid watch stays in force.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from streams.alerting.config import AlertConfig
from streams.query import Document, Query, QuerySyntaxError, compile_query

log = logging.getLogger(__name__)

class WatchConfigError(ValueError):
    pass


class LocatedValueError(ValueError):
    """A whole-file check's error that knows the field it is about (``loc``), for the line number."""

    def __init__(self, message: str, loc: tuple) -> None:
        super().__init__(message)
        self.loc = loc


#: Sources whose accounts a brand can own (the ``source`` of the mentions those connectors publish).
OWNED_SOURCES = ("bluesky", "mastodon", "reddit", "blog", "push")
SEVERITY_NAMES = ("info", "warning", "critical")
_REDDIT_PREFIX = re.compile(r"^/?u/", re.IGNORECASE)


def normalise_handle(source: str, handle: str) -> str:
    """One spelling of an account handle, so the watch, authors and @mentions in texts compare equal:
    lower case, no leading ``@``; Mastodon ``@user@instance`` -> ``user@instance``; Reddit ``u/Name``
    -> ``name``. A Mastodon handle without an instance stays ``user`` (texts often show only that)."""
    text = handle.strip().lower()
    if source == "reddit":
        text = _REDDIT_PREFIX.sub("", text)
    return text.lstrip("@")


class ReplyTarget(BaseModel):
    """How fast a brand means to answer, in minutes: ``target_minutes`` for all, stricter or looser per
    source or per severity. When both a source and a severity target apply, the stricter one counts."""

    model_config = ConfigDict(extra="forbid")

    target_minutes: float | None = Field(None, gt=0, description="Default for this brand (else settings.reply_target_minutes)")
    by_source: dict[str, float] = Field(default_factory=dict, description="Per source: {bluesky: 30}")
    by_severity: dict[str, float] = Field(default_factory=dict, description="Per severity (info/warning/critical): {critical: 15}")

    @field_validator("by_source")
    @classmethod
    def _known_sources(cls, value: dict[str, float]) -> dict[str, float]:
        return _positive_minutes(value, OWNED_SOURCES, "source")

    @field_validator("by_severity")
    @classmethod
    def _known_severities(cls, value: dict[str, float]) -> dict[str, float]:
        return _positive_minutes(value, SEVERITY_NAMES, "severity")

    def minutes(self, source: str, severity: str | None, default: float) -> float:
        specific = [m for m in (self.by_source.get(source), self.by_severity.get(severity or "")) if m is not None]
        if specific:
            return min(specific)
        return self.target_minutes if self.target_minutes is not None else default


def _positive_minutes(value: dict[str, float], known: tuple[str, ...], what: str) -> dict[str, float]:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; use one of {list(known)}")
    bad = sorted(k for k, v in value.items() if not v > 0)
    if bad:
        raise ValueError(f"minutes must be more than 0 for {bad}")
    return value


class Brand(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(min_length=1, max_length=200, description="The brand as it is shown in alerts and dashboards")
    query: str = Field(min_length=1, description="Boolean query (AND, OR, NOT, \"phrases\", NEAR/n, wildcard*, author:/source:/lang:)")
    competitors: list[str] = Field(default_factory=list, description="Names of other brands in this file to compare with")
    owned_accounts: dict[str, list[str]] = Field(default_factory=dict, description="The brand's own handles per source (bluesky, mastodon, reddit, blog, push)")
    reply: ReplyTarget | None = Field(None, description="Reply targets of the unanswered alert (minutes)")
    timezone: str | None = Field(None, description="The brand's time zone (IANA, e.g. Europe/Oslo): its digest's days and hours; default LYTTER_DIGEST_TIMEZONE")
    compiled: Query | None = Field(None, exclude=True, repr=False)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not a time zone: use an IANA name such as Europe/Copenhagen, Europe/Oslo or Europe/Stockholm") from None
        return value

    @field_validator("query")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_query(value)
        except QuerySyntaxError as exc:
            raise ValueError(str(exc).splitlines()[0]) from None
        return value

    @field_validator("owned_accounts")
    @classmethod
    def _owned_accounts(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(OWNED_SOURCES))
        if unknown:
            raise ValueError(f"unknown source {unknown}; owned accounts can be on {list(OWNED_SOURCES)}")
        out = {}
        for source, handles in value.items():
            normalised = []
            for handle in handles or []:
                name = normalise_handle(source, handle)
                if not name:
                    raise ValueError(f"{source}: an empty handle; write the account's handle, e.g. nordlys")
                if source == "mastodon" and "@" not in name:
                    raise ValueError(f"mastodon: {handle!r} needs its instance, e.g. @{name}@mastodon.social")
                if name not in normalised:
                    normalised.append(name)
            out[source] = normalised
        return out

    @model_validator(mode="after")
    def _compile(self) -> "Brand":
        self.compiled = compile_query(self.query)
        return self


class Watch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brands: list[Brand] = Field(default_factory=list)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    connectors: dict[str, Any] = Field(default_factory=dict, description="Ingest connector settings (see `lytter ingest --help`)")
    _owners: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)
    _mastodon_users: dict[str, str | None] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_and_known(self) -> "Watch":
        names = [b.name for b in self.brands]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"brand names must be unique; repeated: {duplicates}")
        for brand in self.brands:
            missing = [c for c in brand.competitors if c not in names]
            if missing:
                raise ValueError(f"brand {brand.name!r} lists competitors {missing} that are not brands in this file")
        self._index_owned_accounts()
        return self

    def _index_owned_accounts(self) -> None:
        for index, brand in enumerate(self.brands):
            for source, handles in brand.owned_accounts.items():
                for position, handle in enumerate(handles):
                    other = self._owners.setdefault((source, handle), brand.name)
                    if other != brand.name:
                        raise LocatedValueError(
                            f"{source} account {handle!r} is owned by both {other!r} and {brand.name!r}; keep it under one brand",
                            ("brands", index, "owned_accounts", source, position),
                        )
                    if source == "mastodon":
                        user = handle.split("@", 1)[0]
                        # a bare @user in a text is ambiguous when two brands own that name on two instances
                        known = self._mastodon_users.get(user, brand.name)
                        self._mastodon_users[user] = brand.name if known == brand.name else None

    def owner_of(self, source: str, handle: str | None) -> str | None:
        """The brand owning the account ``handle`` on ``source`` (any spelling), or None. A Mastodon
        ``user`` without instance matches when exactly one brand owns that user name."""
        if not handle:
            return None
        name = normalise_handle(source, handle)
        if source == "mastodon" and "@" not in name:
            return self._mastodon_users.get(name)
        return self._owners.get((source, name))

    def brand(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)

    def reply_target(self, brand: str, source: str, severity: str | None = None, default_minutes: float | None = None) -> float:
        """Minutes ``brand`` has to answer a mention from ``source`` of ``severity``; without a target in
        the watch, ``default_minutes`` or settings.reply_target_minutes (LYTTER_REPLY_TARGET_MINUTES)."""
        if default_minutes is None:
            from streams.settings import get_settings

            default_minutes = get_settings().reply_target_minutes
        found = self.brand(brand)
        if found is None or found.reply is None:
            return default_minutes
        return found.reply.minutes(source, severity, default_minutes)

    def match(self, mapping: dict[str, Any] | Document) -> list[str]:
        """Names of the brands a mention (a document mapping, prepared once) matches."""
        document = Document.from_mapping(mapping)
        return [brand.name for brand in self.brands if brand.compiled is not None and brand.compiled.matches(document)]


def yaml_node_at(root: yaml.Node | None, loc: tuple) -> yaml.Node | None:
    """The YAML node at a pydantic error location, or the nearest enclosing one (for its line number)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def loc_text(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_watch(text: str, source: str = "<watch>") -> Watch:
    """Parse and validate a watch file's text; errors carry file:line and the field path."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise WatchConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WatchConfigError(f"{source}:1: the watch file must be a mapping with 'brands' and 'alerts'")
    try:
        return Watch.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            located = (err.get("ctx") or {}).get("error")
            if isinstance(located, LocatedValueError):
                loc = located.loc
            node = yaml_node_at(root, loc)
            line = f":{node.start_mark.line + 1}" if node is not None else ""
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}{line}: {loc_text(loc)}: {message}")
        raise WatchConfigError("\n".join(lines)) from None


def load_watch(path: Path) -> Watch:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WatchConfigError(f"{path}: no such file (setting LYTTER_WATCH_FILE); copy deploy/watch.example.yaml and edit it") from None
    return parse_watch(text, str(path))


@dataclass
class _Loaded:
    mtime_ns: int
    watch: Watch


class WatchFile:
    """The current watch, re-read when the file changes; a broken edit keeps the last valid watch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded = _Loaded(self._mtime(), load_watch(path))
        self.last_error: str | None = None

    def _mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return -1

    def current(self) -> Watch:
        mtime = self._mtime()
        if mtime != self._loaded.mtime_ns:
            with self._lock:
                if mtime != self._loaded.mtime_ns:
                    try:
                        self._loaded = _Loaded(mtime, load_watch(self.path))
                        self.last_error = None
                        log.info("watch file %s reloaded: %d brands", self.path, len(self._loaded.watch.brands))
                    except WatchConfigError as exc:
                        self._loaded = _Loaded(mtime, self._loaded.watch)
                        self.last_error = str(exc)
                        log.error("watch file %s is invalid, keeping the previous watch:\n%s", self.path, exc)
        return self._loaded.watch
