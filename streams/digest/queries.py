"""Elasticsearch aggregations for the digest, turned into plain data (:class:`DigestData`).

Nothing here draws or formats: :mod:`streams.digest.charts` and :mod:`streams.digest.report` take the
plain data. Days and hours are in the digest time zone (``LYTTER_DIGEST_TIMEZONE``): the day histogram
asks Elasticsearch for local days; the hour-of-day profile folds an hourly histogram into 24 local hours
with :mod:`zoneinfo`, so a DST change moves mentions to the right local hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from elasticsearch import Elasticsearch

from streams.settings import Settings

LABELS = ("negative", "neutral", "positive")
TOP_STORIES = 10
MAX_PERIOD = timedelta(days=366)
#: What a top story shows of its first mention (never the raw payload).
_EXAMPLE_FIELDS = ["text", "title", "url", "author.handle", "source", "published_at", "deleted"]

_SINCE = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$", re.IGNORECASE)
_UNIT = {"h": "hours", "d": "days", "w": "weeks"}


class DigestError(ValueError):
    """A digest cannot be made as asked; the message names the option or setting and what to do."""


def parse_since(text: str, what: str = "--since") -> timedelta:
    """``7d``, ``24h``, ``30d``, ``2w`` as a :class:`timedelta`; anything else raises :class:`DigestError`."""
    match = _SINCE.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise DigestError(f"{what} {text!r} is not a period: use a number and h, d or w (24h, 7d, 30d, 2w)")
    length = timedelta(**{_UNIT[match.group(2).lower()]: int(match.group(1))})
    if length > MAX_PERIOD:  # the hour-of-day profile asks for one bucket per hour of the period
        raise DigestError(f"{what} {text!r} is longer than {MAX_PERIOD.days} days: use a shorter period")
    return length


def digest_zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.digest_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DigestError(
            f"LYTTER_DIGEST_TIMEZONE={settings.digest_timezone!r} is not a time zone: use an IANA name such as Europe/Copenhagen"
        ) from None


@dataclass
class Period:
    start: datetime  # aware, UTC
    end: datetime
    zone: ZoneInfo

    @classmethod
    def ending(cls, end: datetime, length: timedelta, zone: ZoneInfo) -> Period:
        end = end.astimezone(timezone.utc)
        return cls(end - length, end, zone)

    def local_days(self) -> list[date]:
        first, last = self.start.astimezone(self.zone).date(), self.end.astimezone(self.zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class Story:
    key: str  # the story id, or the mention id of a mention without one
    mentions: int
    reach: float
    impact: float
    text: str
    title: str | None
    url: str | None
    author: str | None
    source: str | None
    published_at: str | None


@dataclass
class ResponseStats:
    answered: int
    median_s: float | None
    p90_s: float | None
    within_target: int
    target_minutes: float
    open_queue: int

    @property
    def within_target_share(self) -> float | None:
        return self.within_target / self.answered if self.answered else None


@dataclass
class DigestData:
    brand: str | None  # None: every brand of the watch file
    brands: list[str]  # the brands the figures cover
    period: Period
    total: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_hour: list[int] = field(default_factory=lambda: [0] * 24)
    sentiment_per_day: list[tuple[date, dict[str, int]]] = field(default_factory=list)
    share_of_voice: list[tuple[str, int]] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    responses: ResponseStats | None = None

    @property
    def title(self) -> str:
        return self.brand or "All brands"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _period_filter(period: Period) -> dict[str, Any]:
    return {"range": {"published_at": {"gte": _ms(period.start), "lt": _ms(period.end), "format": "epoch_millis"}}}


def _brands_filter(brands: list[str]) -> dict[str, Any]:
    return {"terms": {"brands": brands}}


def _label_filter(brand: str | None, label: str) -> dict[str, Any]:
    """A mention's label for ``brand``: its own brand sentiment, else the mention's overall sentiment."""
    if brand is None:
        return {"term": {"sentiment.label": label}}
    return {
        "bool": {
            "should": [
                {"term": {"brand_sentiment.brand_label": f"{brand}:{label}"}},
                {
                    "bool": {
                        "filter": [{"term": {"sentiment.label": label}}],
                        "must_not": [{"prefix": {"brand_sentiment.brand_label": f"{brand}:"}}],
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def _volume_aggs(brand: str | None, period: Period, target_minutes: float) -> dict[str, Any]:
    zone = str(period.zone.key)
    bounds = {"min": _ms(period.start), "max": _ms(period.end) - 1}
    return {
        "per_day": {
            "date_histogram": {"field": "published_at", "calendar_interval": "day", "time_zone": zone, "min_doc_count": 0, "extended_bounds": bounds},
            "aggs": {"sentiment": {"filters": {"filters": {label: _label_filter(brand, label) for label in LABELS}}}},
        },
        # hourly in UTC: folded into local hours of day in Python (DST-correct)
        "per_hour": {"date_histogram": {"field": "published_at", "fixed_interval": "1h", "min_doc_count": 1}},
        "answered": {
            "filter": {"exists": {"field": "response_time_s"}},
            "aggs": {
                "times": {"percentiles": {"field": "response_time_s", "percents": [50, 90]}},
                "within": {"filter": {"range": {"response_time_s": {"lte": target_minutes * 60}}}},
            },
        },
        "needs_reply": {"filter": {"term": {"needs_reply": True}}},
        "open_queue": {
            "filter": {"bool": {"filter": [{"term": {"needs_reply": True}}], "must_not": [{"exists": {"field": "answered_at"}}]}}
        },
    }


def _local_day(key_ms: int, zone: ZoneInfo) -> date:
    # a bucket key is the local midnight as epoch ms; a few hours' offset never changes its local date
    return datetime.fromtimestamp(key_ms / 1000, timezone.utc).astimezone(zone).date()


def _read_volume(data: DigestData, aggs: dict[str, Any], target_minutes: float) -> None:
    zone = data.period.zone
    days = aggs["per_day"]["buckets"]
    data.per_day = [(_local_day(b["key"], zone), b["doc_count"]) for b in days]
    data.sentiment_per_day = [
        (_local_day(b["key"], zone), {label: b["sentiment"]["buckets"][label]["doc_count"] for label in LABELS}) for b in days
    ]
    hours = [0] * 24
    for bucket in aggs["per_hour"]["buckets"]:
        hours[datetime.fromtimestamp(bucket["key"] / 1000, timezone.utc).astimezone(zone).hour] += bucket["doc_count"]
    data.per_hour = hours
    answered = aggs["answered"]
    if answered["doc_count"] or aggs["needs_reply"]["doc_count"]:
        values = answered["times"]["values"]
        data.responses = ResponseStats(
            answered=answered["doc_count"],
            median_s=values.get("50.0"),
            p90_s=values.get("90.0"),
            within_target=answered["within"]["doc_count"],
            target_minutes=target_minutes,
            open_queue=aggs["open_queue"]["doc_count"],
        )


def _example(source: dict[str, Any]) -> dict[str, Any]:
    author = source.get("author") or {}
    return {
        "text": "" if source.get("deleted") else source.get("text") or "",
        "title": source.get("title"),
        "url": source.get("url"),
        "author": author.get("handle") if isinstance(author, dict) else None,
        "source": source.get("source"),
        "published_at": source.get("published_at"),
    }


def _stories_query(client: Elasticsearch, index: str, base: list[dict[str, Any]]) -> list[Story]:
    aggs = {
        "stories": {
            "terms": {"field": "story_id", "size": TOP_STORIES, "order": [{"reach": "desc"}, {"impact": "desc"}]},
            "aggs": {
                "reach": {"sum": {"field": "reach"}},
                "impact": {"sum": {"field": "impact"}},
                "first": {"top_hits": {"size": 1, "sort": [{"published_at": "asc"}], "_source": _EXAMPLE_FIELDS}},
            },
        }
    }
    response = client.search(index=index, size=0, query={"bool": {"filter": base}}, aggs=aggs)
    stories = []
    for bucket in response["aggregations"]["stories"]["buckets"]:
        hit = bucket["first"]["hits"]["hits"][0]
        stories.append(Story(bucket["key"], bucket["doc_count"], bucket["reach"]["value"] or 0.0, bucket["impact"]["value"] or 0.0, **_example(hit["_source"])))
    return stories


def _single_mentions(client: Elasticsearch, index: str, base: list[dict[str, Any]]) -> list[Story]:
    """Mentions without a story id (the story stage off, or older documents): each is its own story."""
    query = {"bool": {"filter": base, "must_not": [{"exists": {"field": "story_id"}}]}}
    sort = [{"reach": {"order": "desc", "missing": "_last"}}, {"impact": {"order": "desc", "missing": "_last"}}]
    response = client.search(index=index, size=TOP_STORIES, query=query, sort=sort, source=_EXAMPLE_FIELDS + ["reach", "impact"])
    return [
        Story(hit["_id"], 1, hit["_source"].get("reach") or 0.0, hit["_source"].get("impact") or 0.0, **_example(hit["_source"]))
        for hit in response["hits"]["hits"]
    ]


def _alerts(client: Elasticsearch, settings: Settings, data: DigestData) -> list[dict[str, Any]]:
    """Alerts (one per incident) open at any time in the period: opened before its end, updated after its start."""
    query = {
        "bool": {
            "filter": [
                {"terms": {"brand": data.brands}},
                {"range": {"opened_at": {"lt": _ms(data.period.end), "format": "epoch_millis"}}},
                {"range": {"updated_at": {"gte": _ms(data.period.start), "format": "epoch_millis"}}},
            ]
        }
    }
    response = client.options(ignore_status=404).search(
        index=settings.es_alerts_index, size=200, query=query, sort=[{"opened_at": "desc"}], source_excludes=["evidence"]
    )
    return [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]


def collect(client: Elasticsearch, settings: Settings, brand: str | None, brands: list[str], comparison: list[str], period: Period) -> DigestData:
    """Everything the digest shows, for ``brands`` (the brand alone, or every brand) over ``period``;
    ``comparison`` are the brands of the share-of-voice chart (the brand and its competitors)."""
    index = settings.es_index_prefix
    data = DigestData(brand, brands, period)
    base = [_period_filter(period), _brands_filter(brands)]
    target = settings.reply_target_minutes
    response = client.search(index=index, size=0, track_total_hits=True, query={"bool": {"filter": base}}, aggs=_volume_aggs(brand, period, target))
    data.total = response["hits"]["total"]["value"]
    _read_volume(data, response["aggregations"], target)
    voice = client.search(
        index=index,
        size=0,
        query={"bool": {"filter": [_period_filter(period)]}},
        aggs={"voice": {"filters": {"filters": {name: {"term": {"brands": name}} for name in comparison}}}},
    )
    counts = voice["aggregations"]["voice"]["buckets"]
    data.share_of_voice = [(name, counts[name]["doc_count"]) for name in comparison]
    stories = _stories_query(client, index, base) + _single_mentions(client, index, base)
    data.stories = sorted(stories, key=lambda s: (s.reach, s.impact), reverse=True)[:TOP_STORIES]
    data.alerts = _alerts(client, settings, data)
    return data
