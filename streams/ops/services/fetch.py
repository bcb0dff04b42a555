"""The distributions in the cache: Maven runs, unpacking, and installing a staged directory in one step.

A finished installation holds the marker file ``COMPLETE``; one without it is fetched again.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import streams.ops.services.config as cfg
from streams.ops.services.errors import ServiceError

COMPLETE = ".lytter-complete"


def _maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(cfg.MAVEN_MISSING)
    return mvn


def _run_maven(command: list[str], cwd: Path, what: str, version_setting: str) -> None:
    try:
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(
            f"fetching {what} with Maven took longer than 30 minutes: Maven Central is unreachable or very slow. "
            "Check the network or a proxy/mirror in ~/.m2/settings.xml."
        ) from exc
    if proc.returncode != 0:
        raise ServiceError(cfg.maven_failure_message(what, version_setting, proc.stdout + proc.stderr, proc.returncode))


def _install(staged: Path, target: Path) -> None:
    if target.exists():
        if (target / COMPLETE).is_file():  # someone else finished first
            return
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)


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
