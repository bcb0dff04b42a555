"""Priority parts, version tokens and queue filters (no Elasticsearch)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.inbox.queue import InboxError, QueueFilter, Version, priority_functions, priority_parts, queue_filter_query

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
TARGET_S = 3600.0


def doc(minutes_ago: float = 0, **fields) -> dict:
    return {"published_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(), **fields}


@pytest.mark.parametrize("token,expected", [("12:1", Version(12, 1)), (" 0:3 ", Version(0, 3))])
def test_version_parse_round_trips(token, expected):
    assert Version.parse(token) == expected
    assert Version.parse(str(expected)) == expected


@pytest.mark.parametrize("token", ["", "12", "12:", ":1", "a:1", "12:0", "-1:1", "1:2:3", "1.5:1"])
def test_bad_versions_are_refused(token):
    with pytest.raises(InboxError, match="seq_no"):
        Version.parse(token)


def test_parts_follow_the_documented_formula():
    parts = priority_parts(doc(30, influence=40.0, reach=999.0, brand_sentiment=[{"brand": "A", "label": "negative", "score": -0.6}]), NOW, TARGET_S)
    assert parts.negativity == pytest.approx(35 * 0.6)
    assert parts.influence == pytest.approx(10.0)
    assert parts.reach == pytest.approx(2.5 * math.log10(1000))
    assert parts.waiting == pytest.approx(50 * 30 / 120)
    assert parts.total == pytest.approx(21 + 10 + 7.5 + 12.5)


def test_waiting_is_full_at_twice_the_target_and_stays_full():
    assert priority_parts(doc(60), NOW, TARGET_S).waiting == pytest.approx(25.0)
    assert priority_parts(doc(120), NOW, TARGET_S).waiting == pytest.approx(50.0)
    assert priority_parts(doc(6000), NOW, TARGET_S).waiting == pytest.approx(50.0)
    assert priority_parts(doc(-5), NOW, TARGET_S).waiting == 0.0  # a clock ahead of ours


def test_negativity_uses_the_brand_stance_then_the_mention():
    positive_brand = doc(brand_sentiment=[{"brand": "A", "label": "positive", "score": 0.7}], sentiment={"score": -0.9})
    assert priority_parts(positive_brand, NOW, TARGET_S).negativity == 0.0  # the brand's stance wins
    mention_only = doc(sentiment={"score": -0.5})
    assert priority_parts(mention_only, NOW, TARGET_S).negativity == pytest.approx(17.5)
    two_brands = doc(brand_sentiment=[{"brand": "A", "label": "negative", "score": -0.4}, {"brand": "B", "label": "neutral", "score": 0.1}])
    assert priority_parts(two_brands, NOW, TARGET_S, brand="B").negativity == 0.0
    assert priority_parts(two_brands, NOW, TARGET_S, brand="A").negativity == pytest.approx(14.0)
    assert priority_parts(doc(), NOW, TARGET_S).negativity == 0.0


@given(st.floats(0, 100), st.floats(0, 1e8), st.floats(-1, 1), st.floats(0, 1e4))
def test_priority_never_falls_when_a_mention_gets_worse(influence, reach, score, minutes):
    base = priority_parts(doc(minutes, influence=influence, reach=reach, sentiment={"score": score}), NOW, TARGET_S).total
    worse = doc(minutes + 10, influence=min(100.0, influence + 5), reach=reach * 2, sentiment={"score": max(-1.0, score - 0.1)})
    assert priority_parts(worse, NOW, TARGET_S).total >= base - 1e-9


def test_filters_become_term_clauses():
    query = queue_filter_query(NOW, QueueFilter(brand="Fjordbank", lang="da", source="reddit"))["bool"]
    assert {"term": {"addressed_to": "Fjordbank"}} in query["filter"] and {"term": {"lang": "da"}} in query["filter"]
    assert {"term": {"source": "reddit"}} in query["filter"] and {"term": {"needs_reply": True}} in query["filter"]
    assert {"range": {"inbox.snoozed_until": {"gt": NOW.isoformat()}}} in query["must_not"]
    assert {"terms": {"inbox.status": ["handled", "no_reply_needed"]}} in query["must_not"]


def test_an_empty_filter_value_is_refused():
    with pytest.raises(InboxError, match="lang filter is empty"):
        QueueFilter(lang=" ").clauses()


def test_the_brand_filter_reads_that_brands_stance():
    functions = priority_functions(NOW, TARGET_S, "Fjordbank")
    assert {"term": {"brand_label": "Fjordbank:negative"}} in functions[0]["filter"]["bool"]["filter"]
    waiting_full = functions[-1]
    assert waiting_full["filter"]["range"]["published_at"]["lte"] == (NOW - timedelta(hours=2)).isoformat()
