"""Throughput of the production sentiment path against a naive per-message ``transformers.pipeline``.

Like with like: every side scores the **same texts** (the project's own labelled texts, cycled to
``n``; read from ``models/sentiment/data`` in this repository, and a directory outside it is refused),
after the **same warm-up** (its own call on the first 64 of those texts, just before the timed runs),
timed the **same way** (wall clock around the whole list, median of ``repeats`` runs), with the **order
rotated** between repeats (two sides: A B, B A, ...), each side setting its own thread count before
every run (production: threads / lanes per lane, as ``SentimentModel.load`` does; the baseline: all the
threads) so one side's setting never leaks into the other's run. The baseline truncates at the model's
``max_length`` like production (which scores longer texts in chunks: more work, not less). The naive baseline runs in the production precision *and* in
fp32, and both ratios are printed, so batching and precision are not mixed up:

* production: ``SentimentModel.predict`` on the whole list - tokenised at once, length-bucketed
  batches, ``torch.inference_mode``, lanes, the precision the model's manifest validated for this CPU
  (bf16 on AMX CPUs, else int8 if it kept quality, else fp32);
* baseline: ``pipeline("text-classification", model=...)`` called once per message, as a naive consumer
  would, with the model loaded in fp32 and, whenever a production side runs bf16, in bf16 too; the
  ratio against each is printed (``vs naive fp32``, ``vs naive bf16``).

Also reported: model size on disk and load time. Run with ``lytter model bench`` or
``python benchmarks/sentiment_bench.py``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from streams.bench.stats import run_order

WARMUP = 64
#: The repository root: the benchmark's texts are read from under it, nowhere else.
REPO_ROOT = Path(__file__).resolve().parents[2]


def _inside_repository(path: Path) -> Path:
    resolved = Path(path).resolve()
    if resolved != REPO_ROOT and REPO_ROOT not in resolved.parents:
        raise ValueError(f"the benchmark reads its texts from the repository ({REPO_ROOT}), not from {resolved}")
    return resolved


def bench_texts(n: int, data_dir: Path | None = None) -> list[str]:
    """``n`` mention texts from the repository's labelled data (every register and length), shuffled, cycled."""
    from models.sentiment.dataset import DATA_DIR, load_examples

    pool = [e.text for e in load_examples(_inside_repository(data_dir or DATA_DIR))]
    if not pool:
        raise RuntimeError(f"no texts to benchmark on: no data files in {data_dir or 'models/sentiment/data'}")
    import random

    random.Random(0).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def _alternating(sides: Mapping[str, Callable[[Sequence[str]], Any]], texts: Sequence[str], repeats: int,
                 warmup: int = WARMUP, timer: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Seconds per timed run of each side on ``texts``. Every side first gets the same warm-up (its own
    call on ``texts[:warmup]``), then ``repeats`` timed runs in :func:`run_order` (the sides' order
    rotated from one repeat to the next)."""
    names = list(sides)
    for name in names:
        sides[name](texts[:warmup])
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in run_order(repeats, names):
        start = timer()
        sides[name](texts)
        times[name].append(timer() - start)
    return times


def _naive_pipeline(model_dir: Path, dtype):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from models.sentiment import _fp32_kwarg, quiet_transformers

    kwarg = {key: dtype for key in _fp32_kwarg()}  # dtype= (or torch_dtype= on older transformers)
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), **kwarg)
        return pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(str(model_dir)), device=-1)


def baseline_precisions(production: Sequence[str]) -> list[str]:
    """The naive pipeline's precisions: fp32 always, bf16 too when a production side runs bf16 (the
    naive pipeline has no int8)."""
    return ["fp32"] + (["bf16"] if "bf16" in production else [])


def _production_sides(model, model_dir: Path, settings, precisions: Sequence[str], threads: int) -> dict:
    """One side per distinct production precision ("auto" is the loaded model's), each setting the
    torch threads the model runs with (threads / lanes) before scoring."""
    import torch

    from models.sentiment import SentimentModel

    sides: dict = {}
    for precision in precisions:
        chosen = model.precision if precision == "auto" else precision
        if f"production {chosen}" in sides:
            continue
        m = model if chosen == model.precision else SentimentModel.load(model_dir, settings=settings, precision=chosen)
        per_lane = max(1, threads // m.lanes)
        sides[f"production {chosen}"] = lambda batch, m=m, per_lane=per_lane: (torch.set_num_threads(per_lane), m.predict(batch))
    return sides


def _baseline_sides(model_dir: Path, precisions: Sequence[str], threads: int, max_length: int) -> dict:
    import torch

    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    sides: dict = {}
    for name in precisions:
        pipe = _naive_pipeline(model_dir, dtypes[name])
        sides[f"baseline {name}"] = lambda batch, pipe=pipe: (
            torch.set_num_threads(threads), [pipe(t, truncation=True, max_length=max_length) for t in batch]
        )
    return sides


def summarise(times: Mapping[str, Sequence[float]], n: int, production: str) -> dict:
    """texts/s (median run) and spread per side; the ratios of the production precision's rate to each
    naive baseline's."""
    out: dict = {"production": {}, "baseline": {}}
    for name, seconds in times.items():
        kind, precision = name.split(" ", 1)
        out["production" if kind == "production" else "baseline"][precision] = {
            "texts_per_s": round(n / statistics.median(seconds), 1), "seconds": [round(t, 3) for t in seconds],
            "spread_texts_per_s": [round(n / max(seconds), 1), round(n / min(seconds), 1)],
        }
    prod = out["production"][production]["texts_per_s"]
    out["ratios"] = {f"vs naive {p}": round(prod / v["texts_per_s"], 2) for p, v in out["baseline"].items()}
    out["ratio"] = out["ratios"].get(f"vs naive {production}", out["ratios"]["vs naive fp32"])
    return out


def run(settings=None, *, n: int = 1000, repeats: int = 3, precisions: Sequence[str] = ("auto",),
        path: Path | None = None, progress=print) -> dict:
    """Every side scores the same ``n`` texts (see the module docstring)."""
    import torch

    from models.sentiment import SentimentModel

    if settings is None:
        from streams.settings import get_settings

        settings = get_settings()
    say = progress or (lambda _m: None)
    texts = bench_texts(n)
    model_dir = Path(path) if path else settings.resolved_model_path()
    threads = settings.model_threads or os.cpu_count() or 1

    start = time.perf_counter()
    model = SentimentModel.load(model_dir, settings=settings)
    load_s = time.perf_counter() - start
    n_tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_length)["input_ids"])
    result: dict = {
        "model": str(model_dir), "model_version": model.version,
        "size_mb": round(dir_size(model_dir) / 1e6, 1) if model_dir.is_dir() else None,
        "load_seconds": round(load_s, 2), "threads": threads, "lanes": model.lanes, "cpu_count": os.cpu_count(),
        "texts": n, "mean_tokens": round(n_tokens / n, 1), "repeats": repeats, "warmup": WARMUP,
        "production_precision": model.precision,
    }
    say(f"model {model.version}: {result['size_mb']} MB, loaded in {load_s:.2f}s; {n} texts, {result['mean_tokens']} tokens on average, "
        f"{model.lanes} lane(s), {threads} thread(s); {repeats} alternating repeats after a {WARMUP}-text warm-up per side")
    sides = _production_sides(model, model_dir, settings, precisions, threads)
    result["baseline_precisions"] = baseline_precisions([name.split(" ", 1)[1] for name in sides])
    sides.update(_baseline_sides(model_dir, result["baseline_precisions"], threads, model.max_length))
    say("run order: " + ", ".join(run_order(repeats, list(sides))))
    times = _alternating(sides, texts, repeats)
    torch.set_num_threads(max(1, threads // model.lanes))  # what the production model had set
    result.update(summarise(times, n, model.precision))
    for name, seconds in times.items():
        say(f"{name}: {n / statistics.median(seconds):.0f} texts/s (runs {', '.join(f'{t:.2f}s' for t in seconds)})")
    say(f"ratios (production {model.precision}): " + ", ".join(f"{k} {v:.1f}x" for k, v in result["ratios"].items()))
    return result
