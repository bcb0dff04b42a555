"""The runner: drives connectors, publishes their batches, and checkpoints only what Kafka acknowledged.

``Runner.run_once()`` makes one catch-up pass over every connector (a streaming connector streams until it
has caught up with the moment the run began) and returns a report per source: ``lytter ingest run --once``
and the per-source commands. ``Runner.run_forever()`` polls each connector every ``interval_s`` and keeps
streams connected (reconnecting from the checkpoint, with back-off), until ``stop`` is set.

One source failing never stops the others: its error is logged (clearly: source, URL, cause, fix),
counted in ``lytter_ingest_errors_total``, and the source is tried again later.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from streams.schema import Deletion, Mention
from streams.settings import Settings
from streams.sources.base import (
    Batch,
    Checkpoints,
    Connector,
    Publisher,
    RetryPolicy,
    Sleep,
    SourceError,
    StreamingConnector,
    errors_total,
    fetched_total,
    published_total,
)
from streams.sources.http import SourceHttp
from streams.sources.producer import MentionProducer, PublishError

log = logging.getLogger(__name__)


class KafkaPublisher:
    """``Publisher`` on the project's ``MentionProducer`` (kafka-python, acks=all, idempotent).

    kafka-python is synchronous: every call runs in one dedicated thread, so the event loop never blocks
    and the producer is only ever used from one thread. ``publish`` sends the batch and flushes: it returns
    when every mention is acknowledged, or raises ``PublishError``.
    """

    def __init__(self, settings: Settings, topic: str | None = None) -> None:
        self.settings = settings
        self.topic = topic or settings.topic_raw
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lytter-publish")
        self._producer: MentionProducer | None = None

    def _publish_sync(self, mentions: list[Mention]) -> None:
        if self._producer is None:
            self._producer = MentionProducer(self.settings, topic=self.topic)
        producer = self._producer
        failed_before, errors_before = producer.report.failed, len(producer.report.errors)
        for mention in mentions:
            producer.send_mention(mention)
        producer.flush()
        failed = producer.report.failed - failed_before
        if failed:
            errors = producer.report.errors[errors_before:][:3]
            raise PublishError(
                f"{failed} of {len(mentions)} mentions were not acknowledged by Kafka (topic {self.topic}, "
                f"{self.settings.kafka_bootstrap}): {errors}. The page is published again on the next attempt."
            )

    async def publish(self, mentions: Sequence[Mention]) -> None:
        if not mentions:
            return
        await asyncio.get_running_loop().run_in_executor(self._executor, self._publish_sync, list(mentions))

    def _publish_deletions_sync(self, deletions: list[Deletion]) -> None:
        if self._producer is None:
            self._producer = MentionProducer(self.settings, topic=self.topic)
        producer = self._producer
        failed_before = producer.report.failed
        for deletion in deletions:
            producer.send_deletion(deletion)
        producer.flush()
        if producer.report.failed - failed_before:
            raise PublishError(
                f"{producer.report.failed - failed_before} of {len(deletions)} deletions were not acknowledged by Kafka "
                f"(topic {self.settings.topic_deletions}). The page is published again on the next attempt."
            )

    async def publish_deletions(self, deletions: Sequence[Deletion]) -> None:
        if deletions:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._publish_deletions_sync, list(deletions))

    async def aclose(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await asyncio.get_running_loop().run_in_executor(self._executor, producer.close)
        self._executor.shutdown(wait=True)


@dataclass
class SourceReport:
    source_id: str
    fetched: int = 0
    published: int = 0
    deletions: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


ProgressHook = Callable[[Connector, Batch, SourceReport], None]


def log_progress(connector: Connector, batch: Batch, report: SourceReport) -> None:
    if batch.fetched or batch.mentions:
        log.info(
            "%s: %s%d fetched, %d published (total %d); checkpoint saved",
            connector.source_id,
            f"{batch.note}: " if batch.note else "",
            batch.fetched,
            len(batch.mentions),
            report.published,
        )


class Runner:
    def __init__(
        self,
        connectors: Sequence[Connector],
        publisher: Publisher,
        checkpoints: Checkpoints,
        http: SourceHttp,
        *,
        on_batch: ProgressHook | None = log_progress,
        reconnect_policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        ids = [c.source_id for c in connectors]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"two connectors read the same source (they would share a checkpoint): {duplicates}")
        self.connectors = list(connectors)
        self.publisher = publisher
        self.checkpoints = checkpoints
        self.http = http
        self.on_batch = on_batch
        self.reconnect_policy = reconnect_policy or RetryPolicy(base_s=1.0, cap_s=60.0)
        self.sleep: Sleep = sleep or asyncio.sleep
        self.reports: dict[str, SourceReport] = {c.source_id: SourceReport(c.source_id) for c in connectors}
        self._restored = False

    def restore(self) -> None:
        """Load every connector's checkpoint (once; afterwards the in-memory state is the saved one)."""
        if self._restored:
            return
        for connector in self.connectors:
            connector.restore(self.checkpoints.load(connector.source_id))
        self._restored = True

    async def apply(self, connector: Connector, batch: Batch) -> None:
        """Publish one batch, wait for the acknowledgement, then save and commit its state."""
        report = self.reports[connector.source_id]
        if batch.fetched:
            fetched_total.labels(connector.source_id).inc(batch.fetched)
            report.fetched += batch.fetched
        if batch.mentions:
            try:
                await self.publisher.publish(batch.mentions)
            except Exception:
                errors_total.labels(connector.source_id).inc()
                raise
            published_total.labels(connector.source_id).inc(len(batch.mentions))
            report.published += len(batch.mentions)
        if batch.deletions:
            await self.publisher.publish_deletions(batch.deletions)
            report.deletions += len(batch.deletions)
        self.checkpoints.save(connector.source_id, batch.state)
        connector.commit(batch.state)
        report.batches += 1
        if self.on_batch is not None:
            self.on_batch(connector, batch, report)

    async def _drive(self, connector: Connector, batches) -> None:
        async with aclosing(batches) as it:
            async for batch in it:
                await self.apply(connector, batch)

    async def poll(self, connector: Connector) -> None:
        await self._drive(connector, connector.poll(self.http))

    # -- one pass ------------------------------------------------------------------------------------

    async def _once(self, connector: Connector, until: datetime) -> None:
        report = self.reports[connector.source_id]
        try:
            await self.poll(connector)
            if isinstance(connector, StreamingConnector) and connector.streams:
                await self._drive(connector, connector.stream(self.http, until=until))
        except (SourceError, PublishError) as exc:
            report.errors.append(str(exc))
            log.error("%s", exc)
        except Exception as exc:  # a bug in one connector must not hide the others' results
            errors_total.labels(connector.source_id).inc()
            report.errors.append(f"{connector.source_id}: unexpected {type(exc).__name__}: {exc}")
            log.exception("%s: unexpected error", connector.source_id)

    async def run_once(self) -> dict[str, SourceReport]:
        """Every connector once, concurrently: polls read to the end; streams read until now."""
        self.restore()
        until = datetime.now(timezone.utc)
        await asyncio.gather(*(self._once(c, until) for c in self.connectors))
        return self.reports

    # -- forever -------------------------------------------------------------------------------------

    async def _wait(self, seconds: float, stop: asyncio.Event) -> bool:
        """Sleep ``seconds`` unless ``stop`` is set first; True when stopping."""
        if stop.is_set():
            return True
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            return False
        return True

    async def _forever(self, connector: Connector, stop: asyncio.Event) -> None:
        report = self.reports[connector.source_id]
        failures = 0
        while not stop.is_set():
            try:
                await self.poll(connector)
                if isinstance(connector, StreamingConnector) and connector.streams:
                    await self._drive(connector, connector.stream(self.http))
                    # the source ended the stream cleanly: reconnect soon, but never in a tight loop
                    wait = self.reconnect_policy.delay(1)
                    log.info("%s: the stream closed; reconnecting from the checkpoint in %.1fs", connector.source_id, wait)
                else:
                    wait = connector.interval_s
                failures = 0
            except (SourceError, PublishError) as exc:
                failures += 1
                report.errors.append(str(exc))
                del report.errors[:-20]
                wait = self.reconnect_policy.delay(failures)
                if isinstance(exc, SourceError) and not exc.retryable:
                    wait = max(wait, connector.interval_s)
                log.error("%s (next try in %.0fs)", exc, wait)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                errors_total.labels(connector.source_id).inc()
                report.errors.append(f"unexpected {type(exc).__name__}: {exc}")
                del report.errors[:-20]
                wait = max(self.reconnect_policy.delay(failures), connector.interval_s)
                log.exception("%s: unexpected error (next try in %.0fs)", connector.source_id, wait)
            if await self._wait(wait, stop):
                return

    async def run_forever(self, stop: asyncio.Event | None = None) -> dict[str, SourceReport]:
        self.restore()
        stop = stop or asyncio.Event()
        tasks = [asyncio.create_task(self._forever(c, stop), name=c.source_id) for c in self.connectors]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.reports
