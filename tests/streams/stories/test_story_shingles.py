"""Text normalisation and shingles of story assignment."""

from __future__ import annotations

from streams.stories.shingles import MIN_WORDS, exact_key, normalize, shingles, words


def test_normalize_removes_what_differs_between_copies():
    original = "Lego åbner ny fabrik i Vejle"
    copies = [
        "RT @anna_k: Lego åbner ny fabrik i Vejle! https://t.co/AbC123",
        "LEGO ÅBNER NY FABRIK I VEJLE via @dr_nyheder",
        "#Lego åbner   ny fabrik i Vejle 🎉 www.example.dk/x?utm=1",
        "Lego åbner ny fabrik i Vejle.",
    ]
    assert normalize(original) == "lego åbner ny fabrik i vejle"
    assert {normalize(c) for c in copies} == {normalize(original)}


def test_letters_of_all_five_languages_survive():
    text = "Smørrebrød, blåbær og æbler · Kjøtt på Ærø · Smörgås och ärtor · Ålesund"
    assert normalize(text) == "smørrebrød blåbær og æbler kjøtt på ærø smörgås och ärtor ålesund"
    assert normalize("ｆｕｌｌ ｗｉｄｔｈ") == "full width"  # NFKC folds copy-pasted full-width letters
    assert normalize("a\u030a") == normalize("å")  # decomposed ring above composes


def test_word_three_grams_and_the_short_text_fallback():
    tokens = words("Carlsberg hæver prisen på øl")
    assert shingles(tokens) == {"carlsberg hæver prisen", "hæver prisen på", "prisen på øl"}
    short = words("Tak for hjælpen!")
    assert len(short) < MIN_WORDS
    assert shingles(short) == {"tak for hjælpen"}  # one shingle: only an exact copy matches
    assert exact_key(short) == exact_key(words("RT @x: tak for HJÆLPEN"))
    assert exact_key(short) != exact_key(words("Tak for svar"))
    assert shingles([]) == set()
