"""Index lifecycle of the mention indices: the minimal Elasticsearch has no ILM, so Lytter drives rollover
of the write index and retention by index age itself."""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions

from streams.settings import Settings

log = logging.getLogger(__name__)


def rollover(settings: Settings, client: Elasticsearch, *, max_age: str | None = None, max_docs: int | None = None,
             max_primary_shard_size: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Roll the write alias over to a new index when any condition holds (the new index gets the template).

    Run it on a schedule (cron, a Kubernetes CronJob): ``lytter es rollover --max-age 7d --max-docs 50000000``.
    A mention replayed after a rollover still updates its document in the old index: the indexer looks ids
    up over the alias before writing (streams/sinks/elasticsearch/indexer.py). That lookup is a search, so
    the old index is refreshed here: what was written to it just before the rollover is found at once.
    """
    conditions: dict[str, Any] = {}
    if max_age:
        conditions["max_age"] = max_age
    if max_docs:
        conditions["max_docs"] = max_docs
    if max_primary_shard_size:
        conditions["max_primary_shard_size"] = max_primary_shard_size
    if not conditions:
        raise ValueError("give at least one rollover condition: max_age, max_docs or max_primary_shard_size")
    # max_docs counts searchable documents: refresh first, so what was just written counts
    _refresh(client, settings.es_index_prefix)
    response = client.indices.rollover(alias=settings.es_index_prefix, conditions=conditions, dry_run=dry_run)
    if response["rolled_over"]:
        _refresh(client, response["old_index"])
    return {"rolled_over": response["rolled_over"], "old_index": response["old_index"], "new_index": response["new_index"],
            "conditions": response.get("conditions", {})}


def _refresh(client: Elasticsearch, index: str) -> None:
    try:
        client.indices.refresh(index=index)
    except es_exceptions.AuthorizationException:
        log.warning("could not refresh %s around the rollover (the user lacks the `maintenance` privilege on it): a "
                    "mention written there in the last second and replayed now could be written twice", index)


def _age_days(value: str) -> float:
    units = {"d": 1.0, "h": 1 / 24, "m": 1 / 1440}
    try:
        return float(value[:-1]) * units[value[-1]]
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"retention {value!r} is not an age like 90d, 36h or 30m") from None


def expired_indices(indices: dict[str, dict[str, Any]], write_index: str | None, now_ms: float, keep: str) -> list[str]:
    """Pure: the indices whose newest mention is older than ``keep`` (never the write index).

    ``indices``: name -> {"newest_ms": epoch ms of the newest published_at, or None when empty,
    "created_ms": creation time}. An empty index expires by its creation time.
    """
    limit = now_ms - _age_days(keep) * 86_400_000
    expired = []
    for name, info in sorted(indices.items()):
        if name == write_index:
            continue
        newest = info.get("newest_ms") if info.get("newest_ms") is not None else info.get("created_ms")
        if newest is not None and newest < limit:
            expired.append(name)
    return expired


def apply_retention(settings: Settings, client: Elasticsearch, keep: str, *, dry_run: bool = False, now_ms: float | None = None) -> list[str]:
    """Delete mention indices behind the alias whose newest mention is older than ``keep``."""
    import time as _time

    alias = settings.es_index_prefix
    aliases = client.indices.get_alias(name=alias)
    write_index = next((name for name, a in aliases.items() if a["aliases"][alias].get("is_write_index")), None)
    info: dict[str, dict[str, Any]] = {}
    settings_by_index = client.indices.get_settings(index=list(aliases), name="index.creation_date")
    for name in aliases:
        response = client.search(index=name, size=0, aggs={"newest": {"max": {"field": "published_at"}}})
        newest = response["aggregations"]["newest"]["value"]
        created = int(settings_by_index[name]["settings"]["index"]["creation_date"])
        info[name] = {"newest_ms": newest, "created_ms": created}
    expired = expired_indices(info, write_index, now_ms if now_ms is not None else _time.time() * 1000, keep)
    if expired and not dry_run:
        client.indices.delete(index=",".join(expired))
    return expired
