"""The data checks themselves: exact near-duplicate search, template filler, lexicon coverage, kappa."""

from __future__ import annotations

import random

import pytest

from models.sentiment.agreement import cohen_kappa
from models.sentiment.quality import jaccard, lexicon_coverage, near_duplicates, template_filler, tokens


def test_near_duplicates_are_found_exactly_as_brute_force_would():
    rng = random.Random(3)
    words = [f"w{i}" for i in range(40)]
    items = [(str(i), " ".join(rng.sample(words, rng.randint(2, 9)))) for i in range(300)]
    items += [("copy", items[5][1] + " " + items[5][1].split()[0]), ("case", items[7][1].upper() + "!")]
    sets = [frozenset(tokens(t)) for _, t in items]
    brute = {(items[i][0], items[j][0]) for i in range(len(items)) for j in range(i + 1, len(items)) if jaccard(sets[i], sets[j]) > 0.8}
    found = {(p.a, p.b) if p.a < p.b else (p.b, p.a) for p in near_duplicates(items)}
    assert {tuple(sorted(x)) for x in brute} == found
    assert ("5", "copy") in found or ("copy", "5") in found


def test_template_filler_is_flagged():
    same_skeleton = [("a", "Jeg elsker Netto fordi de har 5 gode tilbud hver uge"), ("b", "Jeg elsker Rema fordi de har 7 gode tilbud hver uge")]
    assert any("skeleton" in p for p in template_filler(same_skeleton))
    openings = [(str(i), f"Hvad synes I om {w} og alt det andet her") for i, w in enumerate(f"ord{i}" for i in range(30))]
    assert any("open with" in p for p in template_filler(openings))
    varied = [("x", "Toget var forsinket igen i morges."), ("y", "Fantastisk kaffe hos bageren på hjørnet!")]
    assert template_filler(varied) == []


def test_lexicon_coverage_counts_inflections_and_symbols():
    texts = ["Sikke en advarsel, og flere advarsler kom", "Det var afskyeligt :-)"]
    assert lexicon_coverage(texts, ["advarslerne", "afskyelige", ":-)", "fantastisk"], "da") == ["fantastisk"]
    assert lexicon_coverage(["mod:"], ["d:"], "da") == ["d:"]  # a symbol entry must stand on its own


def test_cohen_kappa_by_hand():
    a = ["positive", "positive", "negative", "neutral"]
    assert cohen_kappa(a, a) == 1.0
    b = ["positive", "negative", "negative", "neutral"]
    # observed 3/4; expected (2*1 + 1*2 + 1*1)/16 = 5/16 -> (0.75 - 0.3125) / 0.6875
    assert cohen_kappa(a, b) == pytest.approx((0.75 - 0.3125) / 0.6875)
