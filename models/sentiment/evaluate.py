"""Evaluate a sentiment model per language against the majority and lexicon baselines, in one run.

For each split (test, dev) and language: macro-F1, MCC, accuracy and the confusion matrix (rows: true
negative/neutral/positive, columns: predicted) of the model, of the majority class of the training
split and of the AFINN lexicon baseline (``baselines.py``); plus all languages pooled, and the model's
accuracy per tag (sarcasm, negation, emoji, ...) as a pointer to its weak spots.

    python -m models.sentiment.evaluate [--split test|dev] [--json]   (= lytter model eval)
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Iterable, Sequence

from models.sentiment.baselines import MajorityBaseline, lexicon_predict
from models.sentiment.dataset import LABELS, LANGS, Example, Splits, load_examples, split_examples
from models.sentiment.metrics import scores

SYSTEMS = ("model", "majority", "lexicon")
MIN_TAG_COUNT = 8


def _ids(labels: Iterable[str]) -> list[int]:
    return [LABELS.index(label) for label in labels]


def evaluate_split(model, examples: Sequence[Example], train: Sequence[Example]) -> dict:
    """{"languages": {lang: {system: scores}}, "all": {system: scores}, "tags": {tag: {...}}}."""
    examples = list(examples)
    predictions = {
        "model": [s.label for s in model.predict([e.text for e in examples])] if examples else [],
        "majority": MajorityBaseline(train).predict(examples),
        "lexicon": lexicon_predict(examples),
    }
    gold = [e.label for e in examples]
    langs = [lang for lang in LANGS if any(e.lang == lang for e in examples)]
    langs += sorted({e.lang for e in examples} - set(langs))

    def block(rows: list[int]) -> dict:
        y = _ids(gold[i] for i in rows)
        return {system: scores(y, _ids(predictions[system][i] for i in rows), len(LABELS)) for system in SYSTEMS}

    out: dict = {"n": len(examples), "languages": {}, "all": block(list(range(len(examples)))) if examples else {}}
    for lang in langs:
        out["languages"][lang] = block([i for i, e in enumerate(examples) if e.lang == lang])
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        for tag in e.tags:
            by_tag[tag].append(i)
    out["tags"] = {
        tag: {
            "n": len(rows),
            "model_accuracy": sum(predictions["model"][i] == gold[i] for i in rows) / len(rows),
            "lexicon_accuracy": sum(predictions["lexicon"][i] == gold[i] for i in rows) / len(rows),
        }
        for tag, rows in sorted(by_tag.items())
        if len(rows) >= MIN_TAG_COUNT
    }
    return out


def evaluate(model, splits: Splits | None = None, *, split_names: Sequence[str] = ("dev", "test"), settings=None, data_dir=None) -> dict:
    """Scores of ``model`` (anything with ``predict(texts) -> [.label]``) on the named splits."""
    splits = splits or split_examples(load_examples(data_dir))
    result: dict = {
        "model_version": getattr(model, "version", ""),
        "precision": getattr(model, "precision", ""),
    }
    for name in split_names:
        result[name] = evaluate_split(model, getattr(splits, name), splits.train)
    return result


def _fmt(x: float) -> str:
    return f"{100 * x:5.1f}"


def table_rows(split_result: dict) -> list[list[str]]:
    """Rows: language, n, then macro-F1 and MCC (x100) of model, majority, lexicon."""
    rows = []
    items = list(split_result["languages"].items())
    if split_result.get("all"):
        items.append(("all", split_result["all"]))
    for lang, block in items:
        n = block["model"]["n"]
        row = [lang, str(n)]
        for system in SYSTEMS:
            row += [_fmt(block[system]["macro_f1"]), _fmt(block[system]["mcc"])]
        rows.append(row)
    return rows


HEADER = ["lang", "n", "model F1", "model MCC", "majority F1", "majority MCC", "lexicon F1", "lexicon MCC"]


def markdown_table(split_result: dict) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.strip() for c in row) + " |" for row in table_rows(split_result)]
    return "\n".join(lines)


def confusion_text(block: dict) -> str:
    cm = block["confusion"]
    head = "true\\pred " + " ".join(f"{label[:3]:>5}" for label in LABELS)
    return "\n".join([head] + [f"{LABELS[i][:3]:>9} " + " ".join(f"{v:5d}" for v in row) for i, row in enumerate(cm)])


def main(argv: list[str] | None = None) -> None:
    import argparse

    from models.sentiment import SentimentModel

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = evaluate(SentimentModel.load(), split_names=[args.split])
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(f"model {result['model_version']} ({result['precision']}), split {args.split}")
        print(markdown_table(result[args.split]))


if __name__ == "__main__":
    main()
