"""streams.query.lexer: tokens, and the errors with their positions."""

import pickle

import pytest

from streams.query.lexer import QuerySyntaxError, lex


def kinds(query):
    return [t.kind for t in lex(query)]


def test_operators_terms_phrases_groups_fields():
    tokens = lex('(lego OR "lego group") AND NOT author:x NEAR/5 y NEAR/3f z')
    assert [t.kind for t in tokens] == [
        "LPAREN", "TERM", "OR", "PHRASE", "RPAREN", "AND", "NOT", "FIELD", "TERM",
        "NEAR", "TERM", "NEAR", "TERM", "EOF",
    ]
    assert tokens[3].value == "lego group"
    assert tokens[7].value == "author"
    assert tokens[9].value == (5, False)
    assert tokens[11].value == (3, True)


def test_lower_case_operator_words_are_terms():
    assert kinds("lego and not or") == ["TERM", "TERM", "TERM", "TERM", "EOF"]


def test_wildcard_term_value():
    (tok, _eof) = lex("boykott*")
    assert tok.value == ("boykott", True)


def test_positions_are_offsets():
    assert [t.pos for t in lex('ab  "c d" (e')] == [0, 4, 10, 11, 12]


def test_field_scope_then_url_with_colon_is_one_term():
    tokens = lex("url:https://lego.com/x")
    assert [(t.kind, t.text) for t in tokens[:2]] == [("FIELD", "url:"), ("TERM", "https://lego.com/x")]


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ('lego "group', 5, "unterminated quote"),
        ('lego ""', 5, "empty phrase"),
        ("a NEAR/x b", 7, "expected a number after NEAR/"),
        ("a NEAR/ b", 7, "expected a number after NEAR/"),
        ("a NEAR b", 2, "NEAR needs a distance"),
        ("a NEAR/0 b", 7, "at least 1"),
        ("a NEAR/1001 b", 7, "at most 1000"),
        ("a NEAR/5x b", 8, "after NEAR/5"),
        ("a near/5 b", 2, "upper case"),
        ("*", 0, "lone *"),
        ("lego *", 5, "lone *"),
        ("*lego", 0, "leading wildcards"),
        ("le*go", 2, "may only end a word"),
        ("lego**", 4, "may only end a word"),
        ('"lego *group"', 6, "leading wildcards"),
        ("foo:bar", 0, "unknown field scope 'foo:'"),
        ("lego -movie", 5, "write NOT movie instead of -movie"),
        ("lego title: x", 11, "directly after title:"),
        ("title:", 6, "directly after title:"),
    ],
)
def test_lexer_errors_name_the_position(query, position, fragment):
    with pytest.raises(QuerySyntaxError) as info:
        lex(query)
    err = info.value
    assert err.position == position
    assert fragment in err.message
    # The rendered message names the column and draws a caret under it.
    text = str(err)
    assert f"(column {position + 1})" in text
    lines = text.splitlines()
    assert lines[1] == "  " + query
    assert lines[2] == "  " + " " * position + "^"


def test_unknown_field_lists_valid_scopes():
    with pytest.raises(QuerySyntaxError) as info:
        lex("auther:lego")
    for scope in ("author:", "lang:", "source:", "text:", "title:", "url:"):
        assert scope in info.value.message


def test_error_is_a_value_error_and_pickles():
    with pytest.raises(ValueError) as info:
        lex('"x')
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.message, clone.position, clone.query) == (info.value.message, 0, '"x')
