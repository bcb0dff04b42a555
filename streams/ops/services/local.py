"""Fetch, start, check and stop a local Kafka (KRaft) and Elasticsearch as plain Java processes.

Both come from Maven Central (``mvn``), are cached under ``settings.cache_dir`` and run from
``settings.services_dir`` (configs, data, logs, pid files), bound to 127.0.0.1. They are started detached
(a new session, not children of the caller), so they outlive the CLI that started them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from streams.ops.services import config as cfg
from streams.ops.services.errors import ServiceError
from streams.settings import Settings, get_settings

Progress = Callable[[str], None]

SERVICES = ("kafka", "elasticsearch")
LABELS = {"kafka": "Kafka", "elasticsearch": "Elasticsearch"}
ALIASES = {"kafka": "kafka", "elasticsearch": "elasticsearch", "es": "elasticsearch", "elastic": "elasticsearch"}

ES_USER = "lytter-es"
# When root runs the launcher and the cache lies under a directory other users cannot enter (/root is 0700),
# the Elasticsearch installation is mirrored (hard links where possible) to this directory for ES_USER.
ES_SHARED_HOME_ROOT = Path("/var/lib/lytter-es")

COMPLETE = ".lytter-complete"
LOG_TAIL_ON_ERROR = 30

log = logging.getLogger(__name__)


def _noop(_: str) -> None:
    pass


@dataclass(frozen=True)
class _Paths:
    kafka_home: Path
    kafka_libs: Path
    es_home: Path
    kafka_dir: Path
    kafka_data: Path
    kafka_properties: Path
    kafka_log4j: Path
    kafka_log: Path
    kafka_pid: Path
    kafka_cluster_id: Path
    es_dir: Path
    es_conf: Path
    es_data: Path
    es_logs: Path
    es_log: Path
    es_pid: Path


class LocalServices:
    """The local Kafka and Elasticsearch of one ``services_dir``.

    ``security=True`` starts Elasticsearch with security on: HTTP basic auth, user ``elastic``, password
    ``settings.es_password`` (set through the keystore's ``bootstrap.password``).
    """

    def __init__(self, settings: Settings | None = None, *, security: bool = False, es_user: str = ES_USER) -> None:
        self.settings = settings or get_settings()
        self.security = security
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

    @staticmethod
    def _maven() -> str:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServiceError(cfg.MAVEN_MISSING)
        return mvn

    # ------------------------------------------------------------------ fetch

    def kafka_fetched(self) -> bool:
        return (self.paths.kafka_home / COMPLETE).is_file()

    def es_fetched(self) -> bool:
        return (self.paths.es_home / COMPLETE).is_file()

    def fetch(self, progress: Progress | None = None) -> dict[str, Path]:
        """Resolve both distributions into the cache (once; later calls reuse it and need no network)."""
        say = progress or _noop
        need_kafka, need_es = not self.kafka_fetched(), not self.es_fetched()
        if need_kafka or need_es:
            self.java()  # Maven itself needs it, and a clear message beats Maven's
            mvn = self._maven()
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

    def _run_maven(self, command: list[str], cwd: Path, what: str, version_setting: str) -> None:
        try:
            proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(
                f"fetching {what} with Maven took longer than 30 minutes: Maven Central is unreachable or very slow. "
                "Check the network or a proxy/mirror in ~/.m2/settings.xml."
            ) from exc
        if proc.returncode != 0:
            raise ServiceError(cfg.maven_failure_message(what, version_setting, proc.stdout + proc.stderr, proc.returncode))

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
            self._run_maven(cfg.kafka_fetch_command(mvn, pom, libs), work, f"Kafka {version}", "kafka_version")
            if not any(libs.glob(f"kafka_*-{version}.jar")):
                raise ServiceError(f"Maven finished but {libs} holds no kafka_*-{version}.jar; remove {home} and retry")
            (staged / COMPLETE).write_text(f"kafka {version}\n")
            self._install(staged, home)

    def _fetch_es(self, mvn: str, say: Progress) -> None:
        version = self.settings.es_version
        home = self.paths.es_home
        with tempfile.TemporaryDirectory(prefix=f".elasticsearch-{version}.", dir=self.cache_dir) as tmp:
            work = Path(tmp)
            download = work / "download"
            download.mkdir()
            self._run_maven(cfg.es_fetch_command(mvn, version, download), work, f"Elasticsearch {version}", "es_version")
            zips = list(download.glob("*.zip"))
            if not zips:
                raise ServiceError(f"Maven finished but left no zip in {download}")
            say(f"unpacking Elasticsearch {version}")
            unpacked = work / "unpacked"
            _extract_zip(zips[0], unpacked)
            tops = [p for p in unpacked.iterdir() if p.is_dir()]
            staged = tops[0] if len(tops) == 1 and (tops[0] / "bin").is_dir() else unpacked
            if not (staged / "bin" / "elasticsearch").is_file():
                raise ServiceError(f"{zips[0].name} holds no bin/elasticsearch; is {cfg.es_artifact(version)} a distribution?")
            (staged / COMPLETE).write_text(f"elasticsearch {version}\n")
            self._install(staged, home)

    @staticmethod
    def _install(staged: Path, target: Path) -> None:
        if target.exists():
            if (target / COMPLETE).is_file():  # someone else finished first
                return
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)

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

    def _start_es(self, java: cfg.JavaInfo, say: Progress) -> None:
        p = self.paths
        s = self.settings
        run_as = self._es_run_as()
        es_home = self._es_home_for(run_as, say)
        for directory in (p.es_dir, p.es_conf, p.es_data, p.es_logs):
            directory.mkdir(parents=True, exist_ok=True)
        # the distribution's config files, once (the keystore and local edits of jvm.options survive)
        for source in (es_home / "config").rglob("*"):
            target = p.es_conf / source.relative_to(es_home / "config")
            if source.is_dir():
                target.mkdir(exist_ok=True)
            elif not target.exists():
                shutil.copy2(source, target)
        (p.es_conf / "elasticsearch.yml").write_text(
            cfg.elasticsearch_yml(port=s.es_port, data_dir=p.es_data, logs_dir=p.es_logs, security=self.security)
        )
        env = cfg.es_environment(java_home=java.home, conf_dir=p.es_conf, heap=s.es_heap)
        if run_as:
            self._hand_over(run_as)
        if self.security:
            self._set_bootstrap_password(es_home, env, run_as)
        command = cfg.es_server_command(es_home=es_home, env=env, run_as=run_as, runuser=_runuser())
        pid = _spawn_detached(command, cwd=p.es_dir, log_file=p.es_log)
        p.es_pid.write_text(f"{pid}\n")

    def _bootstrap_password(self) -> str:
        password = self.settings.es_password
        if password is None or len(password.get_secret_value()) < 6:
            raise ServiceError(
                "Elasticsearch with security on needs the `elastic` user's password (at least 6 characters): set the "
                "setting es_password (environment variable LYTTER_ES_PASSWORD), or start without security."
            )
        return password.get_secret_value()

    def _set_bootstrap_password(self, es_home: Path, env: dict[str, str], run_as: str | None) -> None:
        """Put the `elastic` password into the keystore (which ``add -f`` creates if needed). A JVM run costs
        seconds, so it is skipped when the keystore already holds this password (a salted PBKDF2 hash remembers it)."""
        password = self._bootstrap_password()
        keystore = self.paths.es_conf / "elasticsearch.keystore"
        remembered = self.paths.es_dir / ".bootstrap-password.pbkdf2"
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), str(keystore).encode(), 100_000).hex()
        if keystore.exists() and _read_text(remembered).strip() == digest:
            return
        args = ["add", "-x", "-f", "bootstrap.password"]
        command = cfg.es_keystore_command(es_home=es_home, env=env, run_as=run_as, args=args, runuser=_runuser())
        proc = subprocess.run(command, input=password, capture_output=True, text=True, timeout=120, cwd=self.paths.es_dir)
        if proc.returncode != 0:
            raise ServiceError(
                f"elasticsearch-keystore {' '.join(args)} failed (exit {proc.returncode}):\n"
                f"{cfg.tail_lines(proc.stdout + proc.stderr, LOG_TAIL_ON_ERROR)}"
            )
        remembered.write_text(digest + "\n")
        os.chmod(remembered, 0o600)

    # --- running Elasticsearch as an unprivileged user when we are root

    def _es_run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        if not Path(_runuser()).exists() and shutil.which(_runuser()) is None:
            raise ServiceError(
                "Elasticsearch refuses to run as root, and `runuser` (util-linux) to start it as another user was not "
                "found. Install util-linux, or run `lytter services up` as a normal user."
            )
        try:
            pwd.getpwnam(self.es_user)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            command = [
                useradd, "--system", "--user-group", "--no-create-home",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", self.es_user,
            ]  # fmt: skip
            try:
                proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
            except OSError as exc:
                proc = subprocess.CompletedProcess(command, 127, "", str(exc))
            if proc.returncode != 0 and not _user_exists(self.es_user):
                raise ServiceError(
                    f"Elasticsearch refuses to run as root, and creating the unprivileged user {self.es_user} failed "
                    f"({proc.stderr.strip() or proc.returncode}). Create it (`useradd --system {self.es_user}`), "
                    "or run as a normal user."
                ) from None
        return self.es_user

    def _user_can(self, user: str, script: str, *args: str) -> bool:
        proc = subprocess.run([_runuser(), "-u", user, "--", "sh", "-c", script, "sh", *args], capture_output=True, timeout=30)
        return proc.returncode == 0

    def _es_home_for(self, run_as: str | None, say: Progress) -> Path:
        """The installation to run: the cache's, or (root, cache not reachable by run_as) a shared mirror."""
        home = self.paths.es_home
        if run_as is None:
            return home
        probe = 'test -x "$1/bin/elasticsearch" && test -r "$1/lib"'
        if self._user_can(run_as, probe, str(home)):
            return home
        mirror = ES_SHARED_HOME_ROOT / home.name
        if not (mirror / COMPLETE).is_file():
            say(f"copying Elasticsearch to {mirror} (user {run_as} cannot enter {home})")
            ES_SHARED_HOME_ROOT.mkdir(parents=True, exist_ok=True)
            os.chmod(ES_SHARED_HOME_ROOT, 0o755)
            staged = ES_SHARED_HOME_ROOT / f".{home.name}.{os.getpid()}"
            shutil.rmtree(staged, ignore_errors=True)
            shutil.copytree(home, staged, copy_function=_link_or_copy)
            self._install(staged, mirror)
        if not self._user_can(run_as, probe, str(mirror)):
            raise ServiceError(f"user {run_as} cannot read the Elasticsearch installation in {mirror}; check its permissions")
        return mirror

    def _hand_over(self, user: str) -> None:
        """Give the Elasticsearch directory to ``user`` and check the user can reach it."""
        entry = pwd.getpwnam(user)
        for directory in (self.services_dir, self.paths.es_dir):
            mode = directory.stat().st_mode
            if directory.stat().st_uid == os.geteuid() and (mode & 0o005) != 0o005:
                os.chmod(directory, stat.S_IMODE(mode) | 0o005)
        for root, dirs, files in os.walk(self.paths.es_dir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                st = os.lstat(name)
                if st.st_uid != entry.pw_uid:
                    os.lchown(name, entry.pw_uid, entry.pw_gid)
        if not self._user_can(user, 'test -w "$1" && test -w "$2"', str(self.paths.es_data), str(self.paths.es_conf)):
            raise ServiceError(
                f"Elasticsearch refuses to run as root, so it runs as the user {user}, and that user cannot reach "
                f"{self.paths.es_dir}: a parent directory is closed to other users (e.g. /root is 0700). Point "
                "LYTTER_SERVICES_DIR (setting services_dir) at a directory other users can enter, e.g. "
                "/var/tmp/lytter-services, or run as a normal user."
            )

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

    def _es_health(self, timeout: float = 5.0) -> tuple[bool, str]:
        """(healthy, detail): detail is the cluster status, or why there is none."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.settings.es_port}{cfg.es_health_path(1)}")
        password = self.settings.es_password
        if password is not None and password.get_secret_value():
            user = self.settings.es_username or "elastic"
            token = base64.b64encode(f"{user}:{password.get_secret_value()}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
        try:
            with opener.open(request, timeout=timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return False, "answers, but needs credentials: set LYTTER_ES_USERNAME=elastic and LYTTER_ES_PASSWORD"
            try:
                body = json.load(exc)
            except ValueError:
                return False, f"HTTP {exc.code}"
            return False, f"status {body.get('status', exc.code)}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return False, f"no answer ({getattr(exc, 'reason', exc)})"
        return cfg.es_health_is_ok(body), f"status {body.get('status')}"

    def _es_healthy(self) -> bool:
        healthy, detail = self._es_health()
        if not healthy:
            self._last_health_error["elasticsearch"] = detail
        return healthy

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


# ---------------------------------------------------------------------- process helpers


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


def _spawn_detached(command: list[str], *, cwd: Path, log_file: Path) -> int:
    """Start ``command`` in a new session, not as our child (a shell starts it and exits), with stdin from
    /dev/null and stdout+stderr to ``log_file`` (the previous log is kept as ``<log>.1``). Returns its pid,
    which is also its process group id."""
    if log_file.exists():
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))
    log_file.touch()
    script = 'log="$1"; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    # the background child calls setsid() before exec: its own session and process group, led by itself
    setsid = [sys.executable, "-c", "import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])"]
    # Lytter's own settings (secrets among them) are none of the services' business
    env = {key: value for key, value in os.environ.items() if not key.startswith("LYTTER_")}
    launcher = subprocess.run(
        ["sh", "-c", script, "lytter-launch", str(log_file), *setsid, *command],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, start_new_session=True,
    )  # fmt: skip
    try:
        pid = int(launcher.stdout.strip())
    except ValueError:
        raise ServiceError(f"could not start {command[0]}: {launcher.stderr.strip() or launcher.stdout.strip()}") from None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until it has its own process group (or has already died)
        info = _proc_stat(pid) if Path("/proc/self/stat").exists() else ("R", pid)
        if info is None or info[1] == pid or info[0] in ("Z", "X"):
            break
        time.sleep(0.01)
    return pid


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a process from /proc, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], int(fields[2])


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    if not Path("/proc/self/stat").exists():  # not Linux: ask the kernel whether the group exists
        try:
            os.killpg(pgid, 0)
            return [pgid]
        except ProcessLookupError:
            return []
        except PermissionError:
            return [pgid]
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        info = _proc_stat(int(entry.name))
        if info is not None and pgid in (info[1], int(entry.name)) and info[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _cmdline(pid: int) -> str:
    """Command line and (where readable: our own processes, or any as root) environment of a process."""
    text = []
    for part in ("cmdline", "environ"):
        try:
            text.append(Path(f"/proc/{pid}/{part}").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return " ".join(text)


def _group_alive(pgid: int, markers: tuple[str, ...], attempts: int = 20, pause: float = 0.05) -> bool:
    """Whether the process group started for a service still runs (and is that service, not a reused pid).

    A process in the middle of exec shows an empty command line for a moment: then look again rather than
    call a node that is just starting dead (a fresh-clone CI run failed the three-node cluster that way).
    """
    for _ in range(attempts):
        members = _group_members(pgid)
        if not members:
            return False
        if not Path("/proc/self/cmdline").exists():
            return True
        texts = [_cmdline(pid) for pid in members]
        if any(marker in text for text in texts for marker in markers):
            return True
        if all(text.strip() for text in texts):
            return False  # every member readable, none is the service: a reused pid
        time.sleep(pause)
    return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------- small helpers


def _port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (nothing listens there, nothing answers)."""
    if _accepts(port):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM servers do: TIME_WAIT is fine
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _accepts(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_distinct_ports(uses: list[cfg.PortUse]) -> None:
    seen: dict[int, cfg.PortUse] = {}
    for use in uses:
        if use.port in seen:
            other = seen[use.port]
            raise ServiceError(
                f"{other.what} ({other.env}) and {use.what} ({use.env}) are both set to port {use.port}; give them different ports."
            )
        seen[use.port] = use


def _runuser() -> str:
    """util-linux's runuser; root's PATH does not always hold /usr/sbin."""
    return shutil.which("runuser") or next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), "runuser")


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _read_tail(path: Path, lines: int) -> str:
    """The last lines of a (possibly large) log file, reading only its end."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            chunk = min(size, max(65536, lines * 400))
            fh.seek(size - chunk)
            data = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return cfg.tail_lines(data, lines)


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _extract_zip(zip_path: Path, dest: Path) -> None:
    """Unzip keeping the Unix permissions (zipfile alone drops the executable bits of bin/*)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = (dest / info.filename).resolve()
            if root != target and root not in target.parents:
                raise ServiceError(f"{zip_path.name}: entry {info.filename!r} points outside the archive")
            mode = info.external_attr >> 16
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                os.chmod(target, 0o755)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(mode):
                os.symlink(archive.read(info).decode(), target)
                continue
            with archive.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            # readable by everyone (the unprivileged Elasticsearch user too); executables stay executable
            os.chmod(target, 0o755 if mode & 0o111 else 0o644)
