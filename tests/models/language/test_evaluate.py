"""The short-text evaluation: lingua with the stream's priors against lingua alone, in one run."""

import pytest

from models.language.evaluate import BUCKETS, LANGS, evaluate, format_report, load


@pytest.fixture(scope="module")
def result():
    return evaluate()


def test_the_set_has_150_items_per_language_mostly_short():
    items = load()
    for lang in ("da", "nb", "nn", "sv", "en"):
        mine = [it for it in items if it["lang"] == lang]
        assert len(mine) >= 150
        assert sum(len(it["text"].split()) <= 15 for it in mine) >= 0.9 * len(mine)
        assert any(it.get("parent") for it in mine) and any(it.get("author_history") for it in mine)


def test_priors_are_never_worse_than_lingua_alone(result):
    alone, priors = result["sides"]["lingua"]["accuracy"], result["sides"]["priors"]["accuracy"]
    for lang in LANGS:
        for b in BUCKETS + ("all",):
            key = f"{lang}|{b}"
            if alone[key] is not None:
                assert priors[key] >= alone[key], key


def test_priors_meet_the_short_text_targets(result):
    alone, priors = result["sides"]["lingua"], result["sides"]["priors"]
    assert priors["accuracy"]["all|<=5"] >= 0.90 > alone["accuracy"]["all|<=5"]
    assert priors["wrong_variety|<=5"] <= 0.08 < alone["wrong_variety|<=5"]
    assert priors["wrong_variety|all"] <= 0.08
    assert priors["da_nb|<=5"] < alone["da_nb|<=5"]
    # Not met: Nynorsk alone at <= 5 words stays well below 90 % (about 83 %): see models/language/README.md.
    assert priors["accuracy"]["nn|<=5"] >= 0.80


def test_report_prints_both_sides(result):
    text = format_report(result)
    assert "lingua alone -> with priors" in text and "Nynorsk taken for Bokmål" in text
