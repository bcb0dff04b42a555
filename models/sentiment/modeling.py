"""How an e5 encoder with mean pooling becomes a plain ``BertForSequenceClassification``.

``BertForSequenceClassification`` classifies the first token (``[CLS]``/``<s>``) through the BERT pooler
(``tanh(W h + b)``); e5 was trained with *mean* pooling. To keep the saved model loadable by
``AutoModelForSequenceClassification`` and ``transformers.pipeline`` with no custom code, the exported
model gets one extra, fixed encoder layer that *is* the mean pooling:

* self-attention with query and key weights and biases zero: every score is 0, so each token attends
  uniformly to the non-padding tokens (the attention mask) - the head outputs are the masked mean;
* value = identity, attention output dense = ``POOL_SCALE`` x identity, so its LayerNorm sees
  ``h_0 + POOL_SCALE * mean(h)``, i.e. (LayerNorm being scale-invariant) ``LN(mean(h) + h_0 / POOL_SCALE)``,
  the mean with a 1e-4 trace of the first token;
* feed-forward weights zero, LayerNorms without affine (weight 1, bias 0).

The first token's output of that layer is ``LN(LN(mean + h_0 / POOL_SCALE))``; the BERT pooler and the
classifier on top of it form the trained head (a one-hidden-layer tanh MLP). Training computes exactly this
function (``pooled_features``), and the build checks that the exported model reproduces its logits.
"""

from __future__ import annotations

import copy
from typing import Iterable

import torch
from torch import nn
import torch.nn.functional as F

POOL_SCALE = 1e4
PREFIX_TOKEN = "e5-query-prefix"


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[B, L] 0/1 mask -> [B, 1, 1, L] additive mask (0 keep, dtype-min drop) as BERT layers take it."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers: Iterable[nn.Module], hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = additive_mask(attention_mask, hidden.dtype)
    for layer in layers:
        out = layer(hidden, attention_mask=mask)
        hidden = out[0] if isinstance(out, tuple) else out  # transformers 4.x returns tuples, 5.x tensors
    return hidden


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def pooled_features(hidden: torch.Tensor, attention_mask: torch.Tensor, eps: float) -> torch.Tensor:
    """What the pooling layer hands the BERT pooler at the first token (see the module docstring)."""
    x = masked_mean(hidden, attention_mask) + hidden[:, 0] / POOL_SCALE
    h = hidden.shape[-1]
    return F.layer_norm(F.layer_norm(x, (h,), eps=eps), (h,), eps=eps)


class Head(nn.Module):
    """The BERT pooler (dense + tanh) and classifier, on pooled features."""

    def __init__(self, hidden: int, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, n_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(torch.tanh(self.dense(features))))


def make_pooling_layer(layer: nn.Module, hidden: int) -> None:
    """Turn a BertLayer into the fixed mean-pooling layer, in place."""
    eye = torch.eye(hidden)
    with torch.no_grad():
        sa = layer.attention.self
        for lin in (sa.query, sa.key):
            lin.weight.zero_()
            lin.bias.zero_()
        sa.value.weight.copy_(eye)
        sa.value.bias.zero_()
        ao = layer.attention.output
        ao.dense.weight.copy_(eye * POOL_SCALE)
        ao.dense.bias.zero_()
        for lin in (layer.intermediate.dense, layer.output.dense):
            lin.weight.zero_()
            lin.bias.zero_()
        for ln in (ao.LayerNorm, layer.output.LayerNorm):
            ln.weight.fill_(1.0)
            ln.bias.zero_()


def export_classifier(
    encoder,  # transformers BertModel (the converted e5)
    depth: int,
    tuned_layers: dict[int, nn.Module],
    head: Head,
    id2label: dict[int, str],
    extra_config: dict | None = None,
):
    """A ``BertForSequenceClassification`` = e5 embeddings + layers ``0..depth-1`` (tuned ones replaced) +
    the pooling layer + the head."""
    from transformers import BertConfig, BertForSequenceClassification

    cfg = encoder.config.to_dict()
    for key in ("architectures", "_name_or_path", "transformers_version", "id2label", "label2id", "num_labels"):
        cfg.pop(key, None)
    config = BertConfig(**cfg)
    config.num_hidden_layers = depth + 1
    config.architectures = ["BertForSequenceClassification"]
    config.id2label = {int(i): name for i, name in id2label.items()}
    config.label2id = {name: int(i) for i, name in id2label.items()}
    config.problem_type = "single_label_classification"
    config.classifier_dropout = None
    for key, value in (extra_config or {}).items():
        setattr(config, key, value)
    model = BertForSequenceClassification(config)
    hidden = config.hidden_size
    with torch.no_grad():
        model.bert.embeddings.load_state_dict(encoder.embeddings.state_dict())
        for i in range(depth):
            source = tuned_layers.get(i, encoder.encoder.layer[i])
            model.bert.encoder.layer[i].load_state_dict(source.state_dict())
        make_pooling_layer(model.bert.encoder.layer[depth], hidden)
        model.bert.pooler.dense.load_state_dict(head.dense.state_dict())
        model.classifier.load_state_dict(head.classifier.state_dict())
    model.eval()
    return model


def copy_layers(encoder, indices: Iterable[int]) -> dict[int, nn.Module]:
    return {i: copy.deepcopy(encoder.encoder.layer[i]) for i in indices}


def with_query_prefix(tokenizer, prefix: str):
    """A copy of an XLM-R fast tokenizer whose post-processor inserts ``prefix``'s pieces after ``<s>``.

    ``tok(text)`` then has exactly the ids of ``base_tok(prefix + text)``: the Metaspace pre-tokeniser
    splits at spaces, so ``"query: text"`` is the pieces of ``"query:"`` followed by those of ``text``.
    (The template's special token ``e5-query-prefix`` stands for those pieces; ``tokenizers`` templates
    allow one special token to expand to several ids.)
    """
    from tokenizers import processors

    tok = copy.deepcopy(tokenizer)
    backend = tok.backend_tokenizer
    prefix_ids = backend.encode(prefix.rstrip(" "), add_special_tokens=False).ids
    prefix_tokens = [backend.id_to_token(i) for i in prefix_ids]
    bos, eos = tok.bos_token, tok.eos_token
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} {PREFIX_TOKEN} $A {eos}",
        pair=f"{bos} {PREFIX_TOKEN} $A {eos} {eos} $B {eos}",
        special_tokens=[
            (bos, tok.bos_token_id),
            (eos, tok.eos_token_id),
            {"id": PREFIX_TOKEN, "ids": prefix_ids, "tokens": prefix_tokens},
        ],
    )
    return tok
