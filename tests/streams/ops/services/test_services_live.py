"""The launcher against the real thing: Kafka and Elasticsearch it started, and its start-up failures."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from elasticsearch import AuthenticationException, Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from streams.ops.services import LocalServices, ServiceError
from streams.settings import Settings

REPO = Path(__file__).resolve().parents[4]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def own_settings(name: str, **overrides) -> Settings:
    """Settings for a launcher of a test's own: free ports and a directory of its own (under the repo, so that the
    unprivileged Elasticsearch user can enter it when the tests run as root)."""
    kafka_port, controller_port, es_port = free_port(), free_port(), free_port()
    values = dict(
        services_dir=REPO / ".lytter" / f"test-{name}",
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        es_port=es_port,
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        es_url=f"http://127.0.0.1:{es_port}",
        es_username=None,
        es_password=None,
    )
    values.update(overrides)
    shutil.rmtree(values["services_dir"], ignore_errors=True)  # a clean start; the last run's files stay for a look
    return Settings(**values)


@pytest.mark.integration
def test_both_services_are_healthy_and_reported(services):
    state = services.launcher.status()
    for name in ("kafka", "elasticsearch"):
        assert state[name]["running"] and state[name]["healthy"], state[name]
        assert isinstance(state[name]["pid"], int)
        assert Path(state[name]["log"]).is_file()
    assert state["kafka"]["port"] == services.settings.kafka_port
    assert state["elasticsearch"]["port"] == services.settings.es_port
    assert "Kafka Server started" in services.launcher.logs("kafka", lines=100_000)


@pytest.mark.integration
def test_kafka_topic_produce_consume(services, fresh_names):
    topic = fresh_names.topic("roundtrip")
    bootstrap = services.settings.kafka_bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="lytter-test")
    try:
        admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1)])
        assert topic in admin.list_topics()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        metadata = producer.send(topic, key=b"k", value=b'{"text": "hej LEGO"}').get(timeout=30)
        producer.close()
        assert metadata.offset == 0
        consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=fresh_names.group, auto_offset_reset="earliest", consumer_timeout_ms=20_000
        )
        records = []
        for record in consumer:
            records.append(record)
            break
        consumer.close()
        assert [(r.key, r.value) for r in records] == [(b"k", b'{"text": "hej LEGO"}')]
    finally:
        admin.delete_topics([topic])
        admin.close()


@pytest.mark.integration
def test_elasticsearch_index_and_search(services, fresh_names):
    index = fresh_names.index("docs")
    client = Elasticsearch(services.settings.es_url, request_timeout=30)
    try:
        assert client.cluster.health(wait_for_status="yellow", timeout="10s")["status"] in ("green", "yellow")
        client.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
        client.index(index=index, id="m1", document={"text": "Jeg elsker LEGO", "lang": "da"}, refresh="wait_for")
        hits = client.search(index=index, query={"match": {"text": "lego"}})["hits"]
        assert hits["total"]["value"] == 1 and hits["hits"][0]["_id"] == "m1"
        assert hits["hits"][0]["_source"]["lang"] == "da"
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()


@pytest.mark.integration
def test_up_again_is_a_no_op(services):
    before = services.launcher.status()
    started = time.monotonic()
    assert LocalServices(services.settings).up() == {"kafka": "already running", "elasticsearch": "already running"}
    assert time.monotonic() - started < 15
    after = services.launcher.status()
    assert {n: e["pid"] for n, e in after.items()} == {n: e["pid"] for n, e in before.items()}


@pytest.mark.parametrize("busy", ["kafka_port", "kafka_controller_port", "es_port"])
def test_up_on_a_used_port_names_the_port_and_the_setting(tmp_path, busy):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = Settings(
            services_dir=tmp_path / "services",
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            es_port=free_port(),
        ).model_copy(update={busy: port})
        launcher = LocalServices(settings)
        with pytest.raises(ServiceError) as info:
            launcher.up(timeout=30)
        message = str(info.value)
        assert f"port {port}" in message
        assert f"LYTTER_{busy.upper()}" in message
        assert not any(entry["running"] for entry in launcher.status().values())  # nothing was started


@pytest.mark.integration
def test_a_service_that_dies_during_start_up_is_reported_with_its_log():
    settings = own_settings("dies", kafka_heap="1000000g")  # the JVM cannot reserve a 1 PB heap
    launcher = LocalServices(settings)
    try:
        with pytest.raises(ServiceError) as info:
            launcher.up(timeout=60, names=["kafka"])
        message = str(info.value)
        assert "Kafka exited during start-up" in message
        assert "LYTTER_KAFKA_HEAP" in message  # the out-of-memory hint
        assert "Could not reserve enough space" in message  # the JVM's own words, from the log tail
        assert str(settings.services_dir / "kafka" / "kafka.log") in message
    finally:
        launcher.down()


@pytest.mark.integration
def test_timeout_waiting_for_health_leaves_it_running_and_says_so():
    launcher = LocalServices(own_settings("timeout"))
    try:
        with pytest.raises(ServiceError, match=r"Kafka did not become healthy within 1s; it is still running"):
            launcher.up(timeout=1, names=["kafka"])
        assert launcher.status()["kafka"]["running"]
    finally:
        assert launcher.down()["kafka"] in ("stopped", "killed")
        launcher.wipe()


@pytest.mark.integration
def test_elasticsearch_with_security_needs_the_elastic_password():
    with pytest.raises(ServiceError, match="LYTTER_ES_PASSWORD"):
        LocalServices(own_settings("secure"), security=True).up(names=["elasticsearch"])

    settings = own_settings("secure", es_username="elastic", es_password="lytter-test-secret")
    launcher = LocalServices(settings, security=True)
    try:
        launcher.up(timeout=240, names=["elasticsearch"])
        assert launcher.status()["elasticsearch"]["healthy"]
        url = f"{settings.es_url}/_cluster/health"
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(url, timeout=10)
        assert anonymous.value.code == 401
        client = Elasticsearch(settings.es_url, basic_auth=("elastic", "lytter-test-secret"), request_timeout=30)
        try:
            client.index(index="secure-check", id="1", document={"ok": True}, refresh="wait_for")
            assert client.count(index="secure-check")["count"] == 1
        finally:
            client.close()
        wrong = Elasticsearch(settings.es_url, basic_auth=("elastic", "wrong-password"), request_timeout=30)
        with pytest.raises(AuthenticationException):
            wrong.cluster.health()
        wrong.close()
        # without credentials the launcher's own health check says what is missing
        anonymous_launcher = LocalServices(settings.model_copy(update={"es_username": None, "es_password": None}))
        assert anonymous_launcher.status()["elasticsearch"]["healthy"] is False
        assert "LYTTER_ES_PASSWORD" in anonymous_launcher.status()["elasticsearch"]["detail"]
    finally:
        launcher.wipe()

