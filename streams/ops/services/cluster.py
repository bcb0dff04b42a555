"""A local multi-node Kafka cluster (KRaft, every node broker + controller) on loopback.

For the broker-fault tests and for trying replication on one machine: ``nodes`` Kafka processes from the
same cached distribution as :class:`~streams.ops.services.local.LocalServices`, one cluster id, replication
factor ``nodes`` and min ISR ``nodes - 1`` (so with three nodes one may die and producers with
``acks=all`` go on). Node ``i`` (1-based) listens on ``base_port + 2*(i-1)`` (broker) and the next port
(controller); its config, data and log live in ``<directory>/node-<i>``.

    cluster = LocalKafkaCluster(settings, nodes=3, base_port=19092)
    cluster.up()                       # fetch (cached), format, start all, wait until all are registered
    settings.kafka_bootstrap = cluster.bootstrap
    cluster.kill(2); cluster.start(2)  # SIGKILL a node, bring it back
    cluster.down()
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.common import LOG_TAIL_ON_ERROR, Progress, _noop, _read_tail, _read_text
from streams.ops.services.errors import ServiceError
from streams.ops.services.kafka import launch_kafka_node, quiet_kafka_logs
from streams.ops.services.local import LocalServices
from streams.ops.services.process import _group_alive, _group_members, _signal_group, require_ports_free
from streams.settings import Settings


@dataclass(frozen=True)
class Node:
    node_id: int
    port: int
    controller_port: int
    directory: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def properties(self) -> Path:
        return self.directory / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.directory / "log4j.properties"

    @property
    def log(self) -> Path:
        return self.directory / "kafka.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "kafka.pid"


class LocalKafkaCluster:
    def __init__(self, settings: Settings, *, nodes: int = 3, base_port: int = 19092, directory: Path | None = None) -> None:
        if nodes < 1:
            raise ServiceError(f"a cluster needs at least one node (nodes={nodes})")
        self.settings = settings
        self.services = LocalServices(settings)  # the cached distribution, Java, fetch
        self.directory = Path(directory or Path(settings.services_dir) / "kafka-cluster").expanduser().absolute()
        self.nodes = [
            Node(i, base_port + 2 * (i - 1), base_port + 2 * (i - 1) + 1, self.directory / f"node-{i}") for i in range(1, nodes + 1)
        ]
        self.voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def node(self, node_id: int) -> Node:
        for n in self.nodes:
            if n.node_id == node_id:
                return n
        raise ServiceError(f"no node {node_id} in this cluster (nodes 1..{len(self.nodes)})")

    # ------------------------------------------------------------------ lifecycle

    def up(self, timeout: float = 240.0, progress: Progress | None = None) -> None:
        """Start every node that is not running and wait until all are registered with the controller."""
        say = progress or _noop
        to_start = [n for n in self.nodes if not self.alive(n.node_id)]
        for n in to_start:
            require_ports_free([(n.port, f"broker of cluster node {n.node_id}"), (n.controller_port, f"controller of cluster node {n.node_id}")],
                               "choose another base port or stop that process")
        if to_start:
            self.services.fetch(say)
        for n in to_start:
            say(f"starting Kafka node {n.node_id} on 127.0.0.1:{n.port}")
            self._spawn(n)
        self.wait_healthy(timeout, say)

    def start(self, node_id: int, timeout: float = 120.0) -> None:
        """Start one node again (after ``kill``/``stop``) and wait until the cluster has all its brokers."""
        n = self.node(node_id)
        if not self.alive(node_id):
            self._spawn(n)
        self.wait_healthy(timeout)

    def kill(self, node_id: int) -> None:
        """Crash one node: SIGKILL to its process group, no controlled shutdown."""
        n = self.node(node_id)
        pid = self._pid(n)
        if pid is None:
            return
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        n.pid_file.unlink(missing_ok=True)

    def stop(self, node_id: int, grace: float = 30.0) -> None:
        """Stop one node with SIGTERM (controlled shutdown: leadership moves first), SIGKILL after ``grace``."""
        n = self.node(node_id)
        pid = self._pid(n)
        if pid is None:
            return
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_members(pid):
            self.kill(node_id)
        n.pid_file.unlink(missing_ok=True)

    def down(self) -> None:
        for n in self.nodes:
            self.stop(n.node_id)

    def wipe(self) -> None:
        """Stop every node and delete the cluster's data and id."""
        import shutil

        self.down()
        shutil.rmtree(self.directory, ignore_errors=True)

    def alive(self, node_id: int) -> bool:
        return self._pid(self.node(node_id)) is not None

    # ------------------------------------------------------------------ inspection

    def brokers(self, timeout: float = 5.0) -> set[int]:
        """Ids of the brokers the cluster metadata lists as registered (empty when nobody answers)."""
        from kafka import KafkaAdminClient

        try:
            with quiet_kafka_logs():
                admin = KafkaAdminClient(
                    bootstrap_servers=[f"127.0.0.1:{n.port}" for n in self.nodes if self.alive(n.node_id)] or self.bootstrap.split(","),
                    client_id="lytter-cluster-health",
                    request_timeout_ms=int(timeout * 1000),
                )
                try:
                    return {int(b["node_id"]) for b in admin.describe_cluster()["brokers"]}
                finally:
                    admin.close()
        except Exception:  # noqa: BLE001 - not ready yet, whatever kafka-python says
            return set()

    def partitions(self, topic: str) -> list[dict]:
        """The partitions of a topic as the cluster describes them (``partition``, ``leader``, ``isr``, ...)."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap.split(","), client_id="lytter-cluster-admin")
        try:
            (described,) = admin.describe_topics([topic])
            return described["partitions"]
        finally:
            admin.close()

    def leaders(self, topic: str) -> dict[int, int]:
        """``{partition: leader node id}`` of a topic (-1 where it has no leader)."""
        return {p["partition"]: p["leader"] for p in self.partitions(topic)}

    def in_sync(self, topic: str) -> dict[int, list[int]]:
        """``{partition: in-sync replica ids}`` of a topic."""
        return {p["partition"]: sorted(p["isr"]) for p in self.partitions(topic)}

    def wait_healthy(self, timeout: float = 240.0, progress: Progress | None = None) -> None:
        say = progress or _noop
        want = {n.node_id for n in self.nodes}
        deadline = time.monotonic() + timeout
        while True:
            for n in self.nodes:
                if self._pid(n) is None:
                    raise ServiceError(
                        f"Kafka cluster node {n.node_id} is not running (it exited during start-up?). "
                        f"Last {LOG_TAIL_ON_ERROR} lines of {n.log}:\n{_read_tail(n.log, LOG_TAIL_ON_ERROR)}"
                    )
            ready = all(cfg.KAFKA_READY_LINE in _read_text(n.log) for n in self.nodes)
            if ready and self.brokers() >= want:
                say(f"Kafka cluster healthy: brokers {sorted(want)} at {self.bootstrap}")
                return
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"the Kafka cluster did not have all of brokers {sorted(want)} registered within {timeout:.0f}s "
                    f"(registered: {sorted(self.brokers())}); logs in {self.directory}/node-*/kafka.log"
                )
            time.sleep(0.5)

    # ------------------------------------------------------------------ internals

    def _pid(self, n: Node) -> int | None:
        try:
            pid = int(n.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _group_alive(pid, (str(n.properties),)) else None

    def _spawn(self, n: Node) -> None:
        launch_kafka_node(
            java_bin=self.services.java().home / "bin" / "java",
            libs=self.services.paths.kafka_libs,
            heap=self.settings.kafka_heap,
            directory=n.directory,
            data=n.data,
            properties=n.properties,
            properties_text=cfg.kafka_server_properties(
                port=n.port,
                controller_port=n.controller_port,
                data_dir=n.data,
                node_id=n.node_id,
                voters=self.voters,
                replication=min(3, len(self.nodes)),
            ),
            log4j=n.log4j,
            log_file=n.log,
            pid_file=n.pid_file,
            cluster_id_file=self.directory / "cluster.id",
        )
