"""Train the intent head on the sentiment model's pooled features (run by ``lytter model build``).

Recipe (``models.heads``): multinomial logistic regression (one linear layer), class-balanced
cross-entropy, L2 penalty, full-batch L-BFGS from zeros: deterministic, so the same data and sentiment
model give the same head. The penalty is chosen out of register: for each candidate, a head is trained on the training pool minus
one register and scored (macro-F1) on that register's written texts, averaged over the registers; a
split of the same pool would reward fitting its style. The final head is trained on train + dev, and its logits divided by the temperature that fits the
out-of-register logits best (calibration: a linear head is over-confident on unseen registers).
Features are computed in fp32 (the same on every machine); the evaluation also scores them in the
production precision.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

from models import heads
from models.heads import featurize, fit_temperature, predict_ids
from models.intent import INTENTS
from models.intent.dataset import IntentExample, fingerprint, load_examples

#: L2 penalties tried (on the mean loss), chosen out of register.
PENALTIES = (1e-4, 1e-3, 3e-3, 1e-2, 3e-2)
RECIPE = {"head": "linear", "loss": "balanced-ce", "optimizer": "lbfgs", "penalties": PENALTIES, "selection": "leave-one-register-out",
          "calibration": "temperature on the out-of-register logits"}


def fit_linear(x, y, penalty: float, iterations: int = 200):
    """(weight [5, d], bias [5]) of the class-balanced, L2-penalised softmax regression."""
    return heads.fit_linear(x, y, penalty, len(INTENTS), iterations)


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    from models.sentiment.metrics import confusion_matrix, macro_f1 as mf1

    return mf1(confusion_matrix(list(y_true), list(y_pred), len(INTENTS)))


def out_of_register(x, examples: Sequence[IntentExample], pool: Sequence[int], penalty: float):
    """Per register: trained on the pool minus that register, macro-F1 on its written texts; and the
    held-out logits with their labels (honest out-of-sample scores, for the temperature)."""
    import torch

    y = torch.tensor([e.label_id for e in examples])
    out: dict[str, float] = {}
    logits, labels = [], []
    for register in sorted({examples[i].register for i in pool}):
        train = [i for i in pool if examples[i].register != register]
        held = [i for i, e in enumerate(examples) if e.register == register and e.written and e.split != "train"]
        if not train or len(held) < 10:
            continue
        weight, bias = fit_linear(x[train], y[train], penalty)
        out[register] = macro_f1(y[held].tolist(), predict_ids(x[held], weight, bias))
        logits.append(x[held] @ weight.T + bias)
        labels.append(y[held])
    return out, (torch.cat(logits) if logits else None), (torch.cat(labels) if labels else None)


def head_version(examples: Sequence[IntentExample], sentiment_version: str) -> str:
    key = json.dumps([fingerprint(list(examples)), sentiment_version, RECIPE], sort_keys=True, default=str)
    return "intent-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def ensure_head(model_dir: Path, settings, reporter, *, force: bool = False, data_dir: Path | None = None) -> str | None:
    """Build the intent head into ``model_dir`` unless a current one is there; its version (None: no data)."""
    from models.intent.head import read_head_manifest, save_head
    from models.sentiment import MANIFEST, SentimentModel

    examples = load_examples(data_dir)
    if not examples:
        reporter.message("no intent data in models/intent/data: the model gets no intent head (the worker uses the rules)")
        return None
    sentiment_version = json.loads((Path(model_dir) / MANIFEST).read_text())["version"]
    version = head_version(examples, sentiment_version)
    current = read_head_manifest(model_dir)
    if not force and current and current.get("version") == version:
        reporter.message(f"intent head {version} is up to date")
        return version
    import torch

    t0 = time.perf_counter()
    torch.manual_seed(0)
    model = SentimentModel.load(model_dir, settings=settings, precision="fp32", lanes=1)
    model.intent_head = None
    with reporter.task("intent head: encoding the intent data", len(examples)) as advance:
        x = featurize(model, [e.text for e in examples], advance)
    y = torch.tensor([e.label_id for e in examples])
    pool = [i for i, e in enumerate(examples) if e.split == "train"]
    runs = {p: out_of_register(x, examples, pool, p) for p in PENALTIES}
    scored = {p: run[0] for p, run in runs.items()}
    penalty = max(PENALTIES, key=lambda p: (sum(scored[p].values()) / max(1, len(scored[p])), -p))
    temperature = fit_temperature(runs[penalty][1], runs[penalty][2])
    final = [i for i, e in enumerate(examples) if e.split in ("train", "dev")]
    weight, bias = fit_linear(x[final], y[final], penalty)
    weight, bias = weight / temperature, bias / temperature  # folded in: the head's softmax is calibrated
    oor = sum(scored[penalty].values()) / max(1, len(scored[penalty]))
    save_head(Path(model_dir), weight, bias, {
        "version": version,
        "labels": list(INTENTS),
        "sentiment_model": sentiment_version,
        "penalty": penalty,
        "temperature": temperature,
        "out_of_register_macro_f1": round(oor, 4),
        "out_of_register_by_penalty": {str(p): round(sum(v.values()) / max(1, len(v)), 4) for p, v in scored.items()},
        "trained_on": len(final),
        "data": fingerprint(list(examples)),
        "recipe": RECIPE,
    })
    reporter.message(f"intent head {version}: penalty {penalty} (out-of-register macro-F1 {oor:.3f}), {len(final)} texts, {time.perf_counter() - t0:.0f}s")
    return version
