"""Intent evaluation: per language, macro-F1 of the model's intent head and of the rule baseline on the
same texts, in register (the written texts' test split) and out of register (each register held out of
the head's training in turn, scored on that register's written dev + test texts).

    python -m models.intent.evaluate [--json] [--precision int8]

The in-register figures use the shipped head through the production path
(``SentimentModel.predict_with_intent``, in the chosen precision); the out-of-register figures retrain the
head per held-out register on fp32 features with the shipped head's penalty.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from models.intent import INTENTS
from models.intent.dataset import LANGS, load_examples
from models.intent.rules import rule_intent
from models.intent.train import featurize, fit_linear, macro_f1, predict_ids


def _by_lang(items, pred, gold) -> dict[str, dict]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(items):
        groups[e.lang].append(i)
        groups["all"].append(i)
    return {lang: {"n": len(ix), "macro_f1": round(100 * macro_f1([gold[i] for i in ix], [pred[i] for i in ix]), 1)}
            for lang, ix in groups.items()}


def in_register(model, examples) -> dict:
    test = [e for e in examples if e.written and e.split == "test"]
    gold = [e.label_id for e in test]
    from models.sentiment.metrics import expected_calibration_error

    probabilities = model.analyse([e.text for e in test])[1].tolist()  # the production path's intent head
    model_pred = [max(range(len(INTENTS)), key=row.__getitem__) for row in probabilities]
    rules_pred = [INTENTS.index(rule_intent(e.text, e.lang).label) for e in test]
    return {"model": _by_lang(test, model_pred, gold), "rules": _by_lang(test, rules_pred, gold),
            "ece": round(100 * expected_calibration_error(probabilities, gold), 1)}


def out_of_register(fp32_model, examples, penalty: float) -> dict:
    import torch

    x = featurize(fp32_model, [e.text for e in examples])
    y = torch.tensor([e.label_id for e in examples])
    pool = [i for i, e in enumerate(examples) if e.split == "train"]
    model_pred: dict[int, int] = {}
    for register in sorted({e.register for e in examples}):
        train = [i for i in pool if examples[i].register != register]
        held = [i for i, e in enumerate(examples) if e.register == register and e.written and e.split != "train"]
        if not held:
            continue
        weight, bias = fit_linear(x[train], y[train], penalty)
        model_pred.update(zip(held, predict_ids(x[held], weight, bias)))
    ids = sorted(model_pred)
    items = [examples[i] for i in ids]
    gold = [examples[i].label_id for i in ids]
    rules = [INTENTS.index(rule_intent(e.text, e.lang).label) for e in items]
    return {"model": _by_lang(items, [model_pred[i] for i in ids], gold), "rules": _by_lang(items, rules, gold)}


def evaluate(settings=None, precision: str | None = None) -> dict:
    from models.intent.head import read_head_manifest
    from models.sentiment import SentimentModel
    from streams.settings import get_settings

    settings = settings or get_settings()
    model_dir = settings.resolved_model_path()
    manifest = read_head_manifest(model_dir)
    if manifest is None:
        raise SystemExit(f"{model_dir}: no intent head; run `lytter model build` first")
    examples = load_examples()
    model = SentimentModel.load(model_dir, settings=settings, precision=precision)
    fp32 = SentimentModel.load(model_dir, settings=settings, precision="fp32", lanes=1)
    return {
        "head": manifest["version"], "precision": model.precision, "penalty": manifest["penalty"],
        "in_register": in_register(model, examples), "out_of_register": out_of_register(fp32, examples, manifest["penalty"]),
    }


def print_table(result: dict) -> None:
    print(f"intent head {result['head']} ({result['precision']}), macro-F1 (%) model vs rule baseline; "
          f"in-register ECE {result['in_register']['ece']} %")
    print(f"{'lang':6}{'in-register n':>15}{'model':>8}{'rules':>8}{'out-of-reg n':>15}{'model':>8}{'rules':>8}")
    for lang in (*LANGS, "all"):
        a, b = result["in_register"], result["out_of_register"]
        if lang not in a["model"]:
            continue
        print(f"{lang:6}{a['model'][lang]['n']:>15}{a['model'][lang]['macro_f1']:>8}{a['rules'][lang]['macro_f1']:>8}"
              f"{b['model'].get(lang, {}).get('n', 0):>15}{b['model'].get(lang, {}).get('macro_f1', 0):>8}{b['rules'].get(lang, {}).get('macro_f1', 0):>8}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.intent.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--precision", choices=("auto", "fp32", "int8", "bf16"), default=None, help="production precision (default: the settings')")
    args = parser.parse_args(argv)
    result = evaluate(precision=args.precision)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
