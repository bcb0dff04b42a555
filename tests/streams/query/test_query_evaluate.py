"""streams.query.evaluate: matching queries against prepared documents."""

import pytest

from streams.query import Document, compile_query


def matches(query, text="", **fields):
    return compile_query(query).matches({"text": text, **fields})


# -- boolean structure and precedence ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", True),  # a OR (b AND c)
        ("b", False),
        ("b c", True),
        ("c", False),
    ],
)
def test_and_binds_tighter_than_or(text, expected):
    assert matches("a OR b c", text) is expected
    assert matches("a OR b AND c", text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("b", True),  # (NOT a) AND b
        ("a b", False),
        ("", False),
    ],
)
def test_not_binds_tighter_than_and(text, expected):
    assert matches("NOT a b", text) is expected


def test_not_binds_tighter_than_or():
    # (NOT a) OR b
    assert matches("NOT a OR b", "a b")
    assert not matches("NOT a OR b", "a")
    assert matches("NOT a OR b", "z")


def test_near_binds_tighter_than_and_and_or():
    # a AND (b NEAR/1 c)
    assert matches("a b NEAR/1 c", "a x x x b c")
    assert not matches("a b NEAR/1 c", "a x b x c")
    # (a NEAR/1 b) OR c
    assert matches("a NEAR/1 b OR c", "c")
    assert matches("a NEAR/1 b OR c", "b a")
    assert not matches("a NEAR/1 b OR c", "a x b")


def test_implicit_and():
    assert matches("lego ørsted", "Ørsted og LEGO")
    assert not matches("lego ørsted", "kun lego her")
    assert matches("lego NOT movie", "lego klodser")
    assert not matches("lego NOT movie", "the lego movie")


def test_operator_words_in_lower_case_and_quoted_are_searched():
    assert matches("not", "this is not it")
    assert matches('"AND"', "rock and roll")
    assert not matches('"OR"', "rock and roll")


# -- phrases -----------------------------------------------------------------------------------------


def test_phrase_matches_consecutive_words_only():
    assert matches('"rema 1000"', "Tilbud hos REMA 1000 i dag")
    assert not matches('"rema 1000"', "rema har 1000 tilbud")
    assert not matches('"rema 1000"', "1000 rema")


def test_phrase_ignores_punctuation_between_words():
    assert matches('"lego group"', "LEGO-Group, Billund")


def test_phrase_does_not_run_from_title_into_text():
    assert not matches('"lego group"', title="Nyt fra LEGO", text="Group sales are up")
    assert matches('"lego group"', title="The LEGO Group", text="")


def test_hyphenated_term_is_a_phrase():
    assert matches("coca-cola", "Coca Cola Zero")
    assert matches("coca-cola", "coca-cola zero")
    assert not matches("coca-cola", "cola og coca")


def test_phrase_with_prefix_word():
    assert matches('"lego frie*"', "lego friends er sjovt")
    assert not matches('"lego frie*"', "lego er min friend")


# -- NEAR ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "distance", "expected"),
    [
        ("ørsted boykot", 1, True),  # adjacent
        ("boykot ørsted", 1, True),  # either order
        ("ørsted x boykot", 1, False),
        ("ørsted x boykot", 2, True),
        ("ørsted x y z boykot", 4, True),
        ("ørsted x y z boykot", 3, False),
        ("boykot x y z ørsted", 4, True),
    ],
)
def test_near_distance_in_words(text, distance, expected):
    assert matches(f"ørsted NEAR/{distance} boykot", text) is expected


def test_near_ordered_requires_left_first():
    assert matches("ørsted NEAR/3f boykot", "ørsted vil boykot")
    assert not matches("ørsted NEAR/3f boykot", "boykot af ørsted")


def test_near_with_phrase_operands_counts_from_the_nearest_ends():
    q = '"rema 1000" NEAR/2 "dårlig service"'
    assert matches(q, "rema 1000 har dårlig service")
    assert matches(q, "dårlig service hos rema 1000")
    assert not matches(q, "rema 1000 har en dårlig service")


def test_near_with_or_group_and_wildcard():
    q = "ørsted NEAR/3 (boykot* OR protest)"
    assert matches(q, "vi boykotter nu Ørsted")
    assert matches(q, "protest mod ørsted")
    assert not matches(q, "protest mod det store danske ørsted")


def test_nested_near_measures_from_the_inner_span():
    q = "(a NEAR/1 b) NEAR/2 c"
    assert matches(q, "a b x c")
    assert matches(q, "c b a")
    assert not matches(q, "a b x y c")
    assert not matches(q, "a x b c")


def test_near_needs_two_distinct_occurrences():
    assert not matches("lego NEAR/3 lego", "lego")
    assert matches("lego NEAR/3 lego", "lego og lego")


def test_near_within_one_field():
    assert not matches("lego NEAR/5 boykot", title="lego", text="boykot")
    assert matches("lego NEAR/5 boykot", title="x", text="boykot lego")
    assert matches("lego NEAR/5 boykot", title="boykot lego", text="x")


# -- wildcards ---------------------------------------------------------------------------------------


def test_prefix_wildcard():
    assert matches("boykott*", "Boykotten fortsætter")
    assert matches("boykott*", "boykott")
    assert not matches("boykott*", "boykot")
    assert matches("boykott*", "anti-boykott")  # the hyphen splits: "boykott" is a word of its own


def test_wildcard_matches_a_word_prefix_not_a_substring():
    assert not matches("kott*", "boykott")


def test_wildcard_covers_hashtags_and_nordic_spellings():
    assert matches("lego*", "#LEGOland")
    assert matches("smør*", "Smörgåsbord")
    assert matches("aal*", "Ålborg")
    assert matches("ål*", "Aalborg")
    assert matches("å*", "Aalborg")


def test_wildcard_prefix_matches_any_spelling_of_aa_and_å():
    # A prefix matches when some spelling of it begins some spelling of the word (å ≡ aa)...
    assert matches("a*", "Aalborg")
    assert matches("a*", "Ålborg")
    assert matches("a*", "år")  # år ≡ aar
    # ... but whole words stay apart
    assert not matches("a", "år")
    assert not matches("ar*", "år")


# -- field scopes ------------------------------------------------------------------------------------

DOC = {
    "title": "LEGO lancerer nyt sæt",
    "text": "Anmeldelse af det nye Ørsted-sæt",
    "author": {"handle": "Brick_Fan", "display_name": "Søren Ålund"},
    "source": "reddit",
    "lang": "da",
    "url": "https://www.Reddit.com/r/lego/comments/abc",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lego ørsted", True),  # default scope: title + text
        ("title:lego", True),
        ("text:lego", False),
        ("title:(lego AND sæt)", True),
        ("title:(lego AND ørsted)", False),  # group scope applies to every term inside
        ("title:lego text:ørsted", True),
        ('title:"nyt sæt"', True),
        ("author:brick_fan", True),
        ("author:@Brick_Fan", True),
        ('author:"søren ålund"', True),
        ('author:"Soeren Aalund"', False),
        ('author:"Sören Aalund"', True),  # ö ≡ ø, aa ≡ å
        ("author:brick", False),  # whole values, not words
        ("author:brick*", True),
        ('author:"søren å*"', True),
        ("source:Reddit", True),
        ("source:red*", True),
        ("NOT source:reddit", False),
        ("lang:da", True),
        ("lang:(nb OR sv)", False),
        ("lang:(da OR nb) lego", True),
        ("url:reddit.com", True),
        ("url:lego", True),
        ("url:https://www.reddit.com/r/lego", True),
        ("url:facebook", False),
        ("title:(lego NEAR/2 sæt)", False),
        ("title:(lego NEAR/3 sæt)", True),
        ("title:(author:brick_fan)", True),  # the inner scope wins
    ],
)
def test_field_scopes(query, expected):
    assert compile_query(query).matches(DOC) is expected


def test_author_may_be_a_string_or_a_list():
    assert matches("author:lego", author="@LEGO")
    assert matches("author:lego", author=["someone", "lego"])
    assert not matches("author:lego", author=None)


def test_missing_keys_are_empty():
    q = compile_query("lego")
    assert not q.matches({})
    assert q.matches({"title": "LEGO"})
    assert compile_query("NOT lang:da").matches({})


# -- Nordic letters, case, tokens ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("Ørsted", "ørsted", True),
        ("Ørsted", "ØRSTED", True),
        ("ørsted", "Orsted", False),
        ("år", "det var et godt år", True),
        ("år", "det var et godt ar", False),
        ("ar", "det var et godt år", False),
        ("smør", "smör", True),
        ("smör", "SMØR", True),
        ("ærø", "Ärö", True),
        ("Aalborg", "Ålborg", True),
        ("Ålborg", "AALBORG", True),
        ("Århus", "Aarhus", True),
        ("café", "CAFE", True),
        ("cafe", "Café", True),
        ("Muller", "Müller", True),
        ("ost", "øst", False),
    ],
)
def test_nordic_letters_and_equivalences(query, text, expected):
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("lego", "Elsker #LEGO!", True),  # a hashtag is found by the plain word
        ("#lego", "Elsker #LEGO!", True),
        ("#lego", "Elsker LEGO!", False),  # ... but #lego finds only the hashtag
        ("lego", "tak @lego", True),
        ("@lego", "tak @lego", True),
        ("@lego", "tak lego", False),
        ("@lego", "mail info@lego.com", False),  # an e-mail address is no @mention
        ("lego.com", "mail info@lego.com", True),
        ("@lego_group", "hej @LEGO_Group", True),
        ("H&M", "Køb tøj hos H&M", True),
        ("h&m", "H&M's nye kollektion", True),
        ("H&M", "h og m", False),
        ('"Rema 1000"', "Rema 1000", True),
        ("ørsted", "Ørsted's aktie", True),
        ("McDonalds", "McDonald's", True),
        ("mcdonald's", "McDonalds", True),
    ],
)
def test_hashtags_handles_and_brand_tokens(query, text, expected):
    assert matches(query, text) is expected


def test_prepared_document_is_reused_across_queries():
    doc = Document.from_mapping(DOC)
    assert Document.from_mapping(doc) is doc
    queries = [compile_query(q) for q in ("lego", "title:ørsted", "source:reddit", "lang:sv")]
    assert [q.matches(doc) for q in queries] == [True, False, True, False]
    assert [q.matches(DOC) for q in queries] == [True, False, True, False]
