"""Making one digest: the brand from the watch file, the Elasticsearch figures, the charts, HTML and text.

:func:`build_digest` is synchronous (the Elasticsearch client and matplotlib both block): the CLI calls it
directly, the worker's scheduler in an executor thread. ``progress`` is told each step as it starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

from elasticsearch import exceptions as es_exceptions

from streams.digest import charts
from streams.digest.queries import DigestData, DigestError, Period, collect, digest_zone, parse_since
from streams.digest.report import render_html, render_text
from streams.settings import Settings
from streams.sinks.elasticsearch import sync_client
from streams.watch import Watch, load_watch

STEPS = ("queries", "charts", "html")


@dataclass
class Digest:
    data: DigestData
    charts: list[charts.Chart]
    generated_at: datetime
    html: str
    text: str
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path


def slug(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (name or "all brands").lower()).strip("-") or "brand"


def default_path(brand: str | None, generated_at: datetime, directory: Path = Path(".lytter/digests")) -> Path:
    return directory / f"{slug(brand)}-{generated_at:%Y-%m-%d}.html"


def brands_for(watch: Watch, brand: str | None, source: str = "the watch file") -> tuple[list[str], list[str]]:
    """(the brands the figures cover, the brands of the share-of-voice chart) for ``brand`` or all."""
    names = [b.name for b in watch.brands]
    if not names:
        raise DigestError(f"{source} has no brands: add one under `brands:` (see deploy/watch.example.yaml)")
    if brand is None:
        return names, names
    found = next((b for b in watch.brands if b.name == brand), None)
    if found is None:
        near = next((b for b in watch.brands if b.name.lower() == brand.lower()), None)
        hint = f" (did you mean {near.name!r}?)" if near else ""
        raise DigestError(f"brand {brand!r} is not in {source}{hint}; its brands: {', '.join(names)}")
    return [found.name], [found.name, *found.competitors]


def draw_charts(data: DigestData) -> list[charts.Chart]:
    return [
        charts.volume_per_day(data.per_day),
        charts.volume_by_hour(data.per_hour),
        charts.sentiment_mix(data.sentiment_per_day),
        charts.share_of_voice(data.share_of_voice, focus=data.brand),
    ]


def build_digest(
    settings: Settings,
    brand: str | None,
    since: str | None = None,
    *,
    now: datetime | None = None,
    watch: Watch | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> Digest:
    """The digest of ``brand`` (None: every brand) over the ``since`` period (default LYTTER_DIGEST_SINCE) up to ``now``."""
    length = parse_since(since, "--since") if since else parse_since(settings.digest_since, "LYTTER_DIGEST_SINCE")
    watch = watch or load_watch(settings.watch_file)
    brands, comparison = brands_for(watch, brand, f"the watch file {settings.watch_file} (LYTTER_WATCH_FILE)")
    generated_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    own = watch.brand(brand) if brand else None  # a brand's own time zone (the watch file) before the setting's
    period = Period.ending(generated_at, length, ZoneInfo(own.timezone) if own is not None and own.timezone else digest_zone(settings))
    timings: dict[str, float] = {}

    started = time.perf_counter()
    progress("queries")
    client = sync_client(settings)
    try:
        data = collect(client, settings, brand, brands, comparison, period)
    except es_exceptions.NotFoundError:
        raise DigestError(
            f"Elasticsearch at {settings.es_url} has no index {settings.es_index_prefix!r} (setting LYTTER_ES_INDEX_PREFIX): "
            "run `lytter es setup` and the worker, or fix the prefix"
        ) from None
    finally:
        client.close()
    timings["queries"] = time.perf_counter() - started

    started = time.perf_counter()
    progress("charts")
    drawn = draw_charts(data)
    timings["charts"] = time.perf_counter() - started

    started = time.perf_counter()
    progress("html")
    html, text = render_html(data, drawn, generated_at), render_text(data, generated_at)
    timings["html"] = time.perf_counter() - started
    return Digest(data, drawn, generated_at, html, text, timings)
