"""Label mapping (settings.model_labels or id2label names) and loading arbitrary classification models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.sentiment import LABELS, LabelMappingError, ModelNotFoundError, SentimentModel, label_mapping, parse_label_spec
from streams.settings import Settings

WORDS = ["god", "dårlig", "ok", "fin", "elendig", "app"]


def tiny_model(path: Path, id2label: dict[int, str]) -> Path:
    """A small random BERT classifier with a word-level tokenizer, saved as a transformers directory."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, **{w: i + 4 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", model_max_length=64)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=64, num_labels=len(id2label), id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def settings_for(tmp_path: Path, **kw) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", **kw)


def test_parse_label_spec():
    assert parse_label_spec(" LABEL_0=negative, LABEL_1 = Neutral,LABEL_2=positive ") == {
        "label_0": "negative", "label_1": "neutral", "label_2": "positive",
    }
    with pytest.raises(LabelMappingError, match="LYTTER_MODEL_LABELS"):
        parse_label_spec("LABEL_0=good")
    with pytest.raises(LabelMappingError, match="LYTTER_MODEL_LABELS"):
        parse_label_spec("LABEL_0")


def test_mapping_from_names_in_any_case():
    assert label_mapping({0: "NEG", 1: "Neutral", 2: "POSITIVE"}) == {0: "negative", 1: "neutral", 2: "positive"}
    assert label_mapping({"0": "positive", "1": "negative"}) == {0: "positive", 1: "negative"}


def test_generic_names_need_the_setting():
    with pytest.raises(LabelMappingError, match="LYTTER_MODEL_LABELS"):
        label_mapping({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    spec = "LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive"
    assert label_mapping({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, spec) == {0: "negative", 1: "neutral", 2: "positive"}
    assert label_mapping({0: "LABEL_0", 1: "LABEL_1"}, "0=positive,1=negative") == {0: "positive", 1: "negative"}


def test_bad_mappings_are_explained():
    with pytest.raises(LabelMappingError, match="does not have"):
        label_mapping({0: "LABEL_0", 1: "LABEL_1"}, "LABEL_0=negative,LABEL_7=positive")
    with pytest.raises(LabelMappingError, match="does not map"):
        label_mapping({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, "LABEL_0=negative,LABEL_1=positive")
    with pytest.raises(LabelMappingError, match="negative and positive"):
        label_mapping({0: "negative", 1: "neutral"})


def test_settings_mapping_reorders_probabilities(tmp_path):
    path = tiny_model(tmp_path / "m", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    s = settings_for(tmp_path, model_labels="LABEL_0=positive,LABEL_1=negative,LABEL_2=neutral")
    model = SentimentModel.load(path, settings=s)
    texts = ["god app", "elendig app", "ok"]
    with torch.no_grad():
        raw = torch.softmax(model.model(**model.tokenizer(texts, padding=True, return_tensors="pt")).logits, -1)
    probs = model.probabilities(texts)
    assert torch.allclose(probs[:, LABELS.index("positive")], raw[:, 0], atol=1e-6)
    assert torch.allclose(probs[:, LABELS.index("negative")], raw[:, 1], atol=1e-6)
    assert torch.allclose(probs[:, LABELS.index("neutral")], raw[:, 2], atol=1e-6)
    assert model.precision == "fp32"  # no Lytter manifest: nothing validated a faster precision


def test_many_to_one_and_two_class_models(tmp_path):
    stars = {i: f"{i + 1} stars" for i in range(5)}
    path = tiny_model(tmp_path / "stars", stars)
    spec = "1 stars=negative,2 stars=negative,3 stars=neutral,4 stars=positive,5 stars=positive"
    model = SentimentModel.load(path, settings=settings_for(tmp_path, model_labels=spec))
    with torch.no_grad():
        raw = torch.softmax(model.model(**model.tokenizer(["god app"], return_tensors="pt")).logits, -1)[0]
    [s] = model.predict(["god app"])
    assert s.probabilities["negative"] == pytest.approx(float(raw[0] + raw[1]), abs=1e-6)
    assert s.probabilities["positive"] == pytest.approx(float(raw[3] + raw[4]), abs=1e-6)

    binary = SentimentModel.load(tiny_model(tmp_path / "bin", {0: "NEG", 1: "POS"}), settings=settings_for(tmp_path))
    for r in binary.predict(["god", "dårlig app", "fin"]):
        assert r.probabilities["neutral"] == 0.0
        assert sum(r.probabilities.values()) == pytest.approx(1.0)
        assert r.label in ("negative", "positive")
        assert r.score == pytest.approx(r.probabilities["positive"] - r.probabilities["negative"])


def test_model_path_comes_from_settings(tmp_path):
    path = tiny_model(tmp_path / "m", {0: "negative", 1: "neutral", 2: "positive"})
    model = SentimentModel.load(settings=settings_for(tmp_path, model_path=path))
    assert model.path == path and model.version.startswith("m@")


def test_missing_model_names_the_setting_and_the_command(tmp_path):
    with pytest.raises(ModelNotFoundError) as info:
        SentimentModel.load(settings=settings_for(tmp_path))  # nothing built in this cache dir
    message = str(info.value)
    assert "LYTTER_MODEL_PATH" in message and "lytter model build" in message
    assert str(settings_for(tmp_path).built_model_dir) in message
    assert isinstance(info.value, FileNotFoundError)  # the CLI turns these into one clear line
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        SentimentModel.load(tmp_path / "empty", settings=settings_for(tmp_path))
