"""Sentiment for mentions: negative / neutral / positive, with a signed score.

    from models.sentiment import SentimentModel
    model = SentimentModel.load()                      # settings.model_path, else the built model
    [s] = model.predict(["Elsker den nye app 😍"])
    s.label, s.score, s.probabilities, s.model_version

The model is any ``transformers`` sequence-classification directory (by default the one
``lytter model build`` writes: multilingual-e5-small fine-tuned on the project's data). Its labels are
mapped to negative/neutral/positive from ``settings.model_labels`` (``"LABEL_0=negative,LABEL_1=neutral,
LABEL_2=positive"``; several model labels may map to one) or, without it, from the names in its
``id2label`` (anything starting neg/neu/pos, in any case). A model without a neutral class gives
neutral probability 0.

Importing this module is cheap: torch and transformers are imported by ``SentimentModel.load``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "int8", "bf16")
MANIFEST = "lytter_manifest.json"
#: Texts per length bucket: small enough that a worker batch (256) makes several buckets for the lanes
#: to share and little padding, large enough for efficient matrix products (32 and 64 measure alike).
DEFAULT_BATCH_SIZE = 32

__all__ = [
    "LABELS",
    "ModelNotFoundError",
    "LabelMappingError",
    "Sentiment",
    "SentimentModel",
    "label_mapping",
    "parse_label_spec",
    "supported_precisions",
]


class ModelNotFoundError(FileNotFoundError):
    """No model where the settings point (a FileNotFoundError, so the CLI prints it as one clear line)."""


class LabelMappingError(ValueError):
    """The model's labels cannot be mapped to negative/neutral/positive."""


# One Sentiment type for the model and the stream: the worker indexes what the model returns as it is.
from streams.schema import Sentiment  # noqa: E402


# ------------------------------------------------------------------------------------------------
# labels
# ------------------------------------------------------------------------------------------------

_INFER = (
    ("negative", re.compile(r"^(neg|label_neg)", re.I)),
    ("neutral", re.compile(r"^(neu|neutral|label_neu)", re.I)),
    ("positive", re.compile(r"^(pos|label_pos)", re.I)),
)


def parse_label_spec(spec: str) -> dict[str, str]:
    """``"LABEL_0=negative, LABEL_1=neutral"`` -> ``{"label_0": "negative", ...}`` (keys lower-cased)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise LabelMappingError(f"setting LYTTER_MODEL_LABELS: {part!r} is not 'model_label=negative|neutral|positive'")
        key, value = (s.strip() for s in part.rsplit("=", 1))
        if value.lower() not in LABELS:
            raise LabelMappingError(f"setting LYTTER_MODEL_LABELS: {value!r} (for {key!r}) is not one of {', '.join(LABELS)}")
        out[key.lower()] = value.lower()
    return out


def label_mapping(id2label: dict[Any, str], spec: str = "") -> dict[int, str]:
    """Model class index -> negative/neutral/positive, from ``spec`` (settings.model_labels) or the names."""
    names = {int(i): str(name) for i, name in id2label.items()}
    mapping: dict[int, str] = {}
    if spec.strip():
        rules = parse_label_spec(spec)
        unknown = set(rules) - {n.lower() for n in names.values()} - {str(i) for i in names}
        if unknown:
            raise LabelMappingError(
                f"setting LYTTER_MODEL_LABELS names {sorted(unknown)}, which the model does not have; "
                f"its labels are {[names[i] for i in sorted(names)]}"
            )
        for i, name in names.items():
            target = rules.get(name.lower(), rules.get(str(i)))
            if target is None:
                raise LabelMappingError(
                    f"setting LYTTER_MODEL_LABELS does not map the model's label {name!r}; "
                    f"map every one of {[names[i] for i in sorted(names)]}"
                )
            mapping[i] = target
    else:
        for i, name in names.items():
            target = next((label for label, rx in _INFER if rx.match(name.strip())), None)
            if target is None:
                raise LabelMappingError(
                    f"cannot tell what the model's label {name!r} means (labels: {[names[i] for i in sorted(names)]}); "
                    "set LYTTER_MODEL_LABELS, e.g. 'LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive'"
                )
            mapping[i] = target
    present = set(mapping.values())
    if not {"negative", "positive"} <= present:
        raise LabelMappingError(
            f"the model's labels {[names[i] for i in sorted(names)]} map to {sorted(present)}; "
            "negative and positive are both needed (setting LYTTER_MODEL_LABELS)"
        )
    return mapping


# ------------------------------------------------------------------------------------------------
# precision
# ------------------------------------------------------------------------------------------------


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices with AMX, where ``auto`` picks bf16. AVX-512 BF16 (AMD Zen 4)
    is faster in bf16 too (223 vs 153 texts/s in int8 on a 2-core EPYC, `lytter model bench --precisions
    auto,bf16`), but there bf16 tipped borderline crisis texts of the demo scenario from negative to
    positive and its negative-surge alert failed to fire, so ``auto`` stays int8 there; set
    ``LYTTER_MODEL_PRECISION=bf16`` to choose speed."""
    return "amx_bf16" in _cpu_flags()


def supported_precisions() -> tuple[str, ...]:
    import torch

    out = ["fp32", "bf16"]
    engines = getattr(torch.backends.quantized, "supported_engines", [])
    if any(e in engines for e in ("x86", "fbgemm")) and hasattr(torch, "ao"):
        out.insert(1, "int8")
    return tuple(out)


def _resolve_precision(requested: str, manifest: dict | None) -> str:
    if requested not in PRECISIONS:
        raise ValueError(f"precision {requested!r} is not one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    checked = ((manifest or {}).get("inference") or {}).get("precision") or {}
    if checked.get("bf16", {}).get("ok") and fast_bf16():
        return "bf16"
    if checked.get("int8", {}).get("ok") and "int8" in supported_precisions():
        return "int8"
    return "fp32"


def _quantize_int8(model):
    """Dynamic int8 (per-channel weights) on the self-attention projections of the encoder.

    The feed-forward matrices stay fp32: quantising them (their inputs are GELU outputs with large
    outliers) changed ~11% of the dev predictions of the built model, the attention ones ~2%.
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and ".attention." in name
    }
    with warnings.catch_warnings():  # eager dynamic quantisation is deprecated in favour of torchao, still works
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8)


def _linear_weights_to_bf16(model) -> None:
    """bf16 weights for the matrix products (run under CPU autocast); embeddings and LayerNorms stay fp32.

    Autocast would cast the fp32 weights to bf16 on every call; storing them as bf16 saves that copy.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(torch.bfloat16)


# ------------------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_transformers():
    """No progress bars or load reports from transformers while loading (the CLI prints its own lines)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _fp32_kwarg() -> dict:
    """Load weights as float32 (``dtype`` since transformers 4.56, ``torch_dtype`` before)."""
    import torch
    import transformers

    major, minor = (int(re.match(r"\d+", x).group()) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch.float32} if (major, minor) >= (4, 56) else {"torch_dtype": torch.float32}


def _looks_like_hub_id(path: Path) -> bool:
    s = str(path)
    return not path.is_absolute() and not s.startswith(".") and s.count("/") == 1 and not Path(s).exists()


def _missing(path: Path, why: str = "") -> ModelNotFoundError:
    return ModelNotFoundError(
        f"no sentiment model at {path}{f' ({why})' if why else ''}: run `lytter model build` or set LYTTER_MODEL_PATH "
        "to a transformers sequence-classification model directory"
    )


def _version_of(path: Path, manifest: dict | None, config) -> str:
    if manifest and manifest.get("version"):
        return str(manifest["version"])
    cfg = path / "config.json"
    if cfg.is_file():
        return f"{path.name}@{hashlib.sha256(cfg.read_bytes()).hexdigest()[:10]}"
    return str(getattr(config, "_name_or_path", "") or path)


class SentimentModel:
    """A sequence-classification model behind ``predict(texts) -> [Sentiment]`` (batched, inference mode)."""

    def __init__(self, model, tokenizer, mapping: dict[int, str], *, version: str, path: Path,
                 max_length: int, precision: str, batch_size: int = DEFAULT_BATCH_SIZE, manifest: dict | None = None,
                 fast_pooling: bool = True, lanes: int = 1, intent_head=None, language_head=None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.mapping = mapping
        self.version = version
        self.path = path
        self.max_length = max_length
        self.precision = precision
        self.batch_size = batch_size
        self.manifest = manifest or {}
        self.fast_pooling = bool(getattr(model.config, "lytter_pooling", None)) and hasattr(model, "bert") and fast_pooling
        # The intent and language heads (models/heads.py) read the same pooled features: they need the fast path.
        self.intent_head = intent_head if self.fast_pooling else None
        self.language_head = language_head if self.fast_pooling else None
        self.lanes = max(1, int(lanes))
        # Lanes score length buckets side by side (forward passes release the GIL). The pool's threads
        # live as long as the model; they are daemon threads of concurrent.futures, idle when unused.
        self._lanes = ThreadPoolExecutor(self.lanes, thread_name_prefix="lytter-sentiment") if self.lanes > 1 else None
        import torch

        index = {label: i for i, label in enumerate(LABELS)}
        n = model.config.num_labels
        # [num_labels, 3] 0/1 matrix summing model classes into negative/neutral/positive
        self._collect = torch.zeros(n, len(LABELS))
        for i, label in mapping.items():
            self._collect[i, index[label]] = 1.0

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        settings=None,
        *,
        precision: str | None = None,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fast_pooling: bool = True,
        lanes: int | None = None,
    ) -> "SentimentModel":
        """Load from ``path``, else ``settings.model_path``, else the built model in ``settings.cache_dir``.

        ``precision``: ``auto`` (default) uses bf16 on CPUs with AMX and int8 elsewhere, each only when
        the build measured that it keeps the dev predictions (the model's manifest); ``fp32``, ``int8``,
        ``bf16`` force one. Threads: ``threads``, else ``settings.model_threads`` (0 = all cores). Lanes:
        ``lanes``, else ``settings.model_lanes`` (0 = one per thread): that many length buckets are scored
        at once, each with threads / lanes torch threads. For a small encoder on short texts one bucket
        per core beats all cores on one bucket (its matrices are too small to split well).
        """
        if settings is None:
            from streams.settings import get_settings

            settings = get_settings()
        target = Path(path) if path is not None else settings.resolved_model_path()
        local = target.is_dir()
        if not local and not _looks_like_hub_id(target):
            raise _missing(target)
        if local and not (target / "config.json").is_file():
            raise _missing(target, "no config.json")

        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        n_threads = threads if threads is not None else settings.model_threads
        n_threads = n_threads if n_threads and n_threads > 0 else (os.cpu_count() or 1)
        n_lanes = lanes if lanes is not None else settings.model_lanes
        n_lanes = min(n_threads, n_lanes if n_lanes and n_lanes > 0 else n_threads)
        torch.set_num_threads(n_threads // n_lanes)
        try:
            with quiet_transformers():
                tokenizer = AutoTokenizer.from_pretrained(str(target))
                model = AutoModelForSequenceClassification.from_pretrained(str(target), **_fp32_kwarg())
        except OSError as exc:
            raise _missing(target, str(exc).splitlines()[0]) from exc
        model.eval()
        manifest = None
        if local and (target / MANIFEST).is_file():
            manifest = json.loads((target / MANIFEST).read_text())
        mapping = label_mapping(model.config.id2label, getattr(settings, "model_labels", "") or "")
        chosen = _resolve_precision(precision or getattr(settings, "model_precision", None) or "auto", manifest)
        if chosen == "int8":
            model = _quantize_int8(model)
        elif chosen == "bf16":
            _linear_weights_to_bf16(model)
        limit = getattr(tokenizer, "model_max_length", None) or 512
        if limit > 100_000:  # tokenizers without a limit report a huge sentinel
            limit = getattr(model.config, "max_position_embeddings", 512)
        max_length = min(int(settings.model_max_length), int(limit))
        from models.intent.head import load_head
        from models.language.train import load_language_head

        return cls(
            model, tokenizer, mapping, version=_version_of(target, manifest, model.config), path=target,
            max_length=max_length, precision=chosen, batch_size=batch_size, manifest=manifest, fast_pooling=fast_pooling,
            lanes=n_lanes, intent_head=load_head(target) if local else None,
            language_head=load_language_head(target) if local else None,
        )

    @property
    def model_version(self) -> str:
        return self.version

    def probabilities(self, texts: Sequence[str]):
        """[len(texts), 3] tensor of p(negative), p(neutral), p(positive).

        A text longer than ``max_length`` tokens (a blog post, a long comment) is not cut off: its
        sentences are packed into chunks of at most ``max_length`` tokens, each chunk is scored, and the
        text's probabilities are the token-weighted mean of its chunks'.
        """
        return self.analyse(texts)[0]

    def analyse(self, texts: Sequence[str], *, what: str = "outputs"):
        """``(sentiment [N, 3], intent [N, 5] or None, language [N, 5] or None)`` probabilities from one
        forward pass per text (``what="features"``: ``(pooled features [N, hidden], None, None)`` instead, for
        training the heads). Intent and language are None when the model has no such head."""
        import torch

        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return torch.empty(0, len(LABELS)), None, None
        ids = self.tokenizer(texts, verbose=False)["input_ids"]  # tokenised all at once (Rust, batched)
        rows: list[list[int]] = []
        owners: list[int] = []
        for i, seq in enumerate(ids):
            chunks = [seq] if len(seq) <= self.max_length else self._chunks(texts[i])
            rows.extend(chunks)
            owners.extend([i] * len(chunks))
        outputs = self._row_outputs(rows, what)
        if len(rows) == len(texts):
            return outputs
        weights = torch.tensor([float(len(r)) for r in rows]).unsqueeze(1)
        index = torch.tensor(owners)

        def per_text(values):
            if values is None:
                return None
            out = torch.zeros(len(texts), values.shape[-1])
            total = torch.zeros(len(texts), 1)
            out.index_add_(0, index, values * weights)
            total.index_add_(0, index, weights)
            return out / total

        return tuple(per_text(v) for v in outputs)

    def _chunks(self, text: str) -> list[list[int]]:
        """Token ids of consecutive sentence runs of at most ``max_length`` tokens each."""
        from models.sentiment.targets import sentences

        overhead = len(self.tokenizer("")["input_ids"])  # <s>, the query prefix, </s>
        budget = max(8, self.max_length - overhead)
        parts = sentences(text) or [text]
        sizes = [len(x) for x in self.tokenizer(parts, add_special_tokens=False, verbose=False)["input_ids"]]
        runs: list[list[str]] = [[]]
        used = 0
        for part, size in zip(parts, sizes):
            if runs[-1] and used + size > budget:
                runs.append([])
                used = 0
            runs[-1].append(part)
            used += size
        joined = [" ".join(run) for run in runs if run]
        return self.tokenizer(joined, truncation=True, max_length=self.max_length)["input_ids"]

    def _row_outputs(self, ids: list[list[int]], what: str = "outputs"):
        """Softmax over negative/neutral/positive (and the intents, with a head) for token-id rows, in
        length buckets (little padding); ``what="features"``: (pooled features, None)."""
        import torch

        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        buckets = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self._lanes is not None and len(buckets) > 1:
            # one bucket per core, each on one torch thread (see ``lanes`` in load)
            results = list(self._lanes.map(lambda bucket: self._bucket_logits(ids, bucket, what), buckets))
        else:
            results = [self._bucket_logits(ids, bucket, what) for bucket in buckets]
        values = torch.empty(len(ids), results[0].shape[-1])
        for bucket, bucket_values in zip(buckets, results):
            values[torch.tensor(bucket)] = bucket_values
        if what == "features":
            return values, None, None
        n = self.model.config.num_labels
        sentiment = torch.softmax(values[:, :n], dim=-1) @ self._collect
        heads = []
        for head in (self.intent_head, self.language_head):  # their logits follow the sentiment's, in this order
            width = head.out_features if head is not None else 0
            heads.append(torch.softmax(values[:, n : n + width], dim=-1) if width else None)
            n += width
        return sentiment, heads[0], heads[1]

    def _row_probabilities(self, ids: list[list[int]]):
        return self._row_outputs(ids)[0]

    def _bucket_logits(self, ids: list[list[int]], bucket: list[int], what: str = "outputs"):
        import torch

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        width = max(len(ids[i]) for i in bucket)
        input_ids = torch.full((len(bucket), width), pad, dtype=torch.long)
        mask = torch.zeros((len(bucket), width), dtype=torch.long)
        for row, i in enumerate(bucket):
            input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
            mask[row, : len(ids[i])] = 1
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self.precision == "bf16" else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            return self._forward(input_ids, mask, what).float()

    def _forward(self, input_ids, attention_mask, what: str = "outputs"):
        if not self.fast_pooling:
            if what == "features":
                raise ValueError(f"{self.path}: pooled features need a Lytter-built model (lytter model build)")
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        # A Lytter-built model ends with a fixed mean-pooling encoder layer (models/sentiment/modeling.py);
        # computing that mean directly instead of through a full attention + zero feed-forward layer
        # gives the same logits for ~1/(depth+1) less work.
        from models.sentiment.modeling import pooled_features, run_layers

        bert = self.model.bert
        hidden = bert.embeddings(input_ids=input_ids)
        hidden = run_layers(bert.encoder.layer[:-1], hidden, attention_mask)
        features = pooled_features(hidden, attention_mask, self.model.config.layer_norm_eps)
        if what == "features":
            return features
        logits = self.model.classifier(bert.pooler.activation(bert.pooler.dense(features)))
        extra = [head(features.float()).to(logits.dtype) for head in (self.intent_head, self.language_head) if head is not None]
        if not extra:
            return logits
        import torch

        return torch.cat([logits, *extra], dim=-1)

    def _sentiment(self, row: Sequence[float]) -> Sentiment:
        total = sum(row) or 1.0
        p = {label: row[i] / total for i, label in enumerate(LABELS)}
        label = max(LABELS, key=lambda lab: (p[lab], lab == "neutral"))
        score = max(-1.0, min(1.0, p["positive"] - p["negative"]))
        return Sentiment(label=label, score=score, probabilities=p, model_version=self.version)

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        return [self._sentiment(row) for row in self.probabilities(texts).tolist()]

    def predict_with_intent(self, texts: Sequence[str]) -> list[tuple[Sentiment, Any]]:
        """Per text ``(Sentiment, Intent | None)`` from the same forward pass (None: no intent head)."""
        return [(s, i) for s, i, _ in self.predict_all(texts)]

    def predict_all(self, texts: Sequence[str]) -> list[tuple[Sentiment, Any, dict[str, float] | None]]:
        """Per text ``(Sentiment, Intent | None, {lang: p} | None)`` from one forward pass: sentiment, and
        the intent and language heads' outputs where the model has them."""
        from models.intent import INTENTS, Intent
        from models.language.train import LABELS as LANGS

        sentiment, intent, language = self.analyse(texts)
        irows = intent.tolist() if intent is not None else [None] * len(texts)
        lrows = language.tolist() if language is not None else [None] * len(texts)
        out = []
        for srow, irow, lrow in zip(sentiment.tolist(), irows, lrows):
            best = max(range(len(INTENTS)), key=irow.__getitem__) if irow is not None else None
            out.append((
                self._sentiment(srow),
                Intent(INTENTS[best], round(irow[best], 4), "model") if irow is not None else None,
                dict(zip(LANGS, lrow)) if lrow is not None else None,
            ))
        return out

    def predict_targets(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[Sentiment]]:
        """Per item ``(text, brands)``, one Sentiment per brand, in the brands' order.

        One brand: the text's own sentiment. Several: each brand's from the parts of the text that speak
        about it (``targets.segments_for``: its sentences, its clause, the other side of a comparison
        with negative and positive swapped), scored in one batch.
        """
        from models.sentiment.targets import segments_for

        plan: list[tuple[int, str, bool]] = []  # (item, segment text, flip) per segment
        owners: list[tuple[int, int]] = []  # (item, brand position) per segment
        for i, (text, brands) in enumerate(items):
            brands = list(brands)
            for j, brand in enumerate(brands):
                segments = [(text, False)] if len(brands) == 1 else [(s.text, s.flip) for s in segments_for(text, brand, brands)]
                for seg_text, flip in segments:
                    plan.append((i, seg_text, flip))
                    owners.append((i, j))
        unique = list(dict.fromkeys(text for _, text, _ in plan))
        rows = dict(zip(unique, self.probabilities(unique).tolist())) if unique else {}
        sums: dict[tuple[int, int], list[float]] = {}
        counts: dict[tuple[int, int], int] = {}
        for (i, seg_text, flip), key in zip(plan, owners):
            row = rows[seg_text]
            row = [row[2], row[1], row[0]] if flip else row  # LABELS order: negative, neutral, positive
            acc = sums.setdefault(key, [0.0, 0.0, 0.0])
            for k in range(3):
                acc[k] += row[k]
            counts[key] = counts.get(key, 0) + 1
        return [
            [self._sentiment([v / counts[(i, j)] for v in sums[(i, j)]]) for j in range(len(list(brands)))]
            for i, (_, brands) in enumerate(items)
        ]

    def __repr__(self) -> str:
        return f"SentimentModel({str(self.path)!r}, version={self.version!r}, precision={self.precision!r}, lanes={self.lanes})"
