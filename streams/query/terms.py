"""Emerging terms: the keywords unusually frequent in a brand's window against the brand's own baseline.

One ``significant_terms`` aggregation on the ``keywords`` field (filled at index time by
``streams.processing.keywords``). Why that and not ``significant_text``: ``keywords`` is a keyword
field with doc values, so the aggregation counts terms that are already indexed (cheap, no fielddata,
no re-analysis) and can run for every alert; ``significant_text`` re-analyses each hit's ``_source``
text at query time, which is fine on a sample but costly per alert and per window.

The foreground is the brand's mentions in [start, end); the background is the same brand over the
``baseline_days`` before ``start`` *plus* the window. Including the window keeps the foreground a
subset of the background, which JLH assumes: with a disjoint background a word new in the window has
background frequency 0 and an unbounded score. ``baseline_count`` reported is the baseline part alone
(background count minus window count).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Iterable

from elasticsearch import exceptions as es_exceptions

from streams.processing.keywords import normalise
from streams.settings import Settings

#: A term must be in at least this many of the window's mentions: one post repeating a word is no trend.
MIN_DOC_COUNT = 2
#: Characters with a meaning in Lucene's regular expressions (the ``exclude`` pattern).
_LUCENE_REGEX_SPECIAL = re.compile(r'([.?+*|{}\[\]()"\\#@&<>~])')


class EmergingTermsError(RuntimeError):
    """The emerging terms cannot be computed (no index, bad arguments): the message says what to fix."""


def brand_words(brand: str) -> list[str]:
    """The brand's name as keyword tokens ("Nordlys Energi" -> ["nordlys", "energi"])."""
    return [word for word in re.findall(r"\w+(?:['-]\w+)*", normalise(brand)) if word]


def exclude_pattern(words: Iterable[str]) -> str | None:
    """A Lucene regex matching any keyword that contains one of ``words``: "telia", "#telia", "telias",
    "telia's", and bigrams with one of them ("telia app")."""
    escaped = sorted({_LUCENE_REGEX_SPECIAL.sub(r"\\\1", word) for word in words if word})
    if not escaped:
        return None
    names = "|".join(escaped)
    # "#" is an operator in Lucene regexes (the empty language): the hashtag's is escaped
    return f"(.+ )?\\#?({names})('?s)?( .+)?"


def _check(start: datetime, end: datetime, baseline_days: float, size: int) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise EmergingTermsError("emerging_terms: start and end need a time zone (e.g. datetime(..., tzinfo=timezone.utc))")
    if end <= start:
        raise EmergingTermsError(f"emerging_terms: end ({end.isoformat()}) must be after start ({start.isoformat()})")
    if baseline_days <= 0:
        raise EmergingTermsError(f"emerging_terms: baseline_days must be positive, not {baseline_days}")
    if size < 1:
        raise EmergingTermsError(f"emerging_terms: size must be at least 1, not {size}")


def _brand_between(brand: str, gte: datetime, lt: datetime) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [{"term": {"brands": brand}}, {"range": {"published_at": {"gte": gte.isoformat(), "lt": lt.isoformat()}}}],
            "must_not": [{"term": {"deleted": True}}],  # tombstones: their text is gone, so are their words
        }
    }


def emerging_terms_body(*, brand: str, start: datetime, end: datetime, baseline_days: float = 7, size: int = 10, min_doc_count: int = MIN_DOC_COUNT) -> dict[str, Any]:
    """The search body (pure): the window's mentions, one significant_terms aggregation on keywords."""
    _check(start, end, baseline_days, size)
    aggregation: dict[str, Any] = {
        "field": "keywords",
        "size": size,
        "min_doc_count": max(MIN_DOC_COUNT, min_doc_count),
        "background_filter": _brand_between(brand, start - timedelta(days=baseline_days), end),
        "jlh": {},
    }
    exclude = exclude_pattern(brand_words(brand))
    if exclude:
        aggregation["exclude"] = exclude
    return {"size": 0, "track_total_hits": True, "query": _brand_between(brand, start, end), "aggs": {"emerging": {"significant_terms": aggregation}}}


def parse_emerging_terms(response: Any) -> list[dict[str, Any]]:
    """``[{"term", "count", "baseline_count", "score"}]``, most significant first."""
    buckets = ((response.get("aggregations") or {}).get("emerging") or {}).get("buckets") or []
    return [
        {
            "term": bucket["key"],
            "count": bucket["doc_count"],
            "baseline_count": max(0, bucket.get("bg_count", 0) - bucket["doc_count"]),
            "score": round(float(bucket.get("score", 0.0)), 6),
        }
        for bucket in buckets
    ]


def _missing_index(settings: Settings) -> EmergingTermsError:
    return EmergingTermsError(
        f"Elasticsearch at {settings.es_url} has no index or alias {settings.es_index_prefix!r} "
        "(setting LYTTER_ES_INDEX_PREFIX): run `lytter es setup` and the worker, or fix the prefix"
    )


def emerging_terms(client, settings: Settings, *, brand: str, start: datetime, end: datetime, baseline_days: float = 7, size: int = 10) -> list[dict[str, Any]]:
    """The brand's emerging terms in [start, end) against its ``baseline_days`` before (sync client)."""
    body = emerging_terms_body(brand=brand, start=start, end=end, baseline_days=baseline_days, size=size)
    try:
        response = client.search(index=settings.es_index_prefix, **body)
    except es_exceptions.NotFoundError:
        raise _missing_index(settings) from None
    return parse_emerging_terms(response)


async def emerging_terms_async(client, settings: Settings, *, brand: str, start: datetime, end: datetime, baseline_days: float = 7, size: int = 10) -> list[dict[str, Any]]:
    """``emerging_terms`` for the worker's ``AsyncElasticsearch`` client."""
    body = emerging_terms_body(brand=brand, start=start, end=end, baseline_days=baseline_days, size=size)
    try:
        response = await client.search(index=settings.es_index_prefix, **body)
    except es_exceptions.NotFoundError:
        raise _missing_index(settings) from None
    return parse_emerging_terms(response)
