"""Searching indexed mentions: the request is built by pure functions, then run against the alias."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.settings import Settings

#: Where the Boolean query language's field scopes point in the index mapping.
QUERY_FIELDS = {
    "author": ["author.handle", "author.display_name.keyword"],
    "source": ["source"],
    "lang": ["lang"],
    "url": ["url"],
    "title": ["title"],
    "text": ["text"],
}

SORTS = {
    "time": [{"published_at": {"order": "desc"}}, {"id": {"order": "asc"}}],
    "impact": [{"impact": {"order": "desc", "missing": "_last"}}, {"published_at": {"order": "desc"}}],
    "relevance": ["_score", {"published_at": {"order": "desc"}}],
}


@dataclass
class SearchRequest:
    query: str | None = None
    langs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    min_influence: float | None = None
    sort: str = "time"
    size: int = 20
    aggregations: bool = True


def build_search_body(request: SearchRequest) -> dict[str, Any]:
    """The Elasticsearch request body for a search (pure; the query syntax errors surface here)."""
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if request.query and request.query.strip():
        from streams.query import compile_query

        must.append(compile_query(request.query).to_elasticsearch(fields=QUERY_FIELDS))
    for name, values in (("lang", request.langs), ("source", request.sources), ("brands", request.brands), ("sentiment.label", request.sentiments)):
        if values:
            filters.append({"terms": {name: list(values)}})
    if request.since or request.until:
        bounds: dict[str, str] = {}
        if request.since:
            bounds["gte"] = request.since.isoformat()
        if request.until:
            bounds["lt"] = request.until.isoformat()
        filters.append({"range": {"published_at": bounds}})
    if request.min_influence is not None:
        filters.append({"range": {"influence": {"gte": request.min_influence}}})
    if request.sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {request.sort!r}")
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "sort": SORTS[request.sort],
        "size": request.size,
        "track_total_hits": True,
    }
    if request.aggregations:
        body["aggs"] = {
            "by_language": {"terms": {"field": "lang", "size": 10}},
            "by_sentiment": {"terms": {"field": "sentiment.label", "size": 3}},
            "by_source": {"terms": {"field": "source", "size": 10}},
            "by_brand": {"terms": {"field": "brands", "size": 20}},
        }
    return body


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    aggregations: dict[str, dict[str, int]]


def run_search(settings: Settings, request: SearchRequest, client=None) -> SearchResult:
    from streams.sinks.elasticsearch import sync_client

    own = client is None
    client = client or sync_client(settings)
    try:
        response = client.search(index=settings.es_index_prefix, **build_search_body(request))
    finally:
        if own:
            client.close()
    hits = [hit["_source"] for hit in response["hits"]["hits"]]
    aggs = {
        name: {bucket["key"]: bucket["doc_count"] for bucket in agg.get("buckets", [])}
        for name, agg in (response.get("aggregations") or {}).items()
    }
    return SearchResult(total=response["hits"]["total"]["value"], hits=hits, aggregations=aggs)
