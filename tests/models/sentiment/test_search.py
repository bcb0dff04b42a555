"""The recipe search's rules: folds hold whole registers out, the choice prefers small and frozen."""

from __future__ import annotations

import json

import pytest

from models.sentiment import search
from models.sentiment.dataset import Example
from models.sentiment.recipe import Recipe, RecipeFile, load_recipe, save_recipe


def ex(i, register, split="train"):
    return Example(str(i), f"t{i}", "neutral", "da", split, (), register)


def test_folds_hold_whole_registers_out_and_never_score_test():
    pool = [ex(1, "news"), ex(2, "news", "dev"), ex(3, "social"), ex(4, "social", "dev"), ex(5, "press")]
    train, scored = search._masks(pool, ("news", "press"))
    assert train == [False, False, True, False, False]  # only train items of other registers
    assert scored == [True, True, False, False, True]  # every held-out item of the fold's registers
    train, scored = search._masks(pool, None)
    assert train == [True, False, True, False, True] and scored == [False, True, False, True, False]
    assert all(set(fold) <= set(search.FOLDS[0] + search.FOLDS[1] + search.FOLDS[2] + search.FOLDS[3]) for fold in search.FOLDS)


def test_summary_picks_the_checkpoint_by_mean_out_of_register_f1():
    result = {"oor": {"a": {1: 0.5, 2: 0.7}, "b": {1: 0.6, 2: 0.6}}, "in_register": {1: 0.9, 2: 0.95}}
    chosen, row = search.summarise(Recipe(depth=8, tuned_layers=3, epochs=2), result)
    assert chosen.epochs == 2 and row["oor_macro_f1"] == pytest.approx(0.65) and row["in_register_dev_macro_f1"] == 0.95
    chosen, _ = search.summarise(Recipe(depth=8), {"oor": {"a": {100: 0.7, 300: 0.6}}, "in_register": {100: 0.8, 300: 0.9}})
    assert chosen.head_steps == 100


def test_choice_prefers_fewer_layers_then_frozen_within_tolerance():
    def row(f1):
        return {"oor_macro_f1": f1}

    rows = {r.name: (r, row(f1)) for r, f1 in [(Recipe(depth=12), 0.70), (Recipe(depth=8), 0.695), (Recipe(depth=6), 0.60)]}
    assert search.choose(rows).depth == 8
    rows = {r.name: (r, row(f1)) for r, f1 in [(Recipe(depth=12), 0.70), (Recipe(depth=8), 0.68)]}
    assert search.choose(rows).depth == 12
    rows = {r.name: (r, row(0.7)) for r in [Recipe(depth=8, tuned_layers=3, epochs=2), Recipe(depth=8)]}
    assert search.choose(rows).tuned_layers == 0


def test_recipe_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "recipe.json"
    save_recipe(RecipeFile(Recipe(depth=6, tuned_layers=2, epochs=3, label_smoothing=0.1), {"chosen": "x"}), path)
    loaded = load_recipe(path)
    assert loaded.recipe == Recipe(depth=6, tuned_layers=2, epochs=3, label_smoothing=0.1) and loaded.search == {"chosen": "x"}
    assert loaded.recipe.name == "d6-tuned2-ls0.1"
    path.write_text(json.dumps({"recipe": {"depth": 8, "layers": 3}}))
    with pytest.raises(ValueError, match=r"recipe\.json.*unknown field.*layers"):
        load_recipe(path)
    assert load_recipe(tmp_path / "missing.json").recipe == Recipe()


def test_the_committed_recipe_was_chosen_by_the_search():
    rf = load_recipe()
    assert rf.search.get("chosen") == rf.recipe.name, "models/sentiment/recipe.json: run `lytter model search`"
    candidates = rf.search["candidates"]
    assert len(candidates) >= 4 and any("frozen" in n for n in candidates) and any("tuned" in n for n in candidates)
    best = max(row["oor_macro_f1"] for row in candidates.values())
    assert candidates[rf.recipe.name]["oor_macro_f1"] >= best - search.SPEED_TOLERANCE
    assert set(candidates[rf.recipe.name]["oor_by_fold"]) == {"+".join(f) for f in search.FOLDS}
