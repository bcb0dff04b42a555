"""Replay a JSONL file (one mention per line) into Kafka.

Lines are published exactly as they are, so a replay reproduces what a live source sent: a line that is
not a valid mention still travels, and the worker dead-letters it with the reason (nothing is dropped on
the way). The replay also checks each line itself, so the person running it sees the bad lines at once,
with their line numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from streams.processing.validate import Invalid, parse_mention
from streams.sources.producer import MentionProducer
from streams.settings import Settings


@dataclass
class ReplayReport:
    lines: int = 0
    published: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    failed: int = 0


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes without the newline); blank lines are skipped."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def key_of(line: bytes) -> bytes | None:
    """The mention id as key, when the line is JSON with a string id (else no key: round-robin)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return data["id"].encode("utf-8")
    return None


def replay_jsonl(
    settings: Settings,
    path: Path,
    *,
    topic: str | None = None,
    strict: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (the JSONL file to replay)")
    report = ReplayReport()
    if strict:
        for number, line in iter_lines(path):
            result = parse_mention(line)
            if isinstance(result, Invalid):
                report.invalid.append((number, result.reason))
        if report.invalid:
            return report
    with MentionProducer(settings, topic=topic) as producer:
        for number, line in iter_lines(path):
            report.lines += 1
            result = parse_mention(line)
            if isinstance(result, Invalid):
                if not strict:
                    report.invalid.append((number, result.reason))
                key = key_of(line)
            else:
                key = result.id.encode("utf-8")
            producer.send_raw(key, line)
            if on_progress and report.lines % 500 == 0:
                on_progress(report.lines)
    report.published = producer.report.published
    report.failed = producer.report.failed
    if on_progress:
        on_progress(report.lines)
    return report
