"""Telling whether a service's process group still runs: a node in the middle of exec is not dead."""

from __future__ import annotations

import subprocess
import sys

from streams.ops.services import process


def test_a_member_between_fork_and_exec_is_looked_at_again(monkeypatch):
    reads = iter(["", "", "java -cp kafka.jar kafka.Kafka /data/node-3/server.properties"])
    monkeypatch.setattr(process, "_group_members", lambda pgid: [pgid])
    monkeypatch.setattr(process, "_cmdline", lambda pid: next(reads))  # empty while exec replaces the image
    assert process._group_alive(4242, ("/data/node-3/server.properties",), pause=0.0)


def test_a_reused_pid_is_not_the_service(monkeypatch):
    monkeypatch.setattr(process, "_group_members", lambda pgid: [pgid])
    monkeypatch.setattr(process, "_cmdline", lambda pid: "/usr/bin/some-other-program --flag")
    assert not process._group_alive(4242, ("/data/node-3/server.properties",), pause=0.0)


def test_a_group_with_no_live_member_is_gone(monkeypatch):
    monkeypatch.setattr(process, "_group_members", lambda pgid: [])
    assert not process._group_alive(4242, ("anything",), pause=0.0)


def test_a_real_process_group_with_its_marker():
    marker = "lytter-group-marker-7d1f"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker], start_new_session=True)
    try:
        assert process._group_alive(proc.pid, (marker,))
        assert not process._group_alive(proc.pid, ("some-other-service",), pause=0.0)
    finally:
        proc.kill()
        proc.wait()
    assert not process._group_alive(proc.pid, (marker,), pause=0.0)
