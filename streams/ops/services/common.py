"""What the launcher's modules share: the service names, the progress callback, the on-disk layout and its logs.

Nothing here starts a process or talks to a service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streams.ops.services.config as cfg

Progress = Callable[[str], None]

SERVICES = ("kafka", "elasticsearch")
LABELS = {"kafka": "Kafka", "elasticsearch": "Elasticsearch"}
ALIASES = {"kafka": "kafka", "elasticsearch": "elasticsearch", "es": "elasticsearch", "elastic": "elasticsearch"}

LOG_TAIL_ON_ERROR = 30


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
