"""Checks of the launcher (``streams.ops.services.local``) that need no running service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from streams.ops.services import LocalServices, ServiceError, fetch
from streams.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(tmp_path: Path, **overrides) -> Settings:
    """Settings of a launcher that starts nothing: its own directories and free ports (a running demo is no matter)."""
    values = dict(
        services_dir=tmp_path / "services",
        cache_dir=tmp_path / "cache",
        kafka_port=_free_port(),
        kafka_controller_port=_free_port(),
        es_port=_free_port(),
    )
    values.update(overrides)
    return Settings(**values)


def test_missing_java_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ServiceError, match="Java was not found") as info:
        LocalServices(_settings(tmp_path)).up()
    assert "JAVA_HOME" in str(info.value)


def test_old_java_is_a_clear_error(tmp_path, monkeypatch):
    fake_home = tmp_path / "jdk8"
    (fake_home / "bin").mkdir(parents=True)
    java = fake_home / "bin" / "java"
    java.write_text('#!/bin/sh\necho \'java version "1.8.0_292"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    with pytest.raises(ServiceError, match=r"Java 1\.8\.0_292 .* too old"):
        LocalServices(_settings(tmp_path)).java()


def test_missing_maven_is_a_clear_error_only_when_something_must_be_fetched(tmp_path, monkeypatch):
    services = LocalServices(_settings(tmp_path))
    services.java()  # the real JDK, found before PATH is emptied
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match=r"Maven \(`mvn`\) was not found"):
        services.fetch()
    for home in (services.paths.kafka_home, services.paths.es_home):  # a complete cache needs no Maven
        home.mkdir(parents=True)
        (home / fetch.COMPLETE).write_text("done\n")
    assert services.fetch() == {"kafka": services.paths.kafka_libs, "elasticsearch": services.paths.es_home}


def test_same_port_twice_is_refused(tmp_path):
    settings = _settings(tmp_path, kafka_port=29555, kafka_controller_port=29555)
    with pytest.raises(ServiceError, match="LYTTER_KAFKA_PORT.*LYTTER_KAFKA_CONTROLLER_PORT|both set to port 29555"):
        LocalServices(settings).up()


def test_status_down_and_logs_when_nothing_was_started(tmp_path):
    free = _free_port()
    services = LocalServices(_settings(tmp_path, es_port=free))
    state = services.status()
    assert set(state) == {"kafka", "elasticsearch"}
    assert state["elasticsearch"] == {
        "running": False, "pid": None, "port": free, "healthy": False,
        "log": str(tmp_path / "services" / "elasticsearch" / "elasticsearch.log"),
        "url": f"http://127.0.0.1:{free}", "detail": "stopped",
    }  # fmt: skip
    assert services.down() == {"kafka": "not running", "elasticsearch": "not running"}
    with pytest.raises(ServiceError, match="no Kafka log"):
        services.logs("kafka")
    with pytest.raises(ServiceError, match="unknown service 'zookeeper'"):
        services.logs("zookeeper")


def test_a_stale_pid_file_is_not_running(tmp_path):
    services = LocalServices(_settings(tmp_path))
    services.paths.kafka_pid.parent.mkdir(parents=True)
    services.paths.kafka_pid.write_text("1\n")  # init: alive, but not our Kafka
    assert services.status()["kafka"]["running"] is False
    assert services.down(names=["kafka"]) == {"kafka": "not running"}
    assert not services.paths.kafka_pid.exists()
