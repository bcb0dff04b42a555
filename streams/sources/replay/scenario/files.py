"""Replaying a scenario in live time, writing it as JSONL, and ``python -m streams.sources.replay.scenario``."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from streams.schema import Mention
from streams.sources.replay.scenario.model import Scenario


async def replay(
    mentions: Iterable[Mention],
    publish: Callable[[Mention], Awaitable[Any] | Any],
    speed: float = 1.0,
    *,
    restamp: bool = False,
    now: datetime | None = None,
) -> int:
    """Publish ``mentions`` in ``published_at`` order, keeping their rhythm; return how many were published.

    Timing: the first mention goes out at once; each later one ``(its published_at - the first's) / speed``
    seconds after the replay started (``speed=60``: an hour in a minute). The schedule is absolute, so a
    slow ``publish`` does not accumulate drift (a late mention is published at once). ``speed=0``: as fast
    as ``publish`` allows (the loop is still yielded to between mentions).

    ``publish`` may be a plain function or a coroutine function (it is awaited).

    ``restamp=True`` rewrites ``published_at`` so that time windows downstream see live time:

    * ``speed > 0``: each mention is stamped with the wall-clock time it is scheduled to be published,
      i.e. ``now + (published_at - first published_at) / speed`` (a 2-minute burst replayed at speed 60
      arrives, and is stamped, within 2 seconds).
    * ``speed == 0``: the whole scenario is shifted, spacing unchanged, so that its last mention is
      stamped ``now`` (the scenario "just happened"; for back-filling a live dashboard).

    ``now`` (timezone-aware) defaults to the current UTC time; the mentions given are not modified.
    """
    if speed < 0 or speed != speed or math.isinf(speed):
        raise ValueError("speed must be a finite number >= 0 (0 = as fast as possible)")
    ordered = sorted(mentions, key=lambda m: m.published_at)
    if not ordered:
        return 0
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    first = ordered[0].published_at
    last = ordered[-1].published_at
    loop = asyncio.get_running_loop()
    began = loop.time()
    published = 0
    for mention in ordered:
        offset = (mention.published_at - first).total_seconds()
        if speed > 0:
            wait = began + offset / speed - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                await asyncio.sleep(0)
        else:
            await asyncio.sleep(0)
        if restamp:
            stamp = now + timedelta(seconds=offset / speed) if speed > 0 else mention.published_at + (now - last)
            mention = mention.model_copy(update={"published_at": stamp})
        result = publish(mention)
        if inspect.isawaitable(result):
            await result
        published += 1
    return published


def write_jsonl(mentions: Iterable[Mention], path: str | Path) -> int:
    """Write one mention per line (the wire JSON, ``exclude_none``), UTF-8; return the number of lines."""
    count = 0
    with Path(path).open("wb") as fh:
        for mention in mentions:
            fh.write(mention.to_json_bytes())
            fh.write(b"\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.sources.replay.scenario", description="Write a scenario's mentions as JSONL.")
    parser.add_argument("output", type=Path, help="JSONL file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the scenario (baseline_minutes)")
    parser.add_argument("--incident-brand", default="Nordlys Energi")
    parser.add_argument("--incident-at", type=float, default=40.0, help="minute the incident starts; negative: no incident")
    parser.add_argument("--burst-size", type=int, default=60)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None, help="ISO start time with offset (default: fixed)")
    parser.add_argument("--watch", type=Path, default=None, help="also write a watch file (YAML, for LYTTER_WATCH_FILE) for the scenario's brands here")
    args = parser.parse_args(argv)
    incident_at = None if args.incident_at < 0 else args.incident_at
    scenario = Scenario(
        seed=args.seed,
        baseline_minutes=args.minutes,
        incident_brand=args.incident_brand,
        incident_at_minute=incident_at,
        burst_size=args.burst_size,
        start=args.start,
    )
    count = write_jsonl(scenario.mentions(), args.output)
    print(f"wrote {count} mentions to {args.output}")
    if window := scenario.incident_window():
        print(f"incident for {scenario.incident_brand}: {window[0].isoformat()} .. {window[1].isoformat()} ({len(scenario.incident_mention_ids())} mentions)")
    if args.watch:
        import yaml

        args.watch.write_text(yaml.safe_dump(scenario.watch_file(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        print(f"wrote the watch config to {args.watch}")
    return 0
