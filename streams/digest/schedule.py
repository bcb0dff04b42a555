"""When the worker e-mails the digest: ``LYTTER_DIGEST_SCHEDULE`` = ``weekly:mon:08:00`` or ``daily:08:00``.

Times are wall-clock times in ``LYTTER_DIGEST_TIMEZONE`` (zoneinfo), so 08:00 stays 08:00 across a DST
change. A time that does not exist on the day clocks go forward (02:30) runs at the same distance after
the change (03:30); on the day they go back, a repeated time runs at its first occurrence.

:class:`DigestScheduler` is what the worker's timer calls: :meth:`~DigestScheduler.due` only compares two
datetimes (cheap, never blocks); :meth:`~DigestScheduler.run_due` builds and sends the digests in an
executor thread. The last run is kept in a small JSON file under ``LYTTER_WORKER_DATA_DIR``, so a restart
neither sends twice nor forgets one due while the worker was down (it sends it once, late).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from streams.settings import Settings

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STATE_FILE = "digest-schedule.json"
#: After a failed run, wait this long before trying again (the channel has already retried).
RETRY_AFTER = timedelta(minutes=15)
_FORMAT = re.compile(r"^(daily|weekly):(?:([a-z]{3}):)?(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """LYTTER_DIGEST_SCHEDULE is not a schedule; the message says what is expected."""


def _bad(text: str, why: str) -> ScheduleError:
    return ScheduleError(f"LYTTER_DIGEST_SCHEDULE={text!r}: {why}; use weekly:<day>:HH:MM (e.g. weekly:mon:08:00) or daily:HH:MM (e.g. daily:08:00)")


@dataclass(frozen=True)
class Schedule:
    every: Literal["daily", "weekly"]
    at: time
    zone: ZoneInfo
    weekday: int | None = None  # 0 = Monday, for weekly

    def next_run(self, after: datetime) -> datetime:
        """The first scheduled moment strictly after ``after`` (aware), as an aware UTC datetime."""
        if after.tzinfo is None:
            raise ValueError("next_run needs an aware datetime (with a time zone)")
        day = after.astimezone(self.zone).date()
        for offset in range(9):  # a week and a day covers every weekly case, the DST days included
            candidate_day = day + timedelta(days=offset)
            if self.weekday is not None and candidate_day.weekday() != self.weekday:
                continue
            # wall time on that day; round-tripping through UTC resolves gaps and folds (see module doc)
            candidate = datetime.combine(candidate_day, self.at, tzinfo=self.zone).astimezone(timezone.utc)
            if candidate > after:
                return candidate
        raise AssertionError("unreachable: a daily or weekly schedule always has a run within 8 days")


def parse_schedule(text: str, zone: ZoneInfo | str = "UTC") -> Schedule:
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    match = _FORMAT.match((text or "").strip().lower())
    if not match:
        raise _bad(text, "not a schedule")
    every, day, hour, minute = match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
    if hour > 23 or minute > 59:
        raise _bad(text, f"{hour:02d}:{minute:02d} is not a time of day (00:00 to 23:59)")
    if every == "weekly" and day is None:
        raise _bad(text, "a weekly schedule needs a day (mon, tue, wed, thu, fri, sat or sun)")
    if every == "daily" and day is not None:
        raise _bad(text, "a daily schedule takes no day")
    if day is not None and day not in WEEKDAYS:
        raise _bad(text, f"{day!r} is not a day: use one of {', '.join(WEEKDAYS)}")
    return Schedule(every, time(hour, minute), zone, WEEKDAYS.index(day) if day else None)  # type: ignore[arg-type]


class DigestScheduler:
    """Decides when the scheduled digest is due and remembers the last run across restarts."""

    def __init__(self, settings: Settings, now: datetime | None = None, state_path: Path | None = None) -> None:
        from streams.digest.queries import digest_zone

        if not settings.digest_schedule:
            raise ScheduleError("LYTTER_DIGEST_SCHEDULE is not set: the worker sends no digest (set e.g. weekly:mon:08:00)")
        self.settings = settings
        self.schedule = parse_schedule(settings.digest_schedule, digest_zone(settings))
        self.state_path = state_path or Path(settings.worker_data_dir) / STATE_FILE
        self.last_sent = self._load()
        # no record (first start): the next scheduled time from now, never one from the past
        self.next_due = self.schedule.next_run(self.last_sent or now or datetime.now(timezone.utc))
        self._running = False
        self._sent_this_run: set[str] = set()  # brands already sent when a run failed part-way: not sent twice

    def _load(self) -> datetime | None:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            return datetime.fromisoformat(state["last_sent"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("digest schedule state %s is unreadable (%s): treating the digest as never sent", self.state_path, exc)
            return None

    def due(self, now: datetime) -> bool:
        """Whether a run is due at ``now`` (and none is under way): a comparison, no I/O."""
        return not self._running and now >= self.next_due

    def mark_sent(self, now: datetime) -> None:
        self.last_sent = now
        self._sent_this_run.clear()
        self.next_due = self.schedule.next_run(now)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_path.with_suffix(".tmp")
        partial.write_text(json.dumps({"last_sent": now.isoformat(), "schedule": self.settings.digest_schedule}), encoding="utf-8")
        os.replace(partial, self.state_path)  # atomic: a crash mid-write leaves the old state, never half a file

    async def run_due(self, now: datetime | None = None) -> int:
        """Build and send every brand's digest if due; returns how many were sent (0 when not due).

        The digests are built in an executor thread (Elasticsearch and matplotlib block); a failure is
        logged and tried again after :data:`RETRY_AFTER`, never raised into the worker's timer."""
        now = now or datetime.now(timezone.utc)
        if not self.due(now):
            return 0
        self._running = True
        try:
            sent = await self._send_all(now)
        except Exception as exc:  # noqa: BLE001 - a failed digest must not stop the worker
            log.error("scheduled digest failed (%s); trying again in %s", exc, RETRY_AFTER)
            self.next_due = now + RETRY_AFTER
            return 0
        finally:
            self._running = False
        self.mark_sent(now)
        log.info("scheduled digest sent for %d brand(s); next at %s", sent, self.next_due.isoformat())
        return sent

    async def _send_all(self, now: datetime) -> int:
        from streams.digest.build import build_digest
        from streams.digest.mail import digest_channel, send_digest
        from streams.watch import load_watch

        loop = asyncio.get_running_loop()
        channel = digest_channel(self.settings)  # a missing SMTP setting fails before any query
        watch = await loop.run_in_executor(None, load_watch, self.settings.watch_file)
        for name in [b.name for b in watch.brands if b.name not in self._sent_this_run]:
            digest = await loop.run_in_executor(None, functools.partial(build_digest, self.settings, name, now=now, watch=watch))
            await send_digest(self.settings, digest, channel)
            self._sent_this_run.add(name)
        return len(self._sent_this_run)
