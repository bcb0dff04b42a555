"""The digest schedule: parsing, next runs in the digest time zone (DST included), and the state file."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from streams.digest.schedule import DigestScheduler, ScheduleError, parse_schedule
from streams.settings import Settings

CPH = ZoneInfo("Europe/Copenhagen")
UTC = timezone.utc


def test_weekly_runs_on_its_day_at_local_time():
    schedule = parse_schedule("weekly:mon:08:00", CPH)
    # Thursday 3 Dec 2026 (winter, UTC+1) -> Monday 7 Dec 08:00 local = 07:00 UTC
    assert schedule.next_run(datetime(2026, 12, 3, 13, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_weekly_at_the_exact_time_moves_to_the_next_week():
    schedule = parse_schedule("weekly:mon:08:00", CPH)
    at = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert schedule.next_run(at) == datetime(2026, 12, 14, 7, 0, tzinfo=UTC)


def test_daily_before_and_after_the_time():
    schedule = parse_schedule("daily:08:00", CPH)
    assert schedule.next_run(datetime(2026, 12, 3, 6, 59, tzinfo=UTC)) == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert schedule.next_run(datetime(2026, 12, 3, 7, 0, tzinfo=UTC)) == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


def test_daily_keeps_local_wall_time_across_spring_dst_change():
    # clocks go forward in Copenhagen on Sunday 29 March 2026 (02:00 -> 03:00)
    schedule = parse_schedule("daily:08:00", CPH)
    before = schedule.next_run(datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    after = schedule.next_run(before)
    assert before == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST (UTC+2)
    assert after == datetime(2026, 3, 30, 6, 0, tzinfo=UTC) and after.astimezone(CPH).hour == 8
    assert schedule.next_run(datetime(2026, 3, 27, 12, 0, tzinfo=UTC)) == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)  # still UTC+1


def test_weekly_across_autumn_dst_change_is_eight_local_hours_not_utc():
    # clocks go back on Sunday 25 October 2026: the week has 169 hours
    schedule = parse_schedule("weekly:mon:08:00", CPH)
    first = schedule.next_run(datetime(2026, 10, 19, 0, 0, tzinfo=UTC))
    second = schedule.next_run(first)
    assert first == datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    assert second == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert (second - first).total_seconds() == 169 * 3600


def test_a_time_in_the_spring_gap_runs_just_after_the_change():
    schedule = parse_schedule("daily:02:30", CPH)
    run = schedule.next_run(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert run == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST: 02:30 does not exist that day
    assert run.astimezone(CPH).hour == 3


@pytest.mark.parametrize(
    "text, words",
    [
        ("weekly:08:00", "needs a day"),
        ("daily:mon:08:00", "takes no day"),
        ("weekly:mondag:08:00", "not a schedule"),
        ("weekly:xyz:08:00", "'xyz' is not a day"),
        ("daily:24:00", "not a time of day"),
        ("daily:8:75", "not a time of day"),
        ("hourly:08:00", "not a schedule"),
        ("", "not a schedule"),
    ],
)
def test_bad_schedules_name_the_setting(text, words):
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, CPH)
    assert "LYTTER_DIGEST_SCHEDULE" in str(caught.value)
    assert words in str(caught.value)


def test_next_run_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("daily:08:00", CPH).next_run(datetime(2026, 12, 3, 8, 0))


def _settings(tmp_path, schedule="daily:08:00"):
    return Settings(digest_schedule=schedule, digest_timezone="Europe/Copenhagen", worker_data_dir=tmp_path / "worker")


def test_scheduler_is_due_once_and_remembers_across_restart(tmp_path):
    start = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    scheduler = DigestScheduler(_settings(tmp_path), now=start)
    assert not scheduler.due(start)
    run_at = datetime(2026, 12, 3, 7, 0, 5, tzinfo=UTC)
    assert scheduler.due(run_at)
    scheduler.mark_sent(run_at)
    assert not scheduler.due(run_at)
    restarted = DigestScheduler(_settings(tmp_path), now=run_at)  # a restart right after: not again
    assert restarted.last_sent == run_at
    assert not restarted.due(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert restarted.due(datetime(2026, 12, 4, 7, 0, tzinfo=UTC))


def test_a_run_missed_while_down_is_sent_once_late(tmp_path):
    scheduler = DigestScheduler(_settings(tmp_path), now=datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    scheduler.mark_sent(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    later = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # three scheduled runs passed while down
    restarted = DigestScheduler(_settings(tmp_path), now=later)
    assert restarted.due(later)
    restarted.mark_sent(later)
    assert restarted.next_due == datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def test_scheduler_without_schedule_or_with_a_bad_one(tmp_path):
    with pytest.raises(ScheduleError, match="LYTTER_DIGEST_SCHEDULE is not set"):
        DigestScheduler(Settings(worker_data_dir=tmp_path))
    with pytest.raises(ScheduleError, match="LYTTER_DIGEST_SCHEDULE='weekly:08:00'"):
        DigestScheduler(_settings(tmp_path, "weekly:08:00"))


def test_unreadable_state_file_counts_as_never_sent(tmp_path):
    settings = _settings(tmp_path)
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "digest-schedule.json").write_text("{not json", encoding="utf-8")
    scheduler = DigestScheduler(settings, now=datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    assert scheduler.last_sent is None
    assert scheduler.next_due == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


async def test_run_due_does_nothing_when_not_due(tmp_path):
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    scheduler = DigestScheduler(_settings(tmp_path), now=start)
    assert await scheduler.run_due(start) == 0
    assert not (tmp_path / "worker" / "digest-schedule.json").exists()


async def test_run_due_failure_is_logged_and_retried_later(tmp_path, caplog):
    # no SMTP settings: the run fails before any query, and is tried again after RETRY_AFTER
    start = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    scheduler = DigestScheduler(_settings(tmp_path), now=start)
    due_at = datetime(2026, 12, 3, 7, 1, tzinfo=UTC)
    assert await scheduler.run_due(due_at) == 0
    assert "LYTTER_SMTP_HOST" in caplog.text
    assert scheduler.next_due == datetime(2026, 12, 3, 7, 16, tzinfo=UTC)
    assert scheduler.last_sent is None
