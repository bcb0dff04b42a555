"""Topic and offset administration against the real Kafka."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.kafka_admin import commit_start_offsets

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
