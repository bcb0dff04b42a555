"""The Elasticsearch node of the local services: its fetch, the unprivileged user it runs as under root, its
config and keystore, its start and its health."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.common import LOG_TAIL_ON_ERROR, Progress, _Paths, _read_text
from streams.ops.services.errors import ServiceError
from streams.ops.services.fetch import COMPLETE, _extract_zip, _install, _link_or_copy, _run_maven
from streams.ops.services.process import _spawn_detached
from streams.settings import Settings

ES_USER = "lytter-es"
# When root runs the launcher and the cache lies under a directory other users cannot enter (/root is 0700),
# the Elasticsearch installation is mirrored (hard links where possible) to this directory for ES_USER.
ES_SHARED_HOME_ROOT = Path("/var/lib/lytter-es")


class ElasticsearchNode:
    """The Elasticsearch half of :class:`~streams.ops.services.local.LocalServices` (a mixin: it uses its settings,
    paths, ``security`` and ``es_user``)."""

    settings: Settings
    paths: _Paths
    cache_dir: Path
    services_dir: Path
    security: bool
    es_user: str
    _last_health_error: dict[str, str]

    def es_fetched(self) -> bool:
        return (self.paths.es_home / COMPLETE).is_file()

    def _fetch_es(self, mvn: str, say: Progress) -> None:
        version = self.settings.es_version
        home = self.paths.es_home
        with tempfile.TemporaryDirectory(prefix=f".elasticsearch-{version}.", dir=self.cache_dir) as tmp:
            work = Path(tmp)
            download = work / "download"
            download.mkdir()
            _run_maven(cfg.es_fetch_command(mvn, version, download), work, f"Elasticsearch {version}", "es_version")
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
            _install(staged, home)

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
            cfg.elasticsearch_yml(port=s.es_port, data_dir=p.es_data, logs_dir=p.es_logs, security=self.security,
                                  extra=getattr(self, "es_node_settings", None))
        )
        env = cfg.es_environment(java_home=java.home, conf_dir=p.es_conf, heap=s.es_heap)
        if self.security:
            self._write_roles()
        if run_as:
            self._hand_over(run_as)
        if self.security:
            self._set_bootstrap_password(es_home, env, run_as)
            self._set_file_user(es_home, env, run_as)
        command = cfg.es_server_command(es_home=es_home, env=env, run_as=run_as, runuser=_runuser())
        pid = _spawn_detached(command, cwd=p.es_dir, log_file=p.es_log)
        p.es_pid.write_text(f"{pid}\n")

    def _lytter_user(self) -> str | None:
        """The least-privilege user Lytter logs in with, or None when that is the superuser `elastic` itself."""
        user = self.settings.es_username
        return None if user in (None, "", cfg.SUPERUSER) else user

    def _bootstrap_password(self) -> str | None:
        """The `elastic` password for the keystore: es_password when Lytter logs in as `elastic`; else the
        optional es_superuser_password (None: `elastic` gets none and cannot log in). Checks es_password."""
        password = self.settings.es_password
        if password is None or len(password.get_secret_value()) < 6:
            who = f"user {self._lytter_user()!r}" if self._lytter_user() else "`elastic` user"
            raise ServiceError(
                f"Elasticsearch with security on needs the {who}'s password (at least 6 characters): set the "
                "setting es_password (environment variable LYTTER_ES_PASSWORD), or start without security."
            )
        if self._lytter_user() is None:
            return password.get_secret_value()
        cfg.check_file_realm_password(password.get_secret_value(), "es_password")
        superuser = self.settings.es_superuser_password
        if superuser is not None:
            cfg.check_file_realm_password(superuser.get_secret_value(), "es_superuser_password")
            return superuser.get_secret_value()
        return None

    def _write_roles(self) -> None:
        """config/roles.yml: the repository's role for this node's index names (Elasticsearch reloads it)."""
        try:
            source = cfg.ROLES_FILE.read_text(encoding="utf-8")
        except OSError as exc:
            raise ServiceError(f"cannot read Lytter's Elasticsearch role {cfg.ROLES_FILE} ({exc.strerror}); restore it from git") from None
        text = cfg.lytter_roles_yml(source, index_prefix=self.settings.es_index_prefix, alerts_index=self.settings.es_alerts_index)
        target = self.paths.es_conf / "roles.yml"
        staged = target.with_name(".roles.yml.tmp")
        staged.write_text(text, encoding="utf-8")
        staged.replace(target)  # whole: the node's file watcher must never read half a file

    def _set_file_user(self, es_home: Path, env: dict[str, str], run_as: str | None) -> None:
        """The Lytter user in the node's file realm with the role `lytter` (elasticsearch-users, the password on
        its stdin). Skipped when the files already hold this user with this password (a salted hash remembers)."""
        user = self._lytter_user()
        if user is None:
            return
        password = self.settings.es_password.get_secret_value()  # type: ignore[union-attr]  (checked by _bootstrap_password)
        users, users_roles = self.paths.es_conf / "users", self.paths.es_conf / "users_roles"
        remembered = self.paths.es_dir / ".file-user.pbkdf2"
        salt = f"{users}:{user}:{cfg.LYTTER_ROLE}".encode()
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000).hex()
        listed = any(line.split(":", 1)[0] == user for line in _read_text(users).splitlines())
        if listed and _read_text(remembered).strip() == digest:
            return
        kept_users, kept_roles = cfg.without_file_user(_read_text(users), _read_text(users_roles), user)
        users.write_text(kept_users)
        users_roles.write_text(kept_roles)
        args = ["useradd", user, "-r", cfg.LYTTER_ROLE]
        command = cfg.es_users_command(es_home=es_home, env=env, run_as=run_as, args=args, runuser=_runuser())
        proc = subprocess.run(command, input=f"{password}\n{password}\n", capture_output=True, text=True, timeout=120, cwd=self.paths.es_dir)
        if proc.returncode != 0:
            raise ServiceError(
                f"elasticsearch-users {' '.join(args)} failed (exit {proc.returncode}):\n"
                f"{cfg.tail_lines(proc.stdout + proc.stderr, LOG_TAIL_ON_ERROR)}"
            )
        remembered.write_text(digest + "\n")
        os.chmod(remembered, 0o600)

    def _set_bootstrap_password(self, es_home: Path, env: dict[str, str], run_as: str | None) -> None:
        """Put the `elastic` password into the keystore (which ``add -f`` creates if needed). A JVM run costs
        seconds, so it is skipped when the keystore already holds this password (a salted PBKDF2 hash remembers it)."""
        password = self._bootstrap_password()
        if password is None:
            return
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
            _install(staged, mirror)
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
                return False, "answers, but refuses these credentials: set LYTTER_ES_USERNAME (e.g. lytter) and LYTTER_ES_PASSWORD"
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


def _runuser() -> str:
    """util-linux's runuser; root's PATH does not always hold /usr/sbin."""
    return shutil.which("runuser") or next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), "runuser")


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False
