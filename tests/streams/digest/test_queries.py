"""Reading Elasticsearch's aggregation answers: local days and hours of day across a DST change."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from streams.digest.queries import DigestData, DigestError, Period, _read_volume, digest_zone
from streams.settings import Settings

CPH = ZoneInfo("Europe/Copenhagen")


def _ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def _answer(hours: list[tuple[int, int]], days: list[tuple[int, int]], answered: int = 0, needs_reply: int = 0) -> dict:
    sentiment = {"buckets": {"negative": {"doc_count": 1}, "neutral": {"doc_count": 0}, "positive": {"doc_count": 2}}}
    return {
        "per_day": {"buckets": [{"key": key, "doc_count": count, "sentiment": sentiment} for key, count in days]},
        "per_hour": {"buckets": [{"key": key, "doc_count": count} for key, count in hours]},
        "answered": {"doc_count": answered, "times": {"values": {"50.0": 600.0 if answered else None, "90.0": 1800.0 if answered else None}}, "within": {"doc_count": answered}},
        "needs_reply": {"doc_count": needs_reply},
        "open_queue": {"doc_count": needs_reply - answered},
    }


def test_hours_fold_into_local_hours_across_the_autumn_change():
    # 07:00 UTC is 09:00 in summer time (Sat 24 Oct 2026) and 08:00 after clocks go back (Mon 26 Oct)
    period = Period(datetime(2026, 10, 23, tzinfo=timezone.utc), datetime(2026, 10, 27, tzinfo=timezone.utc), CPH)
    data = DigestData("B", ["B"], period)
    days = [(_ms(2026, 10, 23, 22), 5), (_ms(2026, 10, 25, 23), 7)]  # local midnights of 24 and 26 Oct
    _read_volume(data, _answer([(_ms(2026, 10, 24, 7), 5), (_ms(2026, 10, 26, 7), 7)], days), 60)
    assert data.per_hour[9] == 5 and data.per_hour[8] == 7 and sum(data.per_hour) == 12
    assert data.per_day == [(date(2026, 10, 24), 5), (date(2026, 10, 26), 7)]
    assert data.sentiment_per_day[0] == (date(2026, 10, 24), {"negative": 1, "neutral": 0, "positive": 2})
    assert data.responses is None  # no reply fields at all: the report says so in a sentence


def test_response_stats_when_replies_exist():
    period = Period.ending(datetime(2026, 12, 3, tzinfo=timezone.utc), timedelta(days=7), CPH)
    data = DigestData("B", ["B"], period)
    _read_volume(data, _answer([], [], answered=4, needs_reply=6), 60)
    assert (data.responses.answered, data.responses.median_s, data.responses.p90_s, data.responses.open_queue) == (4, 600.0, 1800.0, 2)
    assert data.responses.within_target_share == 1.0


def test_open_queue_without_answers_still_reports():
    period = Period.ending(datetime(2026, 12, 3, tzinfo=timezone.utc), timedelta(days=7), CPH)
    data = DigestData("B", ["B"], period)
    _read_volume(data, _answer([], [], answered=0, needs_reply=3), 60)
    assert data.responses.answered == 0 and data.responses.open_queue == 3 and data.responses.within_target_share is None


def test_bad_time_zone_names_the_setting():
    with pytest.raises(DigestError, match="LYTTER_DIGEST_TIMEZONE='Mars/Olympus' is not a time zone"):
        digest_zone(Settings(digest_timezone="Mars/Olympus"))
