"""The intent head: trained deterministically, saved beside the sentiment model, computed in the same pass."""

import json

import pytest
import torch

from models.intent import HEAD_MANIFEST, INTENTS
from models.intent.head import load_head, save_head
from models.intent.train import fit_linear, fit_temperature, predict_ids


def test_the_linear_head_is_deterministic_and_separates_separable_classes():
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(len(INTENTS), 16, generator=g) * 4
    y = torch.arange(len(INTENTS)).repeat(40)
    x = centres[y] + torch.randn(len(y), 16, generator=g)
    w1, b1 = fit_linear(x, y, 1e-3)
    w2, b2 = fit_linear(x, y, 1e-3)
    assert torch.equal(w1, w2) and torch.equal(b1, b2)
    assert sum(p == t for p, t in zip(predict_ids(x, w1, b1), y.tolist())) / len(y) > 0.95


def test_the_temperature_softens_over_confident_logits():
    labels = torch.tensor([0, 1] * 50)
    logits = torch.zeros(100, 2)
    logits[:, 0] = 20.0  # always sure of class 0, right half the time
    assert fit_temperature(logits, labels) > 5
    assert fit_temperature(None, torch.tensor([])) == 1.0


def test_a_head_is_loaded_only_on_the_model_it_was_trained_on(tmp_path):
    (tmp_path / "lytter_manifest.json").write_text(json.dumps({"version": "e5s-aaa"}))
    save_head(tmp_path, torch.ones(5, 8), torch.zeros(5), {"version": "intent-x", "labels": list(INTENTS), "sentiment_model": "e5s-aaa"})
    head = load_head(tmp_path)
    assert head is not None and head(torch.ones(1, 8)).shape == (1, 5)
    manifest = json.loads((tmp_path / HEAD_MANIFEST).read_text())
    (tmp_path / HEAD_MANIFEST).write_text(json.dumps({**manifest, "sentiment_model": "e5s-bbb"}))
    assert load_head(tmp_path) is None
    assert load_head(tmp_path / "nothing") is None


@pytest.fixture(scope="module")
def model(sentiment_model_dir):
    from models.sentiment import SentimentModel

    return SentimentModel.load(sentiment_model_dir, precision="fp32", lanes=1)


def test_the_built_model_gives_intent_from_the_same_pass_without_changing_sentiment(model):
    texts = [
        "@fjordbank hvornår åbner filialen i Aarhus igen?",
        "Kan dere sende meg et nytt kort, det gamle er ødelagt",
        "Tredje gang denne uka at toget er innstilt. Elendig.",
        "Tack för snabb hjälp idag, ni är bäst!",
        "The central bank kept its rate unchanged on Thursday.",
    ]
    assert model.intent_head is not None, "lytter model build trains the intent head"
    pairs = model.predict_with_intent(texts)
    assert [i.label for _, i in pairs] == ["question", "request", "complaint", "praise", "other"]
    assert all(0.2 < i.confidence <= 1.0 and i.source == "model" for _, i in pairs)
    head, model.intent_head = model.intent_head, None
    try:
        alone = model.predict(texts)
    finally:
        model.intent_head = head
    assert [round(s.score, 5) for s, _ in pairs] == [round(s.score, 5) for s in alone]
