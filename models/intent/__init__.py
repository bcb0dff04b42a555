"""Intent of a mention: what the writer wants from the one they address (models/intent/data/GUIDELINES.md).

    question  request  complaint  praise  other

A second head on the sentiment model's encoder: the sentiment forward pass already computes the pooled
features of every text (``models.sentiment.modeling.pooled_features``); the intent head is one linear
layer over those, so a mention's intent costs a [384 x 5] product on top of its sentiment. The head is
trained by ``lytter model build`` (``models.intent.train``) on the project's own intent data and saved
beside the sentiment model (``intent_head.safetensors`` + ``intent_head.json``); a model directory
without it simply gives no intent, and the worker falls back to the rule baseline (``models.intent.rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

INTENTS: tuple[str, ...] = ("question", "request", "complaint", "praise", "other")
#: Intents whose writer waits for the brand's answer (needs-reply, with being addressed to a brand).
REPLY_INTENTS: frozenset[str] = frozenset({"question", "request", "complaint"})
HEAD_WEIGHTS = "intent_head.safetensors"
HEAD_MANIFEST = "intent_head.json"

__all__ = ["HEAD_MANIFEST", "HEAD_WEIGHTS", "INTENTS", "REPLY_INTENTS", "Intent"]


@dataclass(frozen=True)
class Intent:
    label: str
    confidence: float
    source: str  # "model" (the head) or "rules" (the baseline, when the model has no head)
