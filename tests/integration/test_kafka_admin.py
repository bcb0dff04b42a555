"""Topic and offset administration against the real Kafka."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.ops.kafka_admin import commit_start_offsets

pytestmark = pytest.mark.integration


def test_partitions_without_a_committed_offset_get_one_at_their_start_once(lytter):
    committed = commit_start_offsets(lytter, [lytter.topic_raw])
    assert committed == {f"{lytter.topic_raw}[{p}]": 0 for p in range(lytter.topic_partitions)}
    consumer = KafkaConsumer(bootstrap_servers=lytter.kafka_bootstrap, group_id=lytter.app_id, enable_auto_commit=False)
    try:
        assert [consumer.committed(TopicPartition(lytter.topic_raw, p)) for p in range(lytter.topic_partitions)] == [0] * lytter.topic_partitions
    finally:
        consumer.close()
    # offsets the group has are never touched again
    assert commit_start_offsets(lytter, [lytter.topic_raw]) == {}


def test_next_record_offset_reads_the_log(lytter):
    from kafka import KafkaProducer

    from streams.ops.kafka_admin import ensure_topics, next_record_offset

    ensure_topics(lytter, [lytter.topic_raw])
    producer = KafkaProducer(bootstrap_servers=lytter.kafka_bootstrap)
    for n in range(3):
        producer.send(lytter.topic_raw, value=b"record %d" % n, partition=0)
    producer.flush()
    producer.close()
    assert next_record_offset(lytter, lytter.topic_raw, 0, 0) == 0
    assert next_record_offset(lytter, lytter.topic_raw, 0, 2) == 2
    assert next_record_offset(lytter, lytter.topic_raw, 0, 3, timeout=2) is None  # nothing there yet


def test_dead_letters_are_counted_distinct_by_key_and_in_total(lytter):
    """What `lytter status` shows: a dead letter written again after a crash (same key) counts once."""
    from kafka import KafkaProducer

    from streams.ops.health import collect_status
    from streams.ops.kafka_admin import dead_letter_counts, ensure_topics

    ensure_topics(lytter, [lytter.topic_deadletter])
    assert dead_letter_counts(lytter) == (0, 0)
    producer = KafkaProducer(bootstrap_servers=lytter.kafka_bootstrap)
    for offset in (5, 6, 5, 7, 6):  # two of them repeated
        producer.send(lytter.topic_deadletter, key=f"{lytter.topic_raw}/0/{offset}".encode(), value=b"{}")
    producer.flush()
    producer.close()
    assert dead_letter_counts(lytter) == (3, 5)
    assert dead_letter_counts(lytter, limit=4) == (None, 5)  # too many to read: the total alone
    row = collect_status(lytter)["dead letters"]
    assert (row["distinct"], row["total"]) == (3, 5) and "3/5 distinct/total" in row["detail"], row
