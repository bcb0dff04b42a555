"""The intent head's file format: one linear layer over the sentiment model's pooled features.

``intent_head.safetensors`` holds ``weight`` [5, hidden] and ``bias`` [5]; ``intent_head.json`` the
labels, the head's version and the sentiment model version whose features it was trained on (a head is
only loaded on top of that model: features of another encoder would make its outputs meaningless).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from models.intent import HEAD_MANIFEST, HEAD_WEIGHTS, INTENTS

log = logging.getLogger(__name__)


def _model_version(model_dir: Path) -> str | None:
    from models.sentiment import MANIFEST

    path = model_dir / MANIFEST
    return json.loads(path.read_text()).get("version") if path.is_file() else None


def save_head(model_dir: Path, weight, bias, manifest: dict) -> None:
    from safetensors.torch import save_file

    save_file({"weight": weight.contiguous(), "bias": bias.contiguous()}, str(model_dir / HEAD_WEIGHTS))
    (model_dir / HEAD_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_head_manifest(model_dir: Path) -> dict | None:
    path = Path(model_dir) / HEAD_MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def load_head(model_dir: Path):
    """The head as a ``torch.nn.Linear`` in inference mode, or None when the directory has none (or one
    trained on another sentiment model: logged, not loaded)."""
    model_dir = Path(model_dir)
    manifest = read_head_manifest(model_dir)
    if manifest is None or not (model_dir / HEAD_WEIGHTS).is_file():
        return None
    if tuple(manifest.get("labels", ())) != INTENTS:
        log.warning("%s: intent head labels %s are not %s; ignored", model_dir, manifest.get("labels"), INTENTS)
        return None
    if manifest.get("sentiment_model") != _model_version(model_dir):
        log.warning("%s: intent head was trained on model %s, not this one; ignored (lytter model build rebuilds it)", model_dir, manifest.get("sentiment_model"))
        return None
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(model_dir / HEAD_WEIGHTS))
    head = torch.nn.Linear(tensors["weight"].shape[1], tensors["weight"].shape[0])
    with torch.no_grad():
        head.weight.copy_(tensors["weight"])
        head.bias.copy_(tensors["bias"])
    head.eval()
    head.requires_grad_(False)
    head.lytter_version = manifest.get("version")  # type: ignore[attr-defined]
    return head
