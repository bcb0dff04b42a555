"""The quality gate: the built model on the test split, per language, against both baselines in the
same run, and its calibration. These fail when a change makes the model worse than the bar."""

from __future__ import annotations

import pytest

from models.sentiment.dataset import LANGS
from models.sentiment.evaluate import evaluate

LEXICON_MARGIN = 0.15  # macro-F1 points over AFINN
MAJORITY_MARGIN = 0.40  # over always answering the training split's majority class
MAX_ECE = 0.08


@pytest.fixture(scope="module")
def test_scores(fp32_model):
    return evaluate(fp32_model, split_names=["test"])["test"]


@pytest.mark.parametrize("lang", LANGS)
def test_beats_both_baselines_by_the_margin(test_scores, lang):
    block = test_scores["languages"][lang]
    model, lexicon, majority = (block[s]["macro_f1"] for s in ("model", "lexicon", "majority"))
    assert model >= lexicon + LEXICON_MARGIN, f"{lang}: model {model:.3f} vs lexicon {lexicon:.3f}"
    assert model >= majority + MAJORITY_MARGIN, f"{lang}: model {model:.3f} vs majority {majority:.3f}"


@pytest.mark.parametrize("lang", LANGS)
def test_probabilities_mean_what_they_say(test_scores, lang):
    ece = test_scores["languages"][lang]["model"]["ece"]
    assert ece <= MAX_ECE, f"{lang}: expected calibration error {ece:.3f}"
    assert test_scores["all"]["model"]["ece"] <= MAX_ECE


def test_every_register_is_scored_and_none_collapses(test_scores):
    for register, block in test_scores["registers"].items():
        assert block["model"]["macro_f1"] >= block["lexicon"]["macro_f1"], register


def test_brand_stances_beat_inheriting_the_text_label(test_scores):
    targets = test_scores["targets"]
    assert targets["n"] >= 20
    assert targets["accuracy"] > targets["inherit_text_label_accuracy"]
