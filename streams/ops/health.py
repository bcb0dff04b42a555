"""Health of the parts Lytter depends on, for `lytter status` (each check bounded in time)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from streams.settings import Settings


def _kafka(settings: Settings) -> dict[str, Any]:
    from streams.ops.kafka_admin import KafkaAdminError, admin_client, lytter_topics

    try:
        admin = admin_client(settings, timeout=5)
    except KafkaAdminError as exc:
        return {"ok": False, "detail": str(exc)}
    try:
        topics = set(admin.list_topics())
        missing = [t for t in lytter_topics(settings) if t not in topics]
        detail = f"{settings.kafka_bootstrap}; {len(topics)} topics" + (f"; missing {missing} (the worker creates them)" if missing else "")
        return {"ok": True, "detail": detail}
    finally:
        admin.close()


def _elasticsearch(settings: Settings) -> dict[str, Any]:
    from streams.sinks.elasticsearch import sync_client

    client = sync_client(settings)
    try:
        health = client.options(request_timeout=5).cluster.health()
        count = None
        if client.indices.exists_alias(name=settings.es_index_prefix):
            count = client.count(index=settings.es_index_prefix)["count"]
        return {
            "ok": health["status"] in ("green", "yellow"),
            "detail": f"{settings.es_url}; cluster {health['status']}; mentions indexed: {count if count is not None else 'no index yet'}",
        }
    except Exception as exc:  # noqa: BLE001 - any failure is the answer here
        return {"ok": False, "detail": f"{settings.es_url}: {type(exc).__name__}: {exc}"}
    finally:
        client.close()


_LAG = re.compile(r'^lytter_worker_consumer_lag\{partition="(\d+)",topic="([^"]+)"\} ([0-9.e+]+)$', re.M)


def _worker(settings: Settings) -> dict[str, Any]:
    base = f"http://127.0.0.1:{settings.worker_web_port}"
    try:
        status = httpx.get(f"{base}/lytter/status/", timeout=3).json()
        metrics = httpx.get(f"{base}/metrics", timeout=3).text
    except httpx.HTTPError as exc:
        return {"ok": False, "detail": f"no worker answers on {base} (setting LYTTER_WORKER_WEB_PORT): {exc}; start one with `lytter worker`"}
    lag = sum(float(value) for _, topic, value in _LAG.findall(metrics) if topic == settings.topic_raw)
    detail = (
        f"received {status['received']}, indexed {status['indexed']}, dead-lettered {status['dead_lettered']}, "
        f"alerts delivered {status['alerts_delivered']}; lag on {settings.topic_raw}: {lag:.0f}"
    )
    if status.get("watch_error"):
        detail += f"; WATCH FILE ERROR: {status['watch_error']}"
    return {"ok": not status.get("watch_error"), "detail": detail}


def _dead_letters(settings: Settings) -> dict[str, Any]:
    """Dead letters on their topic, distinct/total: a letter written again after a crash (same source
    record, same key) counts once in ``distinct``. Informational: dead letters are data, not a fault."""
    from kafka.errors import KafkaError

    from streams.ops.kafka_admin import dead_letter_counts

    try:
        distinct, total = dead_letter_counts(settings)
    except KafkaError as exc:
        return {"ok": True, "detail": f"{settings.topic_deadletter}: unknown ({type(exc).__name__}: {exc})", "distinct": None, "total": None}
    shown = "?" if distinct is None else str(distinct)
    detail = f"{shown}/{total} distinct/total on {settings.topic_deadletter}"
    if distinct is None and total:
        detail += " (too many records to count distinct source records)"
    elif distinct is not None and distinct < total:
        detail += f" ({total - distinct} written again after a crash)"
    return {"ok": True, "detail": detail, "distinct": distinct, "total": total}


def _inbox(settings: Settings) -> dict[str, Any]:
    """The reply queue per brand (who waits for an answer): informational, never "down" by itself."""
    from streams.inbox.queue import inbox_summary

    try:
        return {"ok": True, "detail": inbox_summary(settings).status_line()}
    except Exception as exc:  # noqa: BLE001 - Elasticsearch's own row says why it cannot answer
        return {"ok": True, "detail": f"inbox: unknown ({type(exc).__name__}: {str(exc)[:120]})"}


def collect_status(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "kafka": _kafka(settings),
        "elasticsearch": _elasticsearch(settings),
        "worker": _worker(settings),
        "dead letters": _dead_letters(settings),
        "inbox": _inbox(settings),
    }
