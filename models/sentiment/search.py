"""Choose the training recipe on registers held out of training (``lytter model search``).

A model selected on a dev split drawn from its own training pool is rewarded for fitting that pool. Here
every candidate is trained once per fold with whole registers left out (news+press, debate+blog,
forum+review, social+customer_service) and scored on the left-out registers' train and dev items, never
on test. Its out-of-register (OOR) macro-F1 is the mean over the folds; the in-register dev macro-F1
(trained on all registers' train items, scored on dev) is reported beside it.

Each candidate's step count (frozen heads) or epoch count (tuned layers) is chosen by the same OOR
mean. The winner is the best OOR macro-F1; among candidates within ``SPEED_TOLERANCE`` of it, the one
with the fewest layers (fastest), then the frozen one (cheapest to build). It is written with every
candidate's scores to ``recipe.json``, which ``lytter model build`` trains.

    python -m models.sentiment.search [--only NAME ...]      (= lytter model search)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable, Sequence

from models.sentiment.dataset import LABELS, Example, data_fingerprint, load_examples, split_examples
from models.sentiment.recipe import Recipe, RecipeFile, save_recipe

FOLDS: tuple[tuple[str, ...], ...] = (("news", "press"), ("debate", "blog"), ("forum", "review"), ("social", "customer_service"))
HEAD_CHECKPOINTS = (100, 200, 300, 500)
MAX_EPOCHS = 3
SPEED_TOLERANCE = 0.01

CANDIDATES: tuple[Recipe, ...] = (
    Recipe(depth=6),
    Recipe(depth=8),
    Recipe(depth=12),
    Recipe(depth=8, tuned_layers=3, epochs=MAX_EPOCHS),
    Recipe(depth=8, tuned_layers=3, epochs=MAX_EPOCHS, label_smoothing=0.1),
    Recipe(depth=12, tuned_layers=3, epochs=MAX_EPOCHS, label_smoothing=0.1),
)


def _f1(trained_logits, labels) -> float:
    from models.sentiment.train import macro_f1_of

    return macro_f1_of(trained_logits, labels)


def _masks(pool: Sequence[Example], fold: Sequence[str] | None) -> tuple[list[bool], list[bool]]:
    """(train rows, scored rows) for a fold; ``None`` is the in-register split (train -> dev)."""
    if fold is None:
        return [e.split == "train" for e in pool], [e.split == "dev" for e in pool]
    return [e.split == "train" and e.register not in fold for e in pool], [e.register in fold for e in pool]


def score_candidate(encoder, pool_enc, recipe: Recipe, hidden: int, eps: float, seed: int, reporter) -> dict:
    """{"oor": {fold: {checkpoint: f1}}, "in_register": {checkpoint: f1}} for one candidate."""
    from models.sentiment import train as tr

    result: dict = {"oor": {}, "in_register": {}}
    for fold in (*FOLDS, None):
        train_mask, score_mask = _masks(pool_enc.examples, fold)
        if not any(score_mask) or not any(train_mask):
            continue
        train, scored = tr.subset(pool_enc, train_mask), tr.subset(pool_enc, score_mask)
        scores: dict[int, float] = {}
        if recipe.tuned_layers:
            head = tr.train_head(train, recipe, hidden, seed)
            tr.fine_tune(encoder, head, train, recipe, eps, seed, reporter,
                         on_epoch=lambda epoch, t: scores.__setitem__(epoch, _f1(t.logits(scored, eps), scored.labels)))
        else:
            tr.train_head(train, replace(recipe, head_steps=max(HEAD_CHECKPOINTS)), hidden, seed, HEAD_CHECKPOINTS,
                          lambda step, head: scores.__setitem__(step, _f1(tr.Trained(recipe, head).logits(scored, eps), scored.labels)))
        if fold is None:
            result["in_register"] = scores
        else:
            result["oor"]["+".join(fold)] = scores
    return result


def summarise(recipe: Recipe, result: dict) -> tuple[Recipe, dict]:
    """The candidate at its best checkpoint by mean OOR macro-F1, and its summary row."""
    checkpoints = sorted({c for s in result["oor"].values() for c in s})
    mean = {c: sum(s[c] for s in result["oor"].values()) / len(result["oor"]) for c in checkpoints}
    best = max(checkpoints, key=lambda c: (mean[c], -c))
    chosen = replace(recipe, epochs=best) if recipe.tuned_layers else replace(recipe, head_steps=best)
    row = {
        "oor_macro_f1": round(mean[best], 4),
        "oor_by_fold": {fold: round(s[best], 4) for fold, s in result["oor"].items()},
        "in_register_dev_macro_f1": round(result["in_register"].get(best, float("nan")), 4),
        "checkpoint": {"epochs" if recipe.tuned_layers else "head_steps": best},
        "oor_by_checkpoint": {str(c): round(mean[c], 4) for c in checkpoints},
    }
    return chosen, row


def choose(rows: dict[str, tuple[Recipe, dict]]) -> Recipe:
    top = max(row["oor_macro_f1"] for _, row in rows.values())
    near = [recipe for recipe, row in rows.values() if row["oor_macro_f1"] >= top - SPEED_TOLERANCE]
    return min(near, key=lambda r: (r.depth, r.tuned_layers, -rows[r.name][1]["oor_macro_f1"]))


def run_search(settings=None, progress=None, *, candidates: Sequence[Recipe] = CANDIDATES, data_dir=None,
               seed: int | None = None, write: bool = True) -> RecipeFile:
    import torch

    from models.sentiment import train as tr

    settings = tr._settings(settings)
    reporter = tr.as_reporter(progress)
    seed = tr.SEED if seed is None else seed
    t0 = time.perf_counter()
    torch.set_num_threads(settings.model_threads or os.cpu_count() or 1)
    tr.seed_everything(seed)
    examples = load_examples(data_dir)
    splits = split_examples(examples)
    pool = [*splits.train, *splits.dev]  # never test
    encoder, tokenizer = tr.load_encoder(settings, splits, reporter)
    eps, hidden = encoder.config.layer_norm_eps, encoder.config.hidden_size
    keep = {r.depth - r.tuned_layers for r in candidates if r.tuned_layers}
    with reporter.task("encoding train + dev with frozen e5", len(pool)) as advance:
        pool_enc = tr.encode(encoder, tokenizer, pool, keep, settings.model_max_length, eps, advance)
    rows: dict[str, tuple[Recipe, dict]] = {}
    for recipe in candidates:
        started = time.perf_counter()
        chosen, row = summarise(recipe, score_candidate(encoder, pool_enc, recipe, hidden, eps, seed, reporter))
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows[recipe.name] = (chosen, row)
        reporter.message(f"{recipe.name}: out-of-register macro-F1 {row['oor_macro_f1']:.3f}, in-register dev {row['in_register_dev_macro_f1']:.3f} ({row['checkpoint']})")
    winner = choose(rows)
    search = {
        "searched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_sha256": data_fingerprint(examples),
        "folds": ["+".join(f) for f in FOLDS],
        "rule": f"best mean out-of-register macro-F1; fewest layers within {SPEED_TOLERANCE}, then frozen",
        "chosen": winner.name,
        "candidates": {name: row for name, (_, row) in rows.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    result = RecipeFile(winner, search)
    if write:
        reporter.message(f"chosen: {winner.name}; written to {save_recipe(result)}")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    from models.sentiment.train import RichReporter

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="candidate names to try (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="print the result, do not write recipe.json")
    args = parser.parse_args(argv)
    cands = [c for c in CANDIDATES if not args.only or c.name in args.only]
    result = run_search(progress=RichReporter(), candidates=cands, write=not args.dry_run)
    print(json.dumps({"recipe": result.recipe.to_dict(), "search": result.search}, indent=2))


if __name__ == "__main__":
    main()
