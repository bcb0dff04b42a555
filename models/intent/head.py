"""The intent head's file format: one linear layer over the sentiment model's pooled features
(``models.heads``): ``intent_head.safetensors`` holds ``weight`` [5, hidden] and ``bias`` [5];
``intent_head.json`` the labels, the head's version and the sentiment model version it was trained on.
"""

from __future__ import annotations

from pathlib import Path

from models import heads
from models.intent import INTENTS

NAME = "intent_head"


def save_head(model_dir: Path, weight, bias, manifest: dict) -> None:
    heads.save_head(model_dir, NAME, weight, bias, manifest)


def read_head_manifest(model_dir: Path) -> dict | None:
    return heads.read_manifest(model_dir, NAME)


def load_head(model_dir: Path):
    """The head as a ``torch.nn.Linear``, or None (no head, or one trained on another model)."""
    return heads.load_head(model_dir, NAME, INTENTS)
