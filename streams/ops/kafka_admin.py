"""Topic administration with kafka-python's admin client (the local Kafka ships no CLI tools)."""

from __future__ import annotations

import logging
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, NoBrokersAvailable, TopicAlreadyExistsError

from streams.settings import Settings

log = logging.getLogger(__name__)


class KafkaAdminError(RuntimeError):
    pass


def lytter_topics(settings: Settings) -> list[str]:
    return settings.worker_topics()


def admin_client(settings: Settings, timeout: float = 30.0) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="lytter-admin", request_timeout_ms=20_000
            )
        except NoBrokersAvailable as exc:
            if time.monotonic() > deadline:
                raise KafkaAdminError(
                    f"no Kafka broker answers at {settings.kafka_bootstrap} (setting LYTTER_KAFKA_BOOTSTRAP). "
                    "Start the local services with `lytter services up`, or point the setting at your cluster."
                ) from exc
            time.sleep(1.0)


def ensure_topics(settings: Settings, topics: list[str] | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created."""
    topics = topics or lytter_topics(settings)
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return []
        new = [
            NewTopic(name=t, num_partitions=settings.topic_partitions, replication_factor=settings.topic_replication)
            for t in missing
        ]
        try:
            admin.create_topics(new, validate_only=False)
        except TopicAlreadyExistsError:
            pass  # another process created it meanwhile
        except KafkaError as exc:
            raise KafkaAdminError(f"could not create topics {missing}: {exc}") from exc
        return missing
    finally:
        admin.close()


def _offsets_consumer(settings: Settings, client_id: str, **options):
    """A kafka-python consumer for reading or committing offsets by hand (never auto-commits)."""
    from kafka import KafkaConsumer

    return KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id=client_id, enable_auto_commit=False, **options)


def topic_end_offsets(settings: Settings, topic: str) -> int:
    """Sum of the end offsets of a topic's partitions (records ever written, for append-only topics)."""
    from kafka import TopicPartition

    consumer = _offsets_consumer(settings, "lytter-offsets")
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def commit_start_offsets(settings: Settings, topics: list[str] | None = None) -> dict:
    """Give each partition of ``topics`` that has no committed offset for the worker's consumer group
    (``app_id``) a committed offset at its beginning. Returns what was committed.

    Why: when a Faust worker starts (or restarts after a crash), it resumes fetching before it seeks to
    the committed offsets. A partition that has none (a new topic, or one whose first records arrived
    just before a crash) is then read from wherever the early fetch got to, and records fetched in
    between are dropped: we lost the first alerts of an incident that way. With a committed offset
    everywhere, the seek rewinds to it and nothing is skipped. Possible only while the group has no live
    member (first start, or the crashed member's session has expired); otherwise nothing is done.
    """
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    topics = topics or lytter_topics(settings)
    consumer = _offsets_consumer(settings, "lytter-start-offsets", group_id=settings.app_id)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        missing = [tp for tp in tps if consumer.committed(tp) is None]
        if not missing:
            return {}
        start = consumer.beginning_offsets(missing)
        consumer.commit({tp: OffsetAndMetadata(start[tp], "", -1) for tp in missing})
        return {f"{tp.topic}[{tp.partition}]": start[tp] for tp in missing}
    except KafkaError as exc:  # e.g. the group has live members: they own the offsets
        log.info("start offsets not committed: %s", exc)
        return {}
    finally:
        consumer.close()


def next_record_offset(settings: Settings, topic: str, partition: int, offset: int, timeout: float = 10.0) -> int | None:
    """The offset of the first record at or after ``offset`` in one partition, or None if none came
    within ``timeout``. Offsets without a record (transaction markers, compacted records) are skipped
    by the fetch, so a result above ``offset`` means ``offset`` itself holds no record.
    """
    from kafka import TopicPartition

    tp = TopicPartition(topic, partition)
    # read_committed like the worker: records of aborted transactions are no records to re-read
    consumer = _offsets_consumer(settings, "lytter-next-record", max_poll_records=1, isolation_level="read_committed")
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                return record.offset
        return None
    finally:
        consumer.close()


#: ``lytter status`` reads the dead-letter keys only up to this many records: dead letters are rare,
#: and a topic grown past this says enough by its total (the distinct count is then not given).
DEAD_LETTER_SCAN_LIMIT = 200_000


def dead_letter_counts(settings: Settings, limit: int = DEAD_LETTER_SCAN_LIMIT, timeout: float = 30.0) -> tuple[int | None, int]:
    """(distinct, total) records on the dead-letter topic. Distinct counts distinct keys (the raw
    record's ``topic/partition/offset``, see ``streams.sinks.kafka.KafkaDeadLetters``): a letter written
    twice because a crash came between it and its batch's acknowledgement counts once. ``distinct`` is
    None when the topic holds more than ``limit`` records (or could not be read to its end in ``timeout``)."""
    from kafka import TopicPartition

    topic = settings.topic_deadletter
    consumer = _offsets_consumer(settings, "lytter-status-deadletters", max_partition_fetch_bytes=8 * 1024 * 1024)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return 0, 0
        start, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        total = sum(end[tp] - start[tp] for tp in tps)
        if total > limit:
            return None, total
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        keys: set[bytes | None] = set()
        waiting = {tp for tp in tps if end[tp] > start[tp]}
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=10_000).values():
                keys.update(record.key for record in records)
            # the position, not the last record: it moves past offsets that hold none (transaction markers)
            waiting = {tp for tp in waiting if consumer.position(tp) < end[tp]}
        return (None if waiting else len(keys)), total
    finally:
        consumer.close()
