"""Evaluate a sentiment model per language and register against the majority and lexicon baselines,
in one run.

For each split (test, dev), language and register: macro-F1, MCC, accuracy and the confusion matrix
(rows: true negative/neutral/positive, columns: predicted) of the model, of the majority class of the
training split and of the AFINN lexicon baseline (``baselines.py``); the model's expected calibration
error (ECE, 15 bins); all languages pooled; the model's accuracy per tag (sarcasm, negation, emoji, ...)
as a pointer to its weak spots; and, where the data names stances per brand (``targets``), the accuracy
of the per-brand sentiment against giving every brand the text's label.

    python -m models.sentiment.evaluate [--split test|dev] [--json]   (= lytter model eval)
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Iterable, Sequence

from models.sentiment.baselines import MajorityBaseline, lexicon_predict
from models.sentiment.dataset import LABELS, LANGS, REGISTERS, Example, Splits, load_examples, split_examples
from models.sentiment.metrics import expected_calibration_error, scores

SYSTEMS = ("model", "majority", "lexicon")
MIN_TAG_COUNT = 8


def _ids(labels: Iterable[str]) -> list[int]:
    return [LABELS.index(label) for label in labels]


def _predict(model, examples: Sequence[Example]):
    """Model labels and probability rows (negative, neutral, positive)."""
    if not examples:
        return [], []
    results = model.predict([e.text for e in examples])
    # a scorer without probabilities (a rule, a fixed answer) is taken as certain of its label
    probs = [[(getattr(r, "probabilities", None) or {r.label: 1.0}).get(label, 0.0) for label in LABELS] for r in results]
    return [r.label for r in results], probs


def evaluate_split(model, examples: Sequence[Example], train: Sequence[Example]) -> dict:
    """{"languages": {lang: {system: scores}}, "registers": {...}, "all": {...}, "tags": {...}, "targets": {...}}."""
    examples = list(examples)
    labels, probs = _predict(model, examples)
    predictions = {"model": labels, "majority": MajorityBaseline(train).predict(examples), "lexicon": lexicon_predict(examples)}
    gold = [e.label for e in examples]

    def block(rows: list[int]) -> dict:
        y = _ids(gold[i] for i in rows)
        out = {system: scores(y, _ids(predictions[system][i] for i in rows), len(LABELS)) for system in SYSTEMS}
        out["model"]["ece"] = expected_calibration_error([probs[i] for i in rows], y)
        return out

    def grouped(values: Sequence[str], key) -> dict:
        present = [v for v in values if any(key(e) == v for e in examples)]
        present += sorted({key(e) for e in examples} - set(present))
        return {v: block([i for i, e in enumerate(examples) if key(e) == v]) for v in present}

    out: dict = {"n": len(examples), "all": block(list(range(len(examples)))) if examples else {}}
    out["languages"] = grouped(LANGS, lambda e: e.lang)
    out["registers"] = grouped(REGISTERS, lambda e: e.register)
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
    out["targets"] = evaluate_targets(model, [e for e in examples if e.targets], labels=dict(zip((e.id for e in examples), labels)))
    return out


def evaluate_targets(model, examples: Sequence[Example], labels: dict[str, str]) -> dict:
    """Per-brand stance accuracy on texts with ``targets``, against every brand inheriting the text's label."""
    if not examples or not hasattr(model, "predict_targets"):
        return {"n": 0}
    pairs = [(e, brand, label) for e in examples for brand, label in e.targets]
    got = model.predict_targets([(e.text, [b for b, _ in e.targets]) for e in examples])
    by_example = {e.id: dict(zip([b for b, _ in e.targets], g)) for e, g in zip(examples, got)}
    correct = sum(by_example[e.id][brand].label == label for e, brand, label in pairs)
    inherited = sum(labels.get(e.id) == label for e, brand, label in pairs)
    return {"n": len(pairs), "texts": len(examples), "accuracy": correct / len(pairs), "inherit_text_label_accuracy": inherited / len(pairs)}


def evaluate(model, splits: Splits | None = None, *, split_names: Sequence[str] = ("dev", "test"), settings=None, data_dir=None) -> dict:
    """Scores of ``model`` (anything with ``predict(texts) -> [.label]``) on the named splits."""
    splits = splits or split_examples(load_examples(data_dir))
    result: dict = {
        "model_version": getattr(model, "version", ""),
        "precision": getattr(model, "precision", ""),
    }
    for name in split_names:
        result[name] = evaluate_split(model, getattr(splits, name), splits.train)
    result["out_of_register"] = out_of_register(getattr(model, "manifest", None))
    return result


def _fmt(x: float) -> str:
    return f"{100 * x:5.1f}"


def table_rows(split_result: dict, by: str = "languages") -> list[list[str]]:
    """Rows: language (or register), n, model macro-F1, MCC and ECE (x100), then macro-F1 and MCC of
    majority and lexicon."""
    rows = []
    items = list(split_result[by].items())
    if split_result.get("all"):
        items.append(("all", split_result["all"]))
    for name, block in items:
        row = [name, str(block["model"]["n"])]
        for system in SYSTEMS:
            row += [_fmt(block[system]["macro_f1"]), _fmt(block[system]["mcc"])]
            if system == "model":
                row.append(_fmt(block["model"].get("ece", float("nan"))))
        rows.append(row)
    return rows


HEADER = ["lang", "n", "model F1", "model MCC", "model ECE", "majority F1", "majority MCC", "lexicon F1", "lexicon MCC"]


def markdown_table(split_result: dict, by: str = "languages") -> str:
    header = [("register" if by == "registers" else "lang"), *HEADER[1:]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.strip() for c in row) + " |" for row in table_rows(split_result, by)]
    return "\n".join(lines)


def out_of_register(manifest: dict | None) -> dict:
    """The recipe search's out-of-register scores of the built recipe, from the model's manifest."""
    search = (((manifest or {}).get("method") or {}).get("search") or {})
    name = (manifest or {}).get("method", {}).get("recipe_name") or search.get("chosen")
    row = (search.get("candidates") or {}).get(search.get("chosen") or "", {})
    return {"recipe": name, "folds": search.get("folds", []), **row} if row else {}


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
        print(markdown_table(result[args.split], by="registers"))


if __name__ == "__main__":
    main()
