"""The labelled pairs (models/stories/pairs.jsonl) and the evaluation at the chosen threshold."""

from __future__ import annotations

from collections import Counter

import pytest

from models.stories.evaluate import LANGS, evaluate, joined, load_pairs
from streams.stories.index import DEFAULT_THRESHOLD

PAIRS = load_pairs()


def test_pairs_file_covers_every_language_with_both_labels():
    per_lang = Counter(r["lang"] for r in PAIRS)
    assert set(per_lang) == set(LANGS) and min(per_lang.values()) >= 60
    for lang in LANGS:
        same = sum(1 for r in PAIRS if r["lang"] == lang and r["same_story"])
        assert 0.4 <= same / per_lang[lang] <= 0.6
    assert len({r["id"] for r in PAIRS}) == len(PAIRS)


@pytest.mark.parametrize("kind", ["repost", "quote", "feed", "short_copy"])
def test_every_copy_of_these_kinds_joins(kind):
    rows = [r for r in PAIRS if r["kind"] == kind]
    assert rows and all(joined(r, DEFAULT_THRESHOLD) for r in rows)


@pytest.mark.parametrize("kind", ["paraphrase", "template", "short"])
def test_no_pair_of_these_kinds_joins(kind):
    rows = [r for r in PAIRS if r["kind"] == kind]
    assert rows and not any(joined(r, DEFAULT_THRESHOLD) for r in rows)


def test_quality_per_language_at_the_chosen_threshold():
    result, _errors = evaluate(PAIRS, DEFAULT_THRESHOLD)
    for lang in LANGS:
        assert result[lang]["precision"] >= 0.95 and result[lang]["recall"] >= 0.95, (lang, result[lang])
    assert result["overall"]["f1"] >= 0.97
