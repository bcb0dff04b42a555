"""Linear heads on the sentiment model's pooled features, saved beside the model.

The sentiment forward pass computes the pooled features of every text anyway
(``models.sentiment.modeling.pooled_features``); a head is one linear layer over them, so each one costs a
[hidden x classes] product per mention. Two use it: intent (``models.intent``) and language
(``models.language``). A head is ``<name>.safetensors`` (``weight`` [classes, hidden], ``bias`` [classes])
plus ``<name>.json``: its labels, its version and the sentiment model version whose features it was trained
on. A head is only loaded on top of that model: features of another encoder would make it meaningless.

Training is shared too: multinomial logistic regression, class-balanced cross-entropy, L2 penalty,
full-batch L-BFGS from zeros (deterministic: the same data and model give the same head), and a softmax
temperature fitted on held-out logits (a linear head is over-confident on text unlike its training text).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)

__all__ = ["featurize", "fit_linear", "fit_temperature", "load_head", "predict_ids", "read_manifest", "save_head"]


def _model_version(model_dir: Path) -> str | None:
    from models.sentiment import MANIFEST

    path = model_dir / MANIFEST
    return json.loads(path.read_text()).get("version") if path.is_file() else None


def save_head(model_dir: Path, name: str, weight, bias, manifest: dict) -> None:
    from safetensors.torch import save_file

    save_file({"weight": weight.contiguous(), "bias": bias.contiguous()}, str(Path(model_dir) / f"{name}.safetensors"))
    (Path(model_dir) / f"{name}.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_manifest(model_dir: Path, name: str) -> dict | None:
    path = Path(model_dir) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def load_head(model_dir: Path, name: str, labels: Sequence[str]):
    """The head as a ``torch.nn.Linear`` in inference mode, or None when the directory has none (or one
    with other labels, or trained on another sentiment model: logged, not loaded)."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir, name)
    if manifest is None or not (model_dir / f"{name}.safetensors").is_file():
        return None
    if tuple(manifest.get("labels", ())) != tuple(labels):
        log.warning("%s: %s labels %s are not %s; ignored", model_dir, name, manifest.get("labels"), tuple(labels))
        return None
    if manifest.get("sentiment_model") != _model_version(model_dir):
        log.warning("%s: %s was trained on model %s, not this one; ignored (lytter model build rebuilds it)",
                    model_dir, name, manifest.get("sentiment_model"))
        return None
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(model_dir / f"{name}.safetensors"))
    head = torch.nn.Linear(tensors["weight"].shape[1], tensors["weight"].shape[0])
    with torch.no_grad():
        head.weight.copy_(tensors["weight"])
        head.bias.copy_(tensors["bias"])
    head.eval()
    head.requires_grad_(False)
    head.lytter_version = manifest.get("version")  # type: ignore[attr-defined]
    return head


def featurize(model, texts: Sequence[str], advance=lambda n: None, chunk: int = 128):
    """Pooled features [N, hidden] of ``texts`` through ``model`` (a ``SentimentModel``)."""
    import torch

    parts = []
    for start in range(0, len(texts), chunk):
        parts.append(model.analyse(list(texts[start : start + chunk]), what="features")[0])
        advance(min(chunk, len(texts) - start))
    return torch.cat(parts) if parts else torch.empty(0, 0)


def fit_linear(x, y, penalty: float, n_classes: int, iterations: int = 200):
    """(weight [n_classes, d], bias [n_classes]) of the class-balanced, L2-penalised softmax regression."""
    import torch

    counts = torch.bincount(y, minlength=n_classes).float()
    weights = torch.where(counts > 0, counts.sum() / (n_classes * counts.clamp(min=1)), torch.zeros_like(counts))
    w = torch.zeros(n_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    x64 = x.double()
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights.double())
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(x64 @ w.T + b, y) + penalty * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().float(), b.detach().float()


def predict_ids(x, weight, bias) -> list[int]:
    return (x @ weight.T + bias).argmax(dim=1).tolist()


def fit_temperature(logits, labels) -> float:
    """The softmax temperature that minimises the negative log-likelihood of held-out logits (a grid:
    one parameter, no optimiser state)."""
    import torch

    if logits is None or len(labels) == 0:
        return 1.0
    grid = [round(0.5 * 1.15**k, 4) for k in range(30)]
    nll = {t: float(torch.nn.functional.cross_entropy(logits / t, labels)) for t in grid}
    return min(grid, key=nll.__getitem__)
