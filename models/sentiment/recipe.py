"""The training recipe: what ``lytter model build`` trains, chosen once by ``lytter model search``.

The search (``models/sentiment/search.py``) tries candidate recipes with whole registers held out of
training and writes the winner, with every candidate's scores, to ``recipe.json`` beside this file. The
build then trains only that recipe, so a cold build stays within CI's time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

RECIPE_FILE = Path(__file__).resolve().parent / "recipe.json"


@dataclass(frozen=True)
class Recipe:
    depth: int = 8  # the first ``depth`` layers of e5-small (12): a smaller, faster student when < 12
    tuned_layers: int = 0  # top layers fine-tuned with the head (0: the encoder stays frozen)
    label_smoothing: float = 0.0
    head_steps: int = 300  # full-batch AdamW steps of the head on frozen features
    epochs: int = 0  # fine-tuning epochs (when tuned_layers > 0)
    head_lr: float = 2e-3
    tune_lr: float = 4e-5
    tune_head_lr: float = 5e-4
    batch_size: int = 16
    weight_decay: float = 0.01

    @property
    def name(self) -> str:
        kind = f"tuned{self.tuned_layers}" if self.tuned_layers else "frozen"
        ls = f"-ls{self.label_smoothing:g}" if self.label_smoothing else ""
        return f"d{self.depth}-{kind}{ls}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict) -> "Recipe":
        known = {f.name for f in fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise ValueError(f"recipe: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**obj)


@dataclass
class RecipeFile:
    recipe: Recipe
    search: dict = field(default_factory=dict)  # candidates' scores, folds, data fingerprint, time


def load_recipe(path: Path | None = None) -> RecipeFile:
    path = Path(path or RECIPE_FILE)
    if not path.is_file():
        return RecipeFile(Recipe(), {"note": f"no {path.name}: the default recipe (run `lytter model search`)"})
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        return RecipeFile(Recipe.from_dict(obj["recipe"]), obj.get("search") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a valid recipe file ({exc}); rerun `lytter model search` or fix the file") from None


def save_recipe(recipe_file: RecipeFile, path: Path | None = None) -> Path:
    path = Path(path or RECIPE_FILE)
    body = {"recipe": recipe_file.recipe.to_dict(), "search": recipe_file.search}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
