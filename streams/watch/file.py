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

Errors name the file, the line and the field (``watch.yaml:7: brands[1].query: ... (column 12)``), so a
brand team can fix the file without reading code. The worker re-reads the file when it changes
(``WatchFile.current()``): a broken edit is reported and the previous, valid watch stays in force.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.alerting.config import AlertConfig
from streams.query import Document, Query, QuerySyntaxError, compile_query

log = logging.getLogger(__name__)

class WatchConfigError(ValueError):
    pass


class Brand(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(min_length=1, max_length=200, description="The brand as it is shown in alerts and dashboards")
    query: str = Field(min_length=1, description="Boolean query (AND, OR, NOT, \"phrases\", NEAR/n, wildcard*, author:/source:/lang:)")
    competitors: list[str] = Field(default_factory=list, description="Names of other brands in this file to compare with")
    compiled: Query | None = Field(None, exclude=True, repr=False)

    @field_validator("query")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_query(value)
        except QuerySyntaxError as exc:
            raise ValueError(str(exc).splitlines()[0]) from None
        return value

    @model_validator(mode="after")
    def _compile(self) -> "Brand":
        self.compiled = compile_query(self.query)
        return self


class Watch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brands: list[Brand] = Field(default_factory=list)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    connectors: dict[str, Any] = Field(default_factory=dict, description="Ingest connector settings (see `lytter ingest --help`)")

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
        return self

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
