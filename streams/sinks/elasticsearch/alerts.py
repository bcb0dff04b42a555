"""The alerts index: one document per incident, ``_id`` = alert id, each update overwrites it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch import exceptions as es_exceptions

from streams.settings import Settings
from streams.sinks.elasticsearch.client import async_client, is_retryable
from streams.sinks.elasticsearch.mapping import alert_mappings

log = logging.getLogger(__name__)


class AlertIndexer:
    """Alerts are indexed with ``_id`` = alert id: each update of an incident overwrites its document."""

    def __init__(self, settings: Settings, client: AsyncElasticsearch | None = None) -> None:
        self.settings = settings
        self.client = client or async_client(settings)
        self.index_name = settings.es_alerts_index
        self._ready = False

    async def _ensure(self) -> None:
        if self._ready:
            return
        if not await self.client.indices.exists(index=self.index_name):
            try:
                await self.client.indices.create(
                    index=self.index_name,
                    settings={"number_of_shards": 1, "number_of_replicas": self.settings.es_replicas},
                    mappings=alert_mappings(),
                )
            except es_exceptions.BadRequestError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise
        self._ready = True

    async def index(self, alert: dict[str, Any]) -> None:
        delay = 0.5
        while True:
            try:
                await self._ensure()
                # No refresh="wait_for": it held every alert up to a refresh interval (1 s) before its
                # delivery, and a backlog of alerts then took a second each. Searchable within 1 s anyway.
                await self.client.index(index=self.index_name, id=alert["alert_id"], document=alert)
                return
            except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
                if not is_retryable(exc):
                    raise
                log.warning("Elasticsearch unavailable (%s); retrying alert %s in %.1fs", exc, alert.get("alert_id"), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        await self.client.close()
