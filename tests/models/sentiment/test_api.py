"""The built model through the Python API, transformers' own loaders, and the CLI."""

from __future__ import annotations

import json

import pytest
import torch

from models.sentiment import LABELS, SentimentModel
from models.sentiment.train import MANIFEST, read_manifest

TEXTS = [
    "Elsker den nye app fra Danske Bank – endelig virker MobilePay-integrationen 😍",
    "Ventede 50 minutter i telefonkø hos Telia, og så blev jeg afbrudt. Aldrig igen.",
    "Netto har åbent til kl. 22 i dag.",
    "Norwegian kansellerte flyet mitt igjen. Helt elendig!",
    "Eg er så nøgd med den nye sykkelen frå XXL, han er kjempefin",
    "Tåget från Stockholm avgår 14.05 från spår 3.",
    "Bästa kaffet i stan, personalen är supertrevlig!",
    "The battery on this phone dies after two hours, total waste of money",
    "ok",
    "Ærligt talt er Carlsberg ikke så ringe endda, men prisen er for høj i forhold til kvaliteten, og "
    "leveringen tog tre uger, hvilket er alt for lang tid når man har betalt for ekspreslevering.",
]


def test_predict_contract(fp32_model, built_model_dir):
    results = fp32_model.predict(TEXTS)
    assert len(results) == len(TEXTS)
    version = read_manifest(built_model_dir)["version"]
    for r in results:
        assert r.label in LABELS
        assert list(r.probabilities) == list(LABELS)
        assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert all(0.0 <= p <= 1.0 for p in r.probabilities.values())
        assert r.label == max(r.probabilities, key=r.probabilities.get)
        assert -1.0 <= r.score <= 1.0
        assert r.score == pytest.approx(r.probabilities["positive"] - r.probabilities["negative"])
        assert r.model_version == version and version.startswith("e5s-")
    assert fp32_model.predict([]) == []


def test_batch_equals_one_by_one(fp32_model):
    batch = fp32_model.probabilities(TEXTS)
    single = torch.cat([fp32_model.probabilities([t]) for t in TEXTS])
    assert torch.allclose(batch, single, atol=1e-5), (batch - single).abs().max()


def test_default_precision_agrees_with_fp32(fp32_model, built_model_dir, model_settings):
    fast = SentimentModel.load(built_model_dir, settings=model_settings)  # auto: what production uses
    assert fast.precision in ("fp32", "int8", "bf16")
    a, b = fp32_model.probabilities(TEXTS), fast.probabilities(TEXTS)
    # where fp32 is decided (top two probabilities 0.2 apart) the reduced precision decides the same;
    # a near tie may flip, but only by a small change in the probabilities
    top = a.topk(2, dim=-1).values
    decided = (top[:, 0] - top[:, 1]) > 0.2
    assert decided.sum() >= len(TEXTS) // 2
    assert bool((a.argmax(-1) == b.argmax(-1))[decided].all()), (a, b)
    assert (a - b).abs().max() < 0.15
    single = torch.cat([fast.probabilities([t]) for t in TEXTS])
    # reduced precision: batch ~ single (int8's dynamic activation scales are per batch, so looser)
    assert (fast.probabilities(TEXTS) - single).abs().max() < (0.1 if fast.precision == "int8" else 0.05)


def test_clear_cases(fp32_model):
    clear = {
        "Jeg elsker det her produkt, fantastisk kvalitet og super service! 😍": "positive",
        "Elendig kundeservice. Jeg er så skuffet og vred, aldrig igen!": "negative",
        "Det här är den sämsta mobil jag någonsin köpt, värdelös!": "negative",
        "Helt fantastisk opplevelse, tusen takk til alle de ansatte!": "positive",
        "I absolutely love this, best purchase I have made all year!": "positive",
        "This is the worst service I have ever experienced. Terrible.": "negative",
    }
    got = [r.label for r in fp32_model.predict(list(clear))]
    assert got == list(clear.values())


def test_fast_pooling_is_the_exported_layer(built_model_dir, model_settings, fp32_model):
    assert fp32_model.fast_pooling
    full = SentimentModel.load(built_model_dir, settings=model_settings, precision="fp32", fast_pooling=False)
    assert torch.allclose(fp32_model.probabilities(TEXTS), full.probabilities(TEXTS), atol=1e-5)


def test_loads_with_plain_transformers(built_model_dir, fp32_model):
    from transformers import AutoConfig, AutoModelForSequenceClassification, pipeline

    config = AutoConfig.from_pretrained(built_model_dir)
    assert config.architectures == ["BertForSequenceClassification"]
    assert config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    model = AutoModelForSequenceClassification.from_pretrained(built_model_dir)
    assert type(model).__name__ == "BertForSequenceClassification"
    pipe = pipeline("text-classification", model=str(built_model_dir), device=-1)
    ours = fp32_model.predict(TEXTS)
    for text, mine in zip(TEXTS, ours):
        [theirs] = pipe(text)
        assert theirs["label"] == mine.label
        assert theirs["score"] == pytest.approx(mine.probabilities[mine.label], abs=1e-4)


def test_query_prefix_is_in_the_tokenizer(fp32_model, base_tokenizer):
    # the classifier's tokenizer adds e5's "query: " itself, so any transformers user feeds what it was trained on
    # (the vocabulary is pruned, so ids differ from e5's; the pieces are the same)
    for text in ("Hej med dig", "Bästa kaffet i stan!"):
        ours = fp32_model.tokenizer.convert_ids_to_tokens(fp32_model.tokenizer(text)["input_ids"])
        assert ours == base_tokenizer.convert_ids_to_tokens(base_tokenizer("query: " + text)["input_ids"])


def test_pruned_vocabulary_is_small_and_tokenises_nordic_text_as_before(fp32_model, base_tokenizer):
    assert len(fp32_model.tokenizer) < 60_000 < len(base_tokenizer)
    texts = [t for t in TEXTS if "XXL" not in t]
    same = [fp32_model.tokenizer.convert_ids_to_tokens(fp32_model.tokenizer(t)["input_ids"])
            == base_tokenizer.convert_ids_to_tokens(base_tokenizer("query: " + t)["input_ids"]) for t in texts]
    assert sum(same) >= len(texts) - 1
    [r] = fp32_model.predict(["漢字とかな"])  # a script the pruned model does not keep still scores
    assert r.label in LABELS


def test_long_texts_are_scored_by_their_chunks_not_cut_off(fp32_model):
    head = "Vi hadde en nydelig ferie i Bergen, og hotellet ved Bryggen var koselig og rent. " * 10
    tail = "Men hotellet var en katastrofe: skittent, bråkete og frekt personale. Aldri igjen, helt forferdelig! " * 6
    assert len(fp32_model.tokenizer(head + tail)["input_ids"]) > 2 * fp32_model.max_length
    [whole] = fp32_model.predict([head + tail])
    [truncated] = fp32_model.predict([fp32_model.tokenizer.decode(fp32_model.tokenizer(head + tail, truncation=True, max_length=fp32_model.max_length, add_special_tokens=False)["input_ids"])])
    assert whole.score < truncated.score - 0.2  # the complaint past token 128 counts
    chunks = fp32_model._chunks(head + tail)
    assert len(chunks) >= 2 and all(len(c) <= fp32_model.max_length for c in chunks)
    probs = fp32_model._row_probabilities(chunks)
    weights = torch.tensor([float(len(c)) for c in chunks]).unsqueeze(1)
    expected = (probs * weights).sum(0) / weights.sum()
    assert torch.allclose(fp32_model.probabilities([head + tail])[0], expected, atol=1e-5)


def test_one_sentiment_per_brand(fp32_model):
    brands = ["Fjordbank", "Nordlys Energi"]
    [[fjord, nordlys]] = fp32_model.predict_targets([("Fjordbank er mye bedre enn Nordlys Energi", brands)])
    assert (fjord.label, nordlys.label) == ("positive", "negative")
    [[a, b]] = fp32_model.predict_targets([("Nordlys Energi svarer aldri og er elendig, men Fjordbank var fantastisk hjelpsomme!", brands)])
    assert (a.label, b.label) == ("positive", "negative")
    # one brand: exactly the text's own sentiment
    text = "Fjordbank har åpnet et nytt kontor i Tromsø."
    [[only]] = fp32_model.predict_targets([(text, ["Fjordbank"])])
    assert only == fp32_model.predict([text])[0]


def test_threads_from_settings(built_model_dir, model_settings):
    before = torch.get_num_threads()
    try:
        SentimentModel.load(built_model_dir, settings=model_settings.model_copy(update={"model_threads": 1}), precision="fp32")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_lanes_split_threads_and_give_the_same_probabilities(built_model_dir, model_settings, fp32_model):
    before = torch.get_num_threads()
    try:
        settings = model_settings.model_copy(update={"model_threads": 2, "model_lanes": 0})
        laned = SentimentModel.load(built_model_dir, settings=settings, precision="fp32", batch_size=2)
        assert laned.lanes == 2 and torch.get_num_threads() == 1  # 0 = one lane per thread, one torch thread each
        texts = TEXTS * 3  # several buckets, so the two lanes both work
        assert torch.allclose(laned.probabilities(texts), fp32_model.probabilities(texts), atol=1e-5)
        one = SentimentModel.load(built_model_dir, settings=settings.model_copy(update={"model_lanes": 1}), precision="fp32")
        assert one.lanes == 1 and torch.get_num_threads() == 2  # one lane on all threads
    finally:
        torch.set_num_threads(before)


def test_manifest(built_model_dir):
    m = json.loads((built_model_dir / MANIFEST).read_text())
    assert m["version"].startswith("e5s-") and m["trained_at"] and m["seed"]
    assert len(m["data_sha256"]) == 64 and len(m["code_sha256"]) == 64
    assert m["labels"] == list(LABELS)
    for split in ("dev", "test"):
        block = m["scores"][split]
        assert set(block["languages"]) == set(m["data"])
        assert set(block["registers"]) == {r for regs in m["registers"].values() for r in regs}
        for scores in (*block["languages"].values(), *block["registers"].values()):
            assert set(scores) == {"model", "majority", "lexicon"} and "ece" in scores["model"]
    assert m["inference"]["precision"]["fp32"]["agreement"] == 1.0
    method = m["method"]
    assert method["recipe_name"] == method["search"]["chosen"] and method["temperature"] > 0
    assert m["build"]["size_mb"] <= 150, "the pruned model should stay under 150 MB"


def test_cli_score_and_eval(built_model_dir, monkeypatch):
    from typer.testing import CliRunner

    from streams.cli.model import app
    from streams.settings import get_settings

    monkeypatch.setenv("LYTTER_MODEL_PATH", str(built_model_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(app, ["score", "Jeg elsker det her, fantastisk!", "--json"])
        assert out.exit_code == 0, out.output
        [row] = json.loads(out.stdout)
        assert row["label"] == "positive" and row["model_version"].startswith("e5s-")
        assert {"label", "score", "probabilities", "model_version"} <= set(row)  # what tools outside read
        assert row["lang"] == "da" and 0 < row["lang_confidence"] <= 1
        out = runner.invoke(app, ["score", "Elendig service"])
        assert out.exit_code == 0 and "negative" in out.output and "e5s-" in out.output
        out = runner.invoke(app, ["eval", "--split", "dev", "--json"])
        assert out.exit_code == 0, out.output
        assert "languages" in json.loads(out.stdout)["dev"]
        out = runner.invoke(app, ["eval", "--split", "dev"])
        assert out.exit_code == 0 and "lexicon F1" in out.output and "all" in out.output
        assert "by register" in out.output and "out-of-register" in out.output and "ECE" in out.output

        out = runner.invoke(app, ["score", "--json", "-"], input="Helt fantastisk service!\n\nElendig app, den crasher hele tiden\n")
        assert out.exit_code == 0, out.output
        assert [r["label"] for r in json.loads(out.stdout)] == ["positive", "negative"]
        texts = built_model_dir.parent / "lytter-score-test.txt"
        texts.write_text("Tusen takk for hjelpen!\n", encoding="utf-8")
        try:
            out = runner.invoke(app, ["score", "--json", "--file", str(texts)])
            assert out.exit_code == 0 and json.loads(out.stdout)[0]["label"] == "positive"
        finally:
            texts.unlink()
        out = runner.invoke(app, ["score", "--file", str(texts)])
        assert out.exit_code == 1 and str(texts) in out.output
        out = runner.invoke(app, ["score"])
        assert out.exit_code == 1 and "nothing to score" in out.output

        monkeypatch.setenv("LYTTER_MODEL_PATH", str(built_model_dir / "nope"))
        get_settings.cache_clear()
        out = runner.invoke(app, ["score", "hej"])
        assert out.exit_code == 1 and "LYTTER_MODEL_PATH" in out.output
    finally:
        get_settings.cache_clear()
