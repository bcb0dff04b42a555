"""streams.query.parser: the AST, precedence (NOT > NEAR > AND > OR), and grammar errors."""

import pytest

from streams.query import QuerySyntaxError, compile_query
from streams.query.parser import And, Field, Near, Not, Or, Phrase, Term, parse

a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        # AND binds tighter than OR
        ("a OR b AND c", Or((a, And((b, c))))),
        ("a AND b OR c", Or((And((a, b)), c))),
        # implicit AND is the same level as AND
        ("a b OR c", Or((And((a, b)), c))),
        ("a OR b c", Or((a, And((b, c))))),
        ("a b AND c", And((a, b, c))),
        # NEAR binds tighter than AND and OR
        ("a b NEAR/2 c", And((a, Near(b, c, 2)))),
        ("a NEAR/2 b c", And((Near(a, b, 2), c))),
        ("a OR b NEAR/2 c", Or((a, Near(b, c, 2)))),
        ("a NEAR/2 b OR c", Or((Near(a, b, 2), c))),
        # NOT binds tightest
        ("NOT a b", And((Not(a), b))),
        ("NOT a OR b", Or((Not(a), b))),
        ("a NOT b", And((a, Not(b)))),
        ("a AND NOT b OR c", Or((And((a, Not(b))), c))),
        ("NOT NOT a", Not(Not(a))),
        # NEAR is left-associative
        ("a NEAR/2 b NEAR/3 c", Near(Near(a, b, 2), c, 3)),
        ("a NEAR/2f b", Near(a, b, 2, ordered=True)),
        # all four levels at once (the example of the parser's docstring)
        ("NOT a b OR c NEAR/3 d", Or((And((Not(a), b)), Near(c, d, 3)))),
        # parentheses override
        ("(a OR b) c", And((Or((a, b)), c))),
        ("a (b OR c) NEAR/4 d", And((a, Near(Or((b, c)), d, 4)))),
        ("NOT (a OR b)", Not(Or((a, b)))),
        # field scope binds to one term, phrase or group
        ("title:a b", And((Field("title", a), b))),
        ('author:"LEGO Group"', Field("author", Phrase("LEGO Group"))),
        ("lang:(da OR nb) a", And((Field("lang", Or((Term("da"), Term("nb")))), a))),
        ("NOT source:reddit", Not(Field("source", Term("reddit")))),
        ("title:(a NEAR/3 b)", Field("title", Near(a, b, 3))),
        # terms, wildcards, phrases
        ("boykott*", Term("boykott", wildcard=True)),
        ('"rema 1000" #lego @lego H&M', And((Phrase("rema 1000"), Term("#lego"), Term("@lego"), Term("H&M")))),
        ("a and b", And((a, Term("and"), b))),  # lower-case operators are words
    ],
)
def test_parse_tree(query, tree):
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "rendered"),
    [
        ("a OR b c", "a OR (b AND c)"),
        ("NOT a b NEAR/2 c", "NOT a AND (b NEAR/2 c)"),
        ("a NEAR/2 b NEAR/3f c", "(a NEAR/2 b) NEAR/3f c"),
        ("lang:(da OR nb) lego*", "lang:(da OR nb) AND lego*"),
    ],
)
def test_str_is_the_fully_parenthesised_reading_and_reparses_to_the_same_tree(query, rendered):
    q = compile_query(query)
    assert str(q) == rendered
    assert parse(rendered) == q.ast


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("lego AND", 8, "after AND, but the query ends"),
        ("lego OR", 7, "after OR, but the query ends"),
        ("lego NOT", 8, "after NOT, but the query ends"),
        ("lego NEAR/3", 11, "after NEAR/3, but the query ends"),
        ("AND lego", 0, "at the start of the query, but found the operator AND"),
        ("lego OR OR x", 8, "after OR, but found the operator OR"),
        ("lego AND OR x", 9, "after AND, but found the operator OR"),
        ("(lego", 0, "'(' is never closed"),
        ("((lego) OR x", 0, "'(' is never closed"),
        ("lego)", 4, "')' has no matching '('"),
        ("(a) b)", 5, "')' has no matching '('"),
        ("()", 1, "empty parentheses"),
        ("a (OR b)", 3, "after '(', but found the operator OR"),
        ("title:NOT x", 6, "put NOT before the scope"),
        ("a NEAR/3 (b AND c)", 9, "AND-group cannot be an operand of NEAR/3"),
        ("a NEAR/3 (b c)", 9, "AND-group cannot be an operand"),
        ("NOT a NEAR/3 b", 0, "NOT cannot be an operand of NEAR/3"),
        ("a NEAR/3 title:b", 9, "field scope cannot stand inside NEAR/3"),
        ("author:(a NEAR/2 b)", 10, "NEAR cannot be used inside author:"),
        ('author:"le* group"', 7, "wildcard may only end the whole value"),
        ("lego - x", 5, "nothing to search for in '-'"),
        ('"!!"', 0, "nothing to search for"),
    ],
)
def test_errors_name_position_and_expectation(query, position, fragment):
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    assert info.value.position == position, str(info.value)
    assert fragment in info.value.message, str(info.value)
    assert f"column {position + 1}" in str(info.value)


def test_error_message_has_caret_line():
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("lego AND")
    assert str(info.value) == (
        "expected a term, phrase, '(' or NOT after AND, but the query ends (column 9)\n"
        "  lego AND\n"
        "          ^"
    )


def test_positions_survive_on_nodes_but_not_in_equality():
    tree = parse("x OR (y z)")
    assert tree.children[1].pos == 5  # the group's '('
    assert tree == Or((Term("x"), And((Term("y"), Term("z")))))


def test_absurd_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("(" * 5000 + "lego" + ")" * 5000)
    assert "nests too deeply" in info.value.message
    assert compile_query("(" * 50 + "lego" + ")" * 50).matches({"text": "lego"})
    with pytest.raises(QuerySyntaxError, match="nests too deeply"):
        compile_query("NOT " * 150 + "lego")
    assert compile_query("NOT " * 50 + "lego").matches({"text": "lego"})  # an even number of NOTs
