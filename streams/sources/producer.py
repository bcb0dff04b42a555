"""The ingest side's Kafka producer (kafka-python): acks=all, idempotent, keyed by mention id."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from kafka import KafkaProducer
from kafka.errors import KafkaError, NoBrokersAvailable

from streams.schema import Deletion, Mention
from streams.settings import Settings

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    pass


@dataclass
class PublishReport:
    published: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class MentionProducer:
    """Publishes mentions (or raw bytes, for replaying records as they were) to ``mentions.raw``.

    Keyed by mention id so that every version of one mention lands in one partition, in order.
    """

    def __init__(self, settings: Settings, topic: str | None = None, **overrides) -> None:
        self.settings = settings
        self.topic = topic or settings.topic_raw
        config = dict(
            bootstrap_servers=settings.kafka_bootstrap.split(","),
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            batch_size=256 * 1024,
            compression_type=None,
            retries=2_147_483_647,
            request_timeout_ms=30_000,
            client_id="lytter-ingest",
        )
        config.update(overrides)
        try:
            self._producer = KafkaProducer(**config)
        except NoBrokersAvailable as exc:
            raise PublishError(
                f"no Kafka broker answers at {settings.kafka_bootstrap} (setting LYTTER_KAFKA_BOOTSTRAP). "
                "Start the local services with `lytter services up`, or point the setting at your cluster."
            ) from exc
        self._pending: list = []
        self.report = PublishReport()

    def send_mention(self, mention: Mention) -> None:
        self.send_raw(mention.id.encode("utf-8"), mention.to_json_bytes())

    def send_deletion(self, deletion: Deletion) -> None:
        """To ``mentions.deletions``, keyed by the mention id like the mention itself (same partition)."""
        self._pending.append(self._producer.send(self.settings.topic_deletions, key=deletion.id.encode("utf-8"), value=deletion.to_json_bytes()))

    def send_raw(self, key: bytes | None, value: bytes | None) -> None:
        self._pending.append(self._producer.send(self.topic, key=key, value=value))
        if len(self._pending) >= 5_000:
            self._collect()

    def _collect(self) -> None:
        for fut in self._pending:
            try:
                fut.get(timeout=60)
                self.report.published += 1
            except KafkaError as exc:
                self.report.failed += 1
                self.report.errors.append(str(exc))
        self._pending.clear()

    def flush(self) -> PublishReport:
        self._producer.flush(timeout=60)
        self._collect()
        return self.report

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.close(timeout=10)

    def __enter__(self) -> "MentionProducer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def publish_all(settings: Settings, mentions: Iterable[Mention], topic: str | None = None) -> PublishReport:
    with MentionProducer(settings, topic=topic) as producer:
        for mention in mentions:
            producer.send_mention(mention)
    return producer.report


def iter_chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
