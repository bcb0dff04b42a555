"""streams.query.elasticsearch: the query DSL shape of each construct."""

import json

import pytest

from streams.query import DEFAULT_FIELDS, compile_query


def es(query, **kw):
    return compile_query(query).to_elasticsearch(**kw)


TEXT = ["title", "text"]


def test_single_word_is_multi_match_over_default_fields():
    assert es("lego") == {"multi_match": {"query": "lego", "fields": TEXT}}


def test_words_are_lower_cased():
    assert es("LEGO") == {"multi_match": {"query": "lego", "fields": TEXT}}


def test_phrase_is_multi_match_phrase_or_match_phrase_on_one_field():
    assert es('"Rema 1000"') == {"multi_match": {"query": "rema 1000", "type": "phrase", "fields": TEXT}}
    assert es('title:"Rema 1000"') == {"match_phrase": {"title": {"query": "rema 1000"}}}
    assert es("title:lego") == {"match": {"title": {"query": "lego"}}}


def test_brand_with_punctuation_is_a_phrase():
    assert es("H&M") == {"multi_match": {"query": "h&m", "type": "phrase", "fields": TEXT}}
    assert es("coca-cola") == {"multi_match": {"query": "coca cola", "type": "phrase", "fields": TEXT}}


def test_and_or_not_become_bool():
    lego, duplo = es("lego"), es("duplo")
    movie = es('"lego movie"')
    assert es("lego AND duplo") == {"bool": {"must": [lego, duplo]}}
    assert es("lego duplo") == {"bool": {"must": [lego, duplo]}}
    assert es("lego OR duplo") == {"bool": {"should": [lego, duplo], "minimum_should_match": 1}}
    assert es("NOT lego") == {"bool": {"must_not": [lego]}}
    assert es('lego NOT "lego movie"') == {"bool": {"must": [lego], "must_not": [movie]}}
    assert es("NOT lego NOT duplo") == {"bool": {"must_not": [lego, duplo]}}


def test_precedence_shows_in_the_nesting():
    a, b, c = es("a"), es("b"), es("c")
    assert es("a OR b c") == {"bool": {"should": [a, {"bool": {"must": [b, c]}}], "minimum_should_match": 1}}


def test_prefix_wildcard():
    assert es("boykott*") == {
        "bool": {
            "should": [{"prefix": {"title": {"value": "boykott"}}}, {"prefix": {"text": {"value": "boykott"}}}],
            "minimum_should_match": 1,
        }
    }
    assert es("text:Boykott*") == {"prefix": {"text": {"value": "boykott"}}}


def test_near_is_span_near_per_field_with_slop_distance_minus_one():
    assert es("text:(ørsted NEAR/5 boykot)", nordic_variants=False) == {
        "span_near": {
            "clauses": [{"span_term": {"text": "ørsted"}}, {"span_term": {"text": "boykot"}}],
            "slop": 4,
            "in_order": False,
        }
    }
    both = es("ørsted NEAR/5f boykot", nordic_variants=False)
    assert [c["span_near"]["clauses"][0] for c in both["bool"]["should"]] == [
        {"span_term": {"title": "ørsted"}},
        {"span_term": {"text": "ørsted"}},
    ]
    assert all(c["span_near"]["in_order"] is True for c in both["bool"]["should"])


def test_near_operands_phrase_group_wildcard():
    assert es('text:("rema 1000" NEAR/3 (dårlig OR tilbud*))', nordic_variants=False) == {
        "span_near": {
            "clauses": [
                {
                    "span_near": {
                        "clauses": [{"span_term": {"text": "rema"}}, {"span_term": {"text": "1000"}}],
                        "slop": 0,
                        "in_order": True,
                    }
                },
                {
                    "span_or": {
                        "clauses": [
                            {"span_term": {"text": "dårlig"}},
                            {"span_multi": {"match": {"prefix": {"text": {"value": "tilbud"}}}}},
                        ]
                    }
                },
            ],
            "slop": 2,
            "in_order": False,
        }
    }


def test_phrase_with_wildcard_uses_spans():
    assert es('text:"lego frie*"') == {
        "span_near": {
            "clauses": [
                {"span_term": {"text": "lego"}},
                {"span_multi": {"match": {"prefix": {"text": {"value": "frie"}}}}},
            ],
            "slop": 0,
            "in_order": True,
        }
    }


def test_keyword_scopes_are_case_insensitive_terms():
    assert es("lang:DA") == {"term": {"lang": {"value": "da", "case_insensitive": True}}}
    assert es("lang:(da OR nb)") == {
        "bool": {
            "should": [
                {"term": {"lang": {"value": "da", "case_insensitive": True}}},
                {"term": {"lang": {"value": "nb", "case_insensitive": True}}},
            ],
            "minimum_should_match": 1,
        }
    }
    assert es("source:red*") == {"prefix": {"source": {"value": "red", "case_insensitive": True}}}


def test_author_searches_handle_and_display_name_without_at():
    assert es("author:@LEGO") == {
        "bool": {
            "should": [
                {"term": {"author.handle": {"value": "lego", "case_insensitive": True}}},
                {"term": {"author.display_name.keyword": {"value": "lego", "case_insensitive": True}}},
            ],
            "minimum_should_match": 1,
        }
    }
    assert es('author:"LEGO  Group"', fields={"author": ["author.name"]}) == {
        "term": {"author.name": {"value": "lego group", "case_insensitive": True}}
    }


def test_url_is_a_case_insensitive_substring_wildcard():
    assert es("url:lego.com") == {"wildcard": {"url": {"value": "*lego.com*", "case_insensitive": True}}}
    assert es('url:"a?b"') == {"wildcard": {"url": {"value": "*a\\?b*", "case_insensitive": True}}}


def test_field_names_are_configurable():
    fields = {"title": ["headline"], "text": ["body", "body.da"]}
    assert es("lego", fields=fields) == {"multi_match": {"query": "lego", "fields": ["headline", "body", "body.da"]}}
    assert es("lego", fields=fields, default_scope=["text"]) == {
        "multi_match": {"query": "lego", "fields": ["body", "body.da"]}
    }
    assert DEFAULT_FIELDS["title"] == ["title"]  # the defaults are not modified by a call


def test_nordic_equivalences_are_expanded_into_variants():
    assert es("title:smør") == {
        "bool": {
            "should": [{"match": {"title": {"query": "smør"}}}, {"match": {"title": {"query": "smör"}}}],
            "minimum_should_match": 1,
        }
    }
    queries = [c["match"]["title"]["query"] for c in es("title:Aalborg")["bool"]["should"]]
    assert sorted(queries) == ["aalborg", "ålborg"]
    queries = [c["match"]["title"]["query"] for c in es("title:café")["bool"]["should"]]
    assert queries == ["café", "cafe"]
    assert es("title:smør", nordic_variants=False) == {"match": {"title": {"query": "smør"}}}


def test_nordic_variants_in_spans_become_span_or():
    assert es("text:(smør NEAR/2 brød)")["span_near"]["clauses"] == [
        {"span_or": {"clauses": [{"span_term": {"text": "smør"}}, {"span_term": {"text": "smör"}}]}},
        {"span_or": {"clauses": [{"span_term": {"text": "brød"}}, {"span_term": {"text": "bröd"}}]}},
    ]


def test_variant_explosion_is_capped():
    # six Nordic letters: 2**6 = 64 spellings
    def spellings(**kw):
        query = es('title:"Ærø smör åland blåbær"', **kw)
        return [c["match_phrase"]["title"]["query"] for c in query["bool"]["should"]]

    assert len(spellings(max_variants=64)) == 64
    # over the cap: as written, and the canonical spelling
    assert spellings(max_variants=16) == ["ærø smör åland blåbær", "ærø smør åland blåbær"]


def test_hashtag_and_handle_words_drop_their_marker_in_spans():
    assert es("text:(#lego NEAR/2 @ikea)", nordic_variants=False)["span_near"]["clauses"] == [
        {"span_term": {"text": "lego"}},
        {"span_term": {"text": "ikea"}},
    ]


@pytest.mark.parametrize(
    "query",
    [
        '(lego OR "lego group" OR #lego) AND lang:(da OR nb) NOT author:legobot',
        "ørsted NEAR/5 (boykott* OR protest*) OR url:orsted.dk",
        'title:"rema 1000" NOT source:reddit',
        "NOT (a OR b)",
    ],
)
def test_output_is_json_serialisable(query):
    body = es(query)
    assert json.loads(json.dumps(body)) == body
