"""Reading the labelled data, the baselines, and the evaluation's bookkeeping (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.sentiment.baselines import MajorityBaseline, label_of_score, lexicon_for
from models.sentiment.dataset import DataError, Example, data_fingerprint, load_examples, split_examples
from models.sentiment.evaluate import evaluate, markdown_table


def row(i: int, text: str, label: str, lang: str = "da", split: str = "train", **extra) -> dict:
    return {"id": f"{lang}-{i}", "text": text, "label": label, "lang": lang, "split": split, "tags": [], **extra}


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_reads_every_file_and_checks_rows(tmp_path):
    write(tmp_path / "da.jsonl", [row(1, "Godt", "positive"), row(2, "Skidt", "negative", split="test")])
    write(tmp_path / "sv.jsonl", [row(1, "Bra", "positive", lang="sv", split="dev")])
    examples = load_examples(tmp_path)
    assert [(e.id, e.lang, e.split) for e in examples] == [("da-1", "da", "train"), ("da-2", "da", "test"), ("sv-1", "sv", "dev")]
    assert examples[0].label_id == 2

    write(tmp_path / "en.jsonl", [row(1, "Fine", "good", lang="en")])
    with pytest.raises(DataError, match=r"en\.jsonl:1: label 'good'"):
        load_examples(tmp_path)
    (tmp_path / "en.jsonl").write_text('{"id": "en-1", "text": "x"\n')
    with pytest.raises(DataError, match=r"en\.jsonl:1: not JSON"):
        load_examples(tmp_path)
    write(tmp_path / "en.jsonl", [row(1, "Again", "positive", lang="da")])
    with pytest.raises(DataError, match="already used"):
        load_examples(tmp_path)  # id da-1 twice


def test_training_never_sees_dev_or_test_texts():
    examples = [
        Example("1", "Super god app!", "positive", "da", "train"),
        Example("2", "super  GOD app!", "positive", "da", "test"),  # same text up to case and spaces
        Example("3", "Elendig", "negative", "da", "train"),
        Example("4", "Ok", "neutral", "da", "dev"),
    ]
    s = split_examples(examples)
    assert [e.id for e in s.train] == ["3"] and [e.id for e in s.dropped_from_train] == ["1"]
    assert [e.id for e in s.test] == ["2"] and [e.id for e in s.dev] == ["4"]


def test_fingerprint_ignores_order_but_not_content():
    a = [Example("1", "x", "positive", "da", "train"), Example("2", "y", "negative", "da", "dev")]
    assert data_fingerprint(a) == data_fingerprint(list(reversed(a)))
    assert data_fingerprint(a) != data_fingerprint([a[0], Example("2", "y", "neutral", "da", "dev")])


def test_lexicons_per_language():
    assert lexicon_for("da").score("Det er en god og fantastisk dag") > 0  # god +3, fantastisk +4
    assert lexicon_for("nb").score("Dårlig service, jeg er skuffet") < 0
    assert lexicon_for("en").score("This is terrible :(") < 0
    assert lexicon_for("sv").score("Riktigt bra, jag älskar det") > 0  # the hand-written Swedish list
    assert lexicon_for("sv").score("Fantastisk utsikt") > 0  # AFINN-da shared vocabulary
    assert lexicon_for("sv").score("Det var sämsta köpet jag gjort") < 0
    assert lexicon_for("da").score("Bussen kører klokken otte") == 0
    assert [label_of_score(x) for x in (2.0, 0.0, -1.0)] == ["positive", "neutral", "negative"]


def test_majority_per_language_with_fallback():
    train = [
        Example("1", "a", "positive", "da", "train"), Example("2", "b", "positive", "da", "train"),
        Example("3", "c", "negative", "da", "train"), Example("4", "d", "neutral", "sv", "train"),
    ]
    m = MajorityBaseline(train)
    assert m.label_for("da") == "positive" and m.label_for("sv") == "neutral"
    assert m.label_for("en") == "positive"  # no English training data: the overall majority
    tie = MajorityBaseline([Example("1", "a", "positive", "da", "train"), Example("2", "b", "negative", "da", "train")])
    assert tie.label_for("da") == "negative"  # ties go to the first of negative, neutral, positive


class FixedModel:
    version = "fixed-1"
    precision = "fp32"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def predict(self, texts):
        class R:
            def __init__(self, label):
                self.label = label

        return [R(self.answers[t]) for t in texts]


def test_evaluate_reports_model_and_baselines_per_language(tmp_path):
    rows = [
        row(1, "god", "positive"), row(2, "dårlig", "negative"), row(3, "bord", "neutral"),
        row(4, "fin dag", "positive", split="test", tags=["emoji"]), row(5, "elendig", "negative", split="test"),
        row(6, "stol", "neutral", split="test"),
        row(7, "bra", "positive", lang="sv", split="test"), row(8, "usel", "negative", lang="sv", split="test"),
    ]
    write(tmp_path / "x.jsonl", rows)
    splits = split_examples(load_examples(tmp_path))
    answers = {"fin dag": "positive", "elendig": "negative", "stol": "positive", "bra": "positive", "usel": "negative"}
    result = evaluate(FixedModel(answers), splits, split_names=["test"])
    assert result["model_version"] == "fixed-1"
    da = result["test"]["languages"]["da"]
    assert da["model"]["confusion"] == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    assert da["model"]["accuracy"] == pytest.approx(2 / 3)
    assert da["majority"]["confusion"] == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]  # da train tie -> negative
    assert result["test"]["languages"]["sv"]["model"]["macro_f1"] == pytest.approx(2 / 3)  # neutral absent: F1 0
    assert result["test"]["all"]["model"]["n"] == 5
    assert set(result["test"]["languages"]) == {"da", "sv"}
    table = markdown_table(result["test"])
    assert table.splitlines()[0].startswith("| lang | n | model F1") and "| all | 5 |" in table
