"""streams.query: the public API."""

import pickle
from datetime import datetime, timezone

import pytest

import streams.query as query_pkg
from streams.query import Document, Query, QuerySyntaxError, compile_query
from streams.schema import Author, EnrichedMention, Mention


def test_exports():
    for name in ("compile_query", "Query", "Document", "QuerySyntaxError"):
        assert name in query_pkg.__all__


def test_compile_query_returns_an_immutable_query_with_its_source_and_ast():
    q = compile_query("lego OR duplo")
    assert isinstance(q, Query)
    assert q.source == "lego OR duplo"
    assert str(q) == "lego OR duplo"
    with pytest.raises(AttributeError):
        q.source = "x"  # frozen


def test_equal_sources_give_equal_hashable_queries():
    assert compile_query("lego  duplo").ast == compile_query("lego AND duplo").ast  # implicit AND
    assert {compile_query("lego"), compile_query("lego")} == {compile_query("lego")}


def test_query_pickles_by_recompiling():
    q = compile_query('ørsted NEAR/3 "grøn energi"')
    clone = pickle.loads(pickle.dumps(q))
    assert clone.ast == q.ast
    assert clone.matches({"text": "Ørsted og grøn energi"})


def test_non_string_query_is_a_type_error():
    with pytest.raises(TypeError):
        compile_query(None)


def test_syntax_error_is_a_value_error():
    with pytest.raises(ValueError):
        compile_query("lego AND")
    assert issubclass(QuerySyntaxError, ValueError)


def test_matches_the_document_the_sink_indexes():
    mention = Mention(
        id="m1",
        source="mastodon",
        url="https://social.example/@anna/1",
        title=None,
        text="Jeg boykotter #Ørsted efter i går",
        author=Author(handle="anna", display_name="Anna Ås"),
        published_at=datetime(2024, 5, 1, tzinfo=timezone.utc),
    )
    doc = Document.from_mapping(EnrichedMention(mention=mention, lang="da", lang_confidence=0.9).to_document())
    assert compile_query("ørsted NEAR/3 boykot* lang:da author:anna").matches(doc)
    assert compile_query('author:"anna aas" source:mastodon').matches(doc)
    assert not compile_query("ørsted lang:sv").matches(doc)
