"""Index lifecycle (application-driven rollover and retention) and search, on the real Elasticsearch."""

from __future__ import annotations

import csv
import io
import json

import pytest

from streams.schema import EnrichedMention, Mention, Sentiment
from streams.query.search import SearchRequest, run_search
from streams.sinks.elasticsearch import sync_client
from streams.sinks.lifecycle import apply_retention, rollover

pytestmark = pytest.mark.integration


def _doc(i, text, published, lang="da", label="neutral", brands=(), influence=10.0, impact=0.0):
    mention = Mention(id=f"d{i}", source="test", text=text, published_at=published, author={"handle": f"a{i}"})
    sentiment = Sentiment(label=label, score={"negative": -0.8, "neutral": 0.0, "positive": 0.8}[label], probabilities={}, model_version="t")
    return EnrichedMention(mention=mention, lang=lang, lang_confidence=1.0, sentiment=sentiment, brands=list(brands), influence=influence, impact=impact).to_document()


def _index(settings, docs):
    client = sync_client(settings)
    try:
        for doc in docs:
            client.index(index=settings.es_index_prefix, id=doc["id"], document=doc)
        client.indices.refresh(index=settings.es_index_prefix)
    finally:
        client.close()


def test_rollover_then_retention_deletes_only_old_read_indices(lytter):
    client = sync_client(lytter)
    try:
        _index(lytter, [_doc(1, "gammel Lego tekst", "2020-01-01T00:00:00Z")])
        with pytest.raises(ValueError):
            rollover(lytter, client)
        result = rollover(lytter, client, max_docs=1)
        assert result["rolled_over"] and result["new_index"].endswith("-000002")
        _index(lytter, [_doc(2, "ny Lego tekst", "2026-11-23T08:00:00Z")])  # goes to the new write index
        assert client.count(index=lytter.es_index_prefix)["count"] == 2
        assert apply_retention(lytter, client, "30d", dry_run=True) == [result["old_index"]]
        assert apply_retention(lytter, client, "30d") == [result["old_index"]]
        client.indices.refresh(index=lytter.es_index_prefix)
        assert client.count(index=lytter.es_index_prefix)["count"] == 1
        assert apply_retention(lytter, client, "30d") == []  # the write index is never deleted
    finally:
        client.close()


def test_search_boolean_query_filters_sort_aggregations_and_export(lytter):
    _index(
        lytter,
        [
            _doc(1, "Boykot Lego nu", "2026-11-23T08:00:00Z", label="negative", brands=["Lego"], influence=80, impact=-500),
            _doc(2, "Lego er fantastisk", "2026-11-23T09:00:00Z", label="positive", brands=["Lego"], influence=20, impact=50),
            _doc(3, "Smörgåsbord hos IKEA", "2026-11-23T10:00:00Z", lang="sv", brands=["IKEA"]),
            _doc(4, "<script>alert(1)</script> lego", "2026-11-23T11:00:00Z", brands=["Lego"]),
        ],
    )
    result = run_search(lytter, SearchRequest(query="lego NOT boykot", brands=["Lego"], sort="time"))
    assert [h["id"] for h in result.hits] == ["d4", "d2"]
    by_impact = run_search(lytter, SearchRequest(query="lego", sort="impact"))
    assert by_impact.hits[0]["id"] == "d2" and by_impact.hits[-1]["id"] in {"d1", "d4"}
    influential = run_search(lytter, SearchRequest(min_influence=50))
    assert [h["id"] for h in influential.hits] == ["d1"]
    assert run_search(lytter, SearchRequest(query="smørgåsbord")).total == 1  # ø = ö
    scripted = run_search(lytter, SearchRequest(query='"<script>alert(1)</script>"')).hits  # markup is text, not syntax
    assert [h["id"] for h in scripted] == ["d4"] and scripted[0]["text"].startswith("<script>alert(1)</script>")
    summary = run_search(lytter, SearchRequest()).aggregations
    assert summary["by_brand"] == {"Lego": 3, "IKEA": 1}
    assert summary["by_sentiment"]["negative"] == 1

    from typer.testing import CliRunner

    from streams.cli import app

    env = lytter.to_env()
    csv_out = CliRunner().invoke(app, ["search", "lego", "--export", "csv"], env=env)
    assert csv_out.exit_code == 0, csv_out.output
    rows = list(csv.DictReader(io.StringIO(csv_out.output)))
    assert {r["id"] for r in rows} == {"d1", "d2", "d4"} and rows[0]["sentiment"]
    jsonl_out = CliRunner().invoke(app, ["search", "--brand", "IKEA", "--export", "jsonl"], env=env)
    assert [json.loads(line)["id"] for line in jsonl_out.output.splitlines()] == ["d3"]
