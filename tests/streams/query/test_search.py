from datetime import datetime, timezone

import pytest

from streams.query.search import SearchRequest, build_search_body


def test_filters_and_sort():
    body = build_search_body(
        SearchRequest(langs=["da", "nb"], sources=["blog"], sentiments=["negative"], since=datetime(2026, 11, 1, tzinfo=timezone.utc), sort="impact", size=5)
    )
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"lang": ["da", "nb"]}} in filters
    assert {"terms": {"source": ["blog"]}} in filters
    assert {"terms": {"sentiment.label": ["negative"]}} in filters
    assert {"range": {"published_at": {"gte": "2026-11-01T00:00:00+00:00"}}} in filters
    assert body["sort"][0] == {"impact": {"order": "desc", "missing": "_last"}}
    assert body["size"] == 5
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_unknown_sort_is_an_error():
    with pytest.raises(ValueError, match="sort must be one of"):
        build_search_body(SearchRequest(sort="random"))
