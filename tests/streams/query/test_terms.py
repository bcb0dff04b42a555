"""Emerging terms: the request body, the result, the errors (the real aggregation: tests/integration)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import exceptions as es_exceptions

from streams.query.terms import (
    EmergingTermsError,
    brand_words,
    emerging_terms,
    emerging_terms_async,
    emerging_terms_body,
    exclude_pattern,
    parse_emerging_terms,
)
from streams.settings import Settings

START = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
END = START + timedelta(hours=1)


def settings() -> Settings:
    return Settings(es_index_prefix="terms-test-mentions", es_url="http://127.0.0.1:1")


def response(*buckets) -> dict:
    return {"hits": {"total": {"value": 9}}, "aggregations": {"emerging": {"doc_count": 9, "bg_count": 120, "buckets": list(buckets)}}}


def test_window_is_the_query_and_baseline_plus_window_the_background():
    body = emerging_terms_body(brand="Nordlys Energi", start=START, end=END, baseline_days=7, size=5)
    window = body["query"]["bool"]["filter"]
    assert {"term": {"brands": "Nordlys Energi"}} in window
    assert {"range": {"published_at": {"gte": START.isoformat(), "lt": END.isoformat()}}} in window
    agg = body["aggs"]["emerging"]["significant_terms"]
    assert agg["field"] == "keywords" and agg["size"] == 5 and agg["min_doc_count"] >= 2
    background = agg["background_filter"]["bool"]["filter"]
    assert {"term": {"brands": "Nordlys Energi"}} in background
    assert {"range": {"published_at": {"gte": (START - timedelta(days=7)).isoformat(), "lt": END.isoformat()}}} in background
    assert body["size"] == 0
    # tombstones (deleted mentions) count in neither set
    assert body["query"]["bool"]["must_not"] == agg["background_filter"]["bool"]["must_not"] == [{"term": {"deleted": True}}]


def test_min_doc_count_never_below_two():
    body = emerging_terms_body(brand="X-brand", start=START, end=END, min_doc_count=1)
    assert body["aggs"]["emerging"]["significant_terms"]["min_doc_count"] == 2


def test_brand_name_words_are_excluded_with_escaped_lucene_regex():
    assert brand_words("Nordlys Energi") == ["nordlys", "energi"]
    assert brand_words("ＨＥＬＬＯ Bank") == ["hello", "bank"]
    assert brand_words("Coop's Tele-Bank") == ["coop's", "tele-bank"]
    # words from elsewhere (aliases) may hold Lucene operators: taken literally
    assert exclude_pattern(["h&m", "c+"]) == r"(.+ )?\#?(c\+|h\&m)('?s)?( .+)?"
    body = emerging_terms_body(brand="Nordlys Energi", start=START, end=END)
    assert body["aggs"]["emerging"]["significant_terms"]["exclude"] == r"(.+ )?\#?(energi|nordlys)('?s)?( .+)?"
    assert exclude_pattern([]) is None


def test_result_counts_the_baseline_apart_from_the_window():
    found = parse_emerging_terms(response({"key": "batteri", "doc_count": 8, "bg_count": 10, "score": 4.25}, {"key": "ny app", "doc_count": 3, "bg_count": 3, "score": 0.5}))
    assert found == [
        {"term": "batteri", "count": 8, "baseline_count": 2, "score": 4.25},
        {"term": "ny app", "count": 3, "baseline_count": 0, "score": 0.5},
    ]
    assert parse_emerging_terms({"hits": {}}) == []


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        (dict(start=END, end=START), "must be after start"),
        (dict(start=START.replace(tzinfo=None), end=END), "time zone"),
        (dict(start=START, end=END, baseline_days=0), "baseline_days"),
        (dict(start=START, end=END, size=0), "size"),
    ],
)
def test_bad_arguments_say_which(kwargs, says):
    with pytest.raises(EmergingTermsError, match=says):
        emerging_terms_body(brand="X", **kwargs)


def not_found() -> es_exceptions.NotFoundError:
    meta = ApiResponseMeta(status=404, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=NodeConfig("http", "127.0.0.1", 1))
    return es_exceptions.NotFoundError("index_not_found_exception", meta, {"error": {"type": "index_not_found_exception"}})


class FakeClient:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def search(self, index, **body):
        self.calls.append((index, body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FakeAsyncClient(FakeClient):
    async def search(self, index, **body):
        return FakeClient.search(self, index, **body)


def test_sync_runs_on_the_alias_and_parses():
    client = FakeClient(response({"key": "tilbagekaldelse", "doc_count": 6, "bg_count": 6, "score": 9.0}))
    found = emerging_terms(client, settings(), brand="Nordlys Energi", start=START, end=END)
    assert client.calls[0][0] == "terms-test-mentions"
    assert found[0]["term"] == "tilbagekaldelse" and found[0]["baseline_count"] == 0


async def test_async_twin_gives_the_same():
    answer = response({"key": "batteri", "doc_count": 4, "bg_count": 5, "score": 2.0})
    sync = emerging_terms(FakeClient(answer), settings(), brand="B", start=START, end=END)
    assert await emerging_terms_async(FakeAsyncClient(answer), settings(), brand="B", start=START, end=END) == sync


async def test_missing_index_names_the_setting_and_the_fix():
    with pytest.raises(EmergingTermsError, match="LYTTER_ES_INDEX_PREFIX.*lytter es setup"):
        emerging_terms(FakeClient(not_found()), settings(), brand="B", start=START, end=END)
    with pytest.raises(EmergingTermsError, match="terms-test-mentions"):
        await emerging_terms_async(FakeAsyncClient(not_found()), settings(), brand="B", start=START, end=END)
