"""Fetch, start, check and stop a local Kafka (KRaft) and Elasticsearch as plain Java processes.

Both come from Maven Central (``mvn``), are cached under ``settings.cache_dir`` and run from
``settings.services_dir`` (configs, data, logs, pid files), bound to 127.0.0.1. They are started detached
(a new session, not children of the caller), so they outlive the CLI that started them.

The node-specific parts are mixed in from ``kafka.KafkaNode`` and ``elasticsearch.ElasticsearchNode``; process
groups and ports are ``process``'s, the cache ``fetch``'s, names and the on-disk layout ``common``'s.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.common import ALIASES, LABELS, LOG_TAIL_ON_ERROR, SERVICES, Progress, _noop, _Paths, _read_tail, _read_text
from streams.ops.services.elasticsearch import ES_USER, ElasticsearchNode
from streams.ops.services.errors import ServiceError
from streams.ops.services.fetch import _maven
from streams.ops.services.kafka import KafkaNode
from streams.ops.services.process import _check_distinct_ports, _group_alive, _group_members, _port_free, _signal_group
from streams.settings import Settings, get_settings

log = logging.getLogger(__name__)


class LocalServices(KafkaNode, ElasticsearchNode):
    """The local Kafka and Elasticsearch of one ``services_dir``.

    ``security=True`` starts Elasticsearch with security on: HTTP basic auth and the role ``lytter``
    (``deploy/elasticsearch/roles.yml``, as ``config/roles.yml``). With ``settings.es_username`` another than
    ``elastic`` that user is made in the file realm with the role ``lytter`` and ``settings.es_password``, and
    ``elastic`` gets ``settings.es_superuser_password`` if set; else Lytter logs in as ``elastic`` with
    ``settings.es_password``. The ``elastic`` password is the keystore's ``bootstrap.password``.
    """

    def __init__(self, settings: Settings | None = None, *, security: bool = False, es_user: str = ES_USER,
                 es_node_settings: dict[str, str] | None = None) -> None:
        self.settings = settings or get_settings()
        self.security = security
        self.es_node_settings = dict(es_node_settings or {})  # extra elasticsearch.yml lines (test nodes)
        self.es_user = es_user
        s = self.settings
        cache = Path(s.cache_dir).expanduser().absolute()
        base = Path(s.services_dir).expanduser().absolute()
        kafka_home = cache / f"kafka-{s.kafka_version}"
        kafka_dir = base / "kafka"
        es_dir = base / "elasticsearch"
        self.cache_dir = cache
        self.services_dir = base
        self.paths = _Paths(
            kafka_home=kafka_home,
            kafka_libs=kafka_home / "libs",
            es_home=cache / f"elasticsearch-{s.es_version}",
            kafka_dir=kafka_dir,
            kafka_data=kafka_dir / "data",
            kafka_properties=kafka_dir / "server.properties",
            kafka_log4j=kafka_dir / "log4j.properties",
            kafka_log=kafka_dir / "kafka.log",
            kafka_pid=kafka_dir / "kafka.pid",
            kafka_cluster_id=kafka_dir / "cluster.id",
            es_dir=es_dir,
            es_conf=es_dir / "config",
            es_data=es_dir / "data",
            es_logs=es_dir / "logs",
            es_log=es_dir / "elasticsearch.log",
            es_pid=es_dir / "elasticsearch.pid",
        )
        self._java: cfg.JavaInfo | None = None
        self._last_health_error: dict[str, str] = {}

    # ------------------------------------------------------------------ prerequisites

    def java(self) -> cfg.JavaInfo:
        """The JDK used for both services: ``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH (17+)."""
        if self._java is not None:
            return self._java
        candidate: str | None = None
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").is_file():
            candidate = str(Path(java_home) / "bin" / "java")
        else:
            candidate = shutil.which("java")
        if candidate is None:
            raise ServiceError(cfg.JAVA_MISSING)
        try:
            proc = subprocess.run(
                [candidate, "-XshowSettings:properties", "-version"], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(f"could not run `{candidate} -version`: {exc}. {cfg.JAVA_MISSING}") from exc
        info = cfg.java_info_from_output(Path(candidate), proc.stderr + proc.stdout)
        if info.major < cfg.MIN_JAVA:
            raise ServiceError(cfg.java_too_old_message(info))
        self._java = info
        return info

    # ------------------------------------------------------------------ fetch

    def fetch(self, progress: Progress | None = None) -> dict[str, Path]:
        """Resolve both distributions into the cache (once; later calls reuse it and need no network)."""
        say = progress or _noop
        need_kafka, need_es = not self.kafka_fetched(), not self.es_fetched()
        if need_kafka or need_es:
            self.java()  # Maven itself needs it, and a clear message beats Maven's
            mvn = _maven()
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            jobs = []
            if need_kafka:
                say(f"fetching Kafka {self.settings.kafka_version} runtime from Maven Central (about 46 MB)")
                jobs.append(lambda: self._fetch_kafka(mvn))
            if need_es:
                say(f"fetching Elasticsearch {self.settings.es_version} (integ-test-zip) from Maven Central (about 105 MB)")
                jobs.append(lambda: self._fetch_es(mvn, say))
            # two Maven runs side by side: each spends seconds starting up and resolving plugins
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                for future in [pool.submit(job) for job in jobs]:
                    future.result()
        return {"kafka": self.paths.kafka_libs, "elasticsearch": self.paths.es_home}

    # ------------------------------------------------------------------ up

    def up(self, timeout: float = 180.0, progress: Progress | None = None, names: Iterable[str] | None = None) -> dict[str, str]:
        """Start what is not running yet and wait until everything is healthy.

        Returns ``{name: "started" | "already running"}``. Raises ServiceError with cause and fix.
        """
        say = progress or _noop
        wanted = self._names(names)
        _check_distinct_ports(self._port_uses(wanted))
        outcome: dict[str, str] = {}
        to_start = []
        for name in wanted:
            if self._pid(name) is not None:
                outcome[name] = "already running"
            else:
                to_start.append(name)
        for use in self._port_uses(to_start):
            if not _port_free(use.port):
                raise ServiceError(cfg.port_in_use_message(use))
        if "kafka" in to_start:
            cfg.heap_flags(self.settings.kafka_heap, "kafka_heap")
        if "elasticsearch" in to_start:
            cfg.heap_flags(self.settings.es_heap, "es_heap")
            if self.security:
                self._bootstrap_password()
        java = self.java()
        if to_start:
            self.fetch(say)
        self.services_dir.mkdir(parents=True, exist_ok=True)
        # Elasticsearch first: it takes longest, Kafka starts while it boots
        for name in sorted(to_start, key=lambda n: n != "elasticsearch"):
            say(f"starting {LABELS[name]}")
            if name == "kafka":
                self._start_kafka(java)
            else:
                self._start_es(java, say)
            outcome[name] = "started"
        self._wait_healthy(wanted, timeout, say, just_started=set(to_start))
        return outcome

    def _names(self, names: Iterable[str] | None) -> list[str]:
        if names is None:
            return list(SERVICES)
        result = []
        for raw in names:
            name = ALIASES.get(raw.lower())
            if name is None:
                raise ServiceError(f"unknown service {raw!r}: choose from kafka, elasticsearch")
            if name not in result:
                result.append(name)
        return result

    def _port_uses(self, names: Iterable[str]) -> list[cfg.PortUse]:
        s = self.settings
        uses = []
        for name in names:
            if name == "kafka":
                uses += [
                    cfg.PortUse(s.kafka_port, "Kafka broker", "kafka_port"),
                    cfg.PortUse(s.kafka_controller_port, "Kafka KRaft controller", "kafka_controller_port"),
                ]
            else:
                uses.append(cfg.PortUse(s.es_port, "Elasticsearch HTTP", "es_port"))
        return uses

    # ------------------------------------------------------------------ health

    def _wait_healthy(self, names: list[str], timeout: float, say: Progress, just_started: set[str]) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        say("waiting for " + " and ".join(LABELS[n] for n in pending) + " to be healthy")
        while pending:
            for name in list(pending):
                if self._pid(name) is None:
                    raise ServiceError(self._died_message(name))
                if self._healthy(name, starting=name in just_started):
                    pending.remove(name)
                    say(f"{LABELS[name]} is healthy")
            if not pending:
                break
            if time.monotonic() > deadline:
                raise ServiceError(self._timeout_message(pending[0], timeout))
            time.sleep(0.5)

    def _died_message(self, name: str) -> str:
        log_file = self._log_file(name)
        tail = _read_tail(log_file, LOG_TAIL_ON_ERROR)
        hint = ""
        if "Address already in use" in tail:
            ports = ", ".join(f"{u.port} ({u.env})" for u in self._port_uses([name]))
            hint = f" A port it needs is taken by another process: {ports}; change the setting or stop that process."
        elif "OutOfMemoryError" in tail or "Could not reserve enough space" in tail:
            setting = "LYTTER_KAFKA_HEAP" if name == "kafka" else "LYTTER_ES_HEAP"
            hint = f" It ran out of memory: adjust {setting}."
        return (
            f"{LABELS[name]} exited during start-up.{hint} Last {LOG_TAIL_ON_ERROR} lines of {log_file}:\n{tail}\n"
            f"Fix the cause above and run `lytter services up` again (`lytter services logs {name}` shows more)."
        )

    def _timeout_message(self, name: str, timeout: float) -> str:
        log_file = self._log_file(name)
        if name == "kafka" and cfg.KAFKA_READY_LINE not in _read_text(log_file):
            last_check = f"its log does not say '{cfg.KAFKA_READY_LINE}' yet"
        else:
            last_check = self._last_health_error.get(name, "no answer")
        return (
            f"{LABELS[name]} did not become healthy within {timeout:.0f}s; it is still running (pid {self._pid(name)}), "
            f"`lytter services down` stops it. Last health check: {last_check}. "
            f"Last {LOG_TAIL_ON_ERROR} lines of {log_file}:\n"
            f"{_read_tail(log_file, LOG_TAIL_ON_ERROR)}\n"
            "On a slow machine retry with a longer timeout (`lytter services up --timeout 600`)."
        )

    def _healthy(self, name: str, starting: bool = False) -> bool:
        if name == "kafka":
            if starting and cfg.KAFKA_READY_LINE not in _read_text(self.paths.kafka_log):
                return False
            return self._kafka_healthy()
        return self._es_healthy()

    # ------------------------------------------------------------------ status, logs, down, wipe

    def _pid_file(self, name: str) -> Path:
        return self.paths.kafka_pid if name == "kafka" else self.paths.es_pid

    def _log_file(self, name: str) -> Path:
        return self.paths.kafka_log if name == "kafka" else self.paths.es_log

    def _markers(self, name: str) -> tuple[str, ...]:
        """What the command line or environment of one of the service's processes contains (pid-reuse guard)."""
        if name == "kafka":
            return (str(self.paths.kafka_properties),)
        return (f"ES_PATH_CONF={self.paths.es_conf}", f"-Des.path.conf={self.paths.es_conf}")

    def _pid(self, name: str) -> int | None:
        """The pid of the running service (from its pid file), or None when it is not running."""
        try:
            pid = int(self._pid_file(name).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _group_alive(pid, self._markers(name)) else None

    def status(self) -> dict[str, dict]:
        """Per service: running, pid, port, healthy, log (path) and a detail line."""
        s = self.settings
        result: dict[str, dict] = {}
        for name in SERVICES:
            pid = self._pid(name)
            port = s.kafka_port if name == "kafka" else s.es_port
            entry: dict = {"running": pid is not None, "pid": pid, "port": port, "healthy": False, "log": str(self._log_file(name))}
            if name == "kafka":
                entry["bootstrap"] = f"127.0.0.1:{s.kafka_port}"
                entry["controller_port"] = s.kafka_controller_port
                if pid is not None:
                    entry["healthy"] = self._kafka_healthy()
                    entry["detail"] = "lists topics" if entry["healthy"] else "does not answer the admin client (yet)"
            else:
                entry["url"] = f"http://127.0.0.1:{s.es_port}"
                if pid is not None:
                    entry["healthy"], entry["detail"] = self._es_health()
            if pid is None:
                entry["detail"] = "stopped" if _port_free(port) else f"stopped here, but another process uses port {port}"
            result[name] = entry
        return result

    def log_path(self, name: str) -> Path:
        """The file a service's console output goes to (the previous start's is ``<name>.log.1``)."""
        (service,) = self._names([name])
        return self._log_file(service)

    def logs(self, name: str, lines: int = 50) -> str:
        """The last ``lines`` lines of a service's log (its console output since the last start)."""
        (service,) = self._names([name])
        path = self._log_file(service)
        if not path.exists():
            raise ServiceError(
                f"no {LABELS[service]} log at {path}: it has not been started from this services_dir "
                f"({self.services_dir}, setting services_dir / LYTTER_SERVICES_DIR)."
            )
        return _read_tail(path, lines)

    def down(self, grace: float = 30.0, names: Iterable[str] | None = None) -> dict[str, str]:
        """SIGTERM each running service's process group, wait up to ``grace`` seconds, then SIGKILL.

        Returns ``{name: "stopped" | "killed" | "not running"}``.
        """
        wanted = self._names(names)
        signalled: dict[str, int] = {}
        outcome: dict[str, str] = {}
        for name in wanted:
            pid = self._pid(name)
            if pid is None:
                outcome[name] = "not running"
                self._pid_file(name).unlink(missing_ok=True)
                continue
            _signal_group(pid, signal.SIGTERM)
            signalled[name] = pid
        deadline = time.monotonic() + grace
        while signalled and time.monotonic() < deadline:
            for name, pid in list(signalled.items()):
                if not _group_members(pid):
                    outcome[name] = "stopped"
                    del signalled[name]
            if signalled:
                time.sleep(0.1)
        for name, pid in signalled.items():
            log.warning("%s did not stop within %.0fs of SIGTERM; sending SIGKILL", LABELS[name], grace)
            _signal_group(pid, signal.SIGKILL)
            end = time.monotonic() + 10
            while _group_members(pid) and time.monotonic() < end:
                time.sleep(0.1)
            outcome[name] = "killed"
        for name in signalled.keys() | {n for n, o in outcome.items() if o == "stopped"}:
            self._pid_file(name).unlink(missing_ok=True)
        return {name: outcome[name] for name in wanted}

    def wipe(self) -> None:
        """Stop both and delete their data (topics, indices, the KRaft cluster id). For tests and resets."""
        self.down()
        for path in (self.paths.kafka_data, self.paths.es_data):
            shutil.rmtree(path, ignore_errors=True)
        self.paths.kafka_cluster_id.unlink(missing_ok=True)
