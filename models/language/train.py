"""Train the language head on the sentiment model's pooled features (run by ``lytter model build``).

Lingua reads letters; on a text of three words the letters rarely tell Bokmål from Nynorsk or Danish. The
sentiment encoder already runs on every mention and has seen the five languages' words in context, so
a linear head on its pooled features (``models.heads``) is a second, independent opinion for free: one
[384 x 5] product per mention. ``streams.processing.language_priors`` combines it with lingua and the
stream's priors.

Data: every text the project wrote in the five languages (``models/sentiment/data`` and
``models/intent/data``, labelled by language), each whole and as one random crop of 1-5 words, because
most mentions are short and a head trained on whole sentences only learns the long-text view. The crops
are drawn with a fixed seed: the same data and model give the same head. No "other" class: nothing in
the repository is written in other languages; lingua keeps deciding "other".

Selection: the penalty and the temperature are chosen on the crops of the sentiment data's dev split
(short, like the stream; never trained on during selection). The language evaluation set
(``models/language/data/short.jsonl``) is never used here: it judges the head.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Sequence

from models import heads

LABELS: tuple[str, ...] = ("da", "nb", "nn", "sv", "en")
NAME = "language_head"
PENALTIES = (1e-4, 1e-3, 1e-2)
CROP_WORDS = (1, 5)
RECIPE = {"head": "linear", "loss": "balanced-ce", "optimizer": "lbfgs", "penalties": PENALTIES,
          "crops": "one of 1-5 words per text, seed 'lytter-language-crops'", "selection": "dev-split crops",
          "calibration": "temperature on the dev-split crops"}

__all__ = ["LABELS", "NAME", "ensure_language_head", "load_language_head", "training_texts"]


def training_texts() -> list[tuple[str, str, str]]:
    """(text, lang, split) of every text the project wrote in the five languages, each text once."""
    from models.intent.dataset import load_examples as intent_examples
    from models.sentiment.dataset import load_examples as sentiment_examples
    from streams.processing.language import clean_for_detection

    seen: set[str] = set()
    out: list[tuple[str, str, str]] = []
    for e in list(sentiment_examples()) + list(intent_examples()):
        text = clean_for_detection(e.text)
        key = " ".join(text.casefold().split())
        if e.lang not in LABELS or not key or key in seen:
            continue
        seen.add(key)
        out.append((text, e.lang, e.split))
    return out


def with_crops(items: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, str, bool]]:
    """Each text whole, and (texts of more than 3 words) one random crop of 1-5 words: (text, lang, split, crop)."""
    rng = random.Random("lytter-language-crops")
    out = [(t, lang, split, False) for t, lang, split in items]
    for text, lang, split in items:
        words = text.split()
        if len(words) > 3:
            n = rng.randint(CROP_WORDS[0], min(CROP_WORDS[1], len(words) - 1))  # a part, never the whole text
            start = rng.randint(0, len(words) - n)
            out.append((" ".join(words[start : start + n]), lang, split, True))
    return out


def head_version(items: Sequence[tuple[str, str, str, bool]], sentiment_version: str) -> str:
    digest = hashlib.sha256(json.dumps([sentiment_version, RECIPE], sort_keys=True, default=str).encode("utf-8"))
    for text, lang, split, _ in items:
        digest.update(f"{lang}\t{split}\t{text}\n".encode("utf-8"))
    return "lang-" + digest.hexdigest()[:12]


def _accuracy(x, y, weight, bias) -> float:
    preds = heads.predict_ids(x, weight, bias)
    return sum(p == t for p, t in zip(preds, y.tolist())) / max(1, len(preds))


def ensure_language_head(model_dir: Path, settings, reporter, *, force: bool = False) -> str | None:
    """Build the language head into ``model_dir`` unless a current one is there; its version."""
    import torch

    from models.sentiment import MANIFEST, SentimentModel

    items = with_crops(training_texts())
    sentiment_version = json.loads((Path(model_dir) / MANIFEST).read_text())["version"]
    version = head_version(items, sentiment_version)
    current = heads.read_manifest(model_dir, NAME)
    if not force and current and current.get("version") == version:
        reporter.message(f"language head {version} is up to date")
        return version
    t0 = time.perf_counter()
    model = SentimentModel.load(model_dir, settings=settings, precision="fp32", lanes=1)
    model.intent_head = model.language_head = None
    with reporter.task("language head: encoding the project's texts", len(items)) as advance:
        x = heads.featurize(model, [text for text, *_ in items], advance)
    y = torch.tensor([LABELS.index(lang) for _, lang, _, _ in items])
    train = [i for i, (_, _, split, _) in enumerate(items) if split == "train"]
    dev = [i for i, (_, _, split, crop) in enumerate(items) if split == "dev" and crop]
    fits = {p: heads.fit_linear(x[train], y[train], p, len(LABELS)) for p in PENALTIES}
    scores = {p: _accuracy(x[dev], y[dev], *fits[p]) for p in PENALTIES}
    penalty = max(PENALTIES, key=lambda p: (scores[p], p))
    w, b = fits[penalty]
    temperature = heads.fit_temperature(x[dev] @ w.T + b, y[dev])
    final = [i for i, (_, _, split, _) in enumerate(items) if split in ("train", "dev")]
    weight, bias = heads.fit_linear(x[final], y[final], penalty, len(LABELS))
    heads.save_head(Path(model_dir), NAME, weight / temperature, bias / temperature, {
        "version": version,
        "labels": list(LABELS),
        "sentiment_model": sentiment_version,
        "penalty": penalty,
        "temperature": temperature,
        "dev_crop_accuracy_by_penalty": {str(p): round(s, 4) for p, s in scores.items()},
        "trained_on": len(final),
        "recipe": RECIPE,
    })
    reporter.message(f"language head {version}: penalty {penalty} (dev crops {scores[penalty]:.3f}), "
                     f"{len(final)} texts, {time.perf_counter() - t0:.0f}s")
    return version


def load_language_head(model_dir: Path):
    return heads.load_head(model_dir, NAME, LABELS)
