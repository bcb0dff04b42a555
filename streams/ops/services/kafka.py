"""The Kafka (KRaft) node of the local services: its fetch, its config and storage, its start and its health."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.common import LOG_TAIL_ON_ERROR, _Paths
from streams.ops.services.errors import ServiceError
from streams.ops.services.fetch import COMPLETE, _install, _run_maven
from streams.ops.services.process import _accepts, _spawn_detached
from streams.settings import Settings


class KafkaNode:
    """The Kafka half of :class:`~streams.ops.services.local.LocalServices` (a mixin: it uses its settings and paths)."""

    settings: Settings
    paths: _Paths
    cache_dir: Path
    _last_health_error: dict[str, str]

    def kafka_fetched(self) -> bool:
        return (self.paths.kafka_home / COMPLETE).is_file()

    def _fetch_kafka(self, mvn: str) -> None:
        version = self.settings.kafka_version
        home = self.paths.kafka_home
        with tempfile.TemporaryDirectory(prefix=f".kafka-{version}.", dir=self.cache_dir) as tmp:
            work = Path(tmp)
            pom = work / "pom.xml"
            pom.write_text(cfg.kafka_runtime_pom(version))
            staged = work / "home"
            libs = staged / "libs"
            libs.mkdir(parents=True)
            _run_maven(cfg.kafka_fetch_command(mvn, pom, libs), work, f"Kafka {version}", "kafka_version")
            if not any(libs.glob(f"kafka_*-{version}.jar")):
                raise ServiceError(f"Maven finished but {libs} holds no kafka_*-{version}.jar; remove {home} and retry")
            (staged / COMPLETE).write_text(f"kafka {version}\n")
            _install(staged, home)

    def _start_kafka(self, java: cfg.JavaInfo) -> None:
        p = self.paths
        s = self.settings
        launch_kafka_node(
            java_bin=java.home / "bin" / "java",
            libs=p.kafka_libs,
            heap=s.kafka_heap,
            directory=p.kafka_dir,
            data=p.kafka_data,
            properties=p.kafka_properties,
            properties_text=cfg.kafka_server_properties(port=s.kafka_port, controller_port=s.kafka_controller_port, data_dir=p.kafka_data),
            log4j=p.kafka_log4j,
            log_file=p.kafka_log,
            pid_file=p.kafka_pid,
            cluster_id_file=p.kafka_cluster_id,
        )

    def _kafka_healthy(self, timeout: float = 5.0) -> bool:
        port = self.settings.kafka_port
        if not _accepts(port):
            return False
        from kafka import KafkaAdminClient

        try:
            with quiet_kafka_logs():
                # only options that kafka-python 2.x and 3.x both accept
                admin = KafkaAdminClient(
                    bootstrap_servers=[f"127.0.0.1:{port}"], client_id="lytter-services-health", request_timeout_ms=int(timeout * 1000)
                )
                try:
                    admin.list_topics()
                    return True
                finally:
                    admin.close()
        except Exception as exc:  # not ready yet, whatever kafka-python says; kept for the timeout message
            self._last_health_error["kafka"] = f"{type(exc).__name__}: {exc}"
            return False


@contextlib.contextmanager
def quiet_kafka_logs() -> Iterator[None]:
    """kafka-python logs every refused connection as an error: silence it while probing a starting broker."""
    quiet = logging.getLogger("kafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        quiet.setLevel(level)


def launch_kafka_node(
    *,
    java_bin: Path,
    libs: Path,
    heap: str,
    directory: Path,
    data: Path,
    properties: Path,
    properties_text: str,
    log4j: Path,
    log_file: Path,
    pid_file: Path,
    cluster_id_file: Path,
) -> int:
    """Write one Kafka node's config, format its storage once (with the cluster id kept in
    ``cluster_id_file``, shared by the nodes of a cluster), start it detached; returns its pid."""
    data.mkdir(parents=True, exist_ok=True)
    properties.write_text(properties_text)
    log4j.write_text(cfg.KAFKA_LOG4J)
    if not (data / "meta.properties").is_file():  # format once; a formatted node is never re-formatted
        if cluster_id_file.is_file():
            cluster_id = cluster_id_file.read_text().strip()
        else:
            cluster_id = cfg.new_cluster_id()
            cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            cluster_id_file.write_text(cluster_id + "\n")
        command = cfg.kafka_format_command(java=java_bin, libs_dir=libs, log4j_file=log4j, cluster_id=cluster_id, properties=properties)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ServiceError(
                f"formatting the Kafka storage in {data} failed (exit {proc.returncode}):\n"
                f"{cfg.tail_lines(proc.stdout + proc.stderr, LOG_TAIL_ON_ERROR)}"
            )
    command = cfg.kafka_server_command(java=java_bin, libs_dir=libs, heap=heap, log4j_file=log4j, properties=properties)
    pid = _spawn_detached(command, cwd=directory, log_file=log_file)
    pid_file.write_text(f"{pid}\n")
    return pid
