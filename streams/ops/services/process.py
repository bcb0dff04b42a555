"""Processes of the local services: detached start-up, process groups, pids, signals and port checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.errors import ServiceError


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


def require_ports_free(ports: list[tuple[int, str]], fix: str) -> None:
    """Raise ServiceError naming the first of ``(port, what it is for)`` another process already uses."""
    for port, what in ports:
        if not _port_free(port):
            raise ServiceError(f"port {port} ({what}) is in use by another process: {fix}")


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
