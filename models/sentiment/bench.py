"""Throughput of the production sentiment path against a naive per-message ``transformers.pipeline``.

Like with like: both sides score the **same texts** (the project's own labelled texts, cycled to ``n``;
nothing is read from outside the repository), after the **same warm-up** (64 texts), timed the **same
way** (wall clock around the whole list, median of ``repeats`` runs), with the **order alternated**
between repeats, on the same thread count. The naive baseline runs in the production precision *and* in
fp32, and both ratios are printed, so batching and precision are not mixed up:

* production: ``SentimentModel.predict`` on the whole list - tokenised at once, length-bucketed
  batches, ``torch.inference_mode``, lanes, the precision the model's manifest validated for this CPU
  (bf16 on AMX CPUs, else int8 if it kept quality, else fp32);
* baseline: ``pipeline("text-classification", model=...)`` called once per message, as a naive consumer
  would, with the model loaded in fp32 and (when production runs bf16) in bf16.

Also reported: model size on disk and load time. Run with ``lytter model bench`` or
``python benchmarks/sentiment_bench.py``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Sequence

WARMUP = 64


def bench_texts(n: int, data_dir: Path | None = None) -> list[str]:
    """``n`` mention texts from the repository's labelled data (every register and length), shuffled, cycled."""
    from models.sentiment.dataset import load_examples

    pool = [e.text for e in load_examples(data_dir)]
    if not pool:
        raise RuntimeError(f"no texts to benchmark on: no data files in {data_dir or 'models/sentiment/data'}")
    import random

    random.Random(0).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _alternating(sides: dict, repeats: int) -> dict[str, list[float]]:
    """Seconds per run for each side; the order of the sides is rotated from one repeat to the next."""
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeats):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            times[name].append(_timed(sides[name]))
    return times


def _naive_pipeline(model_dir: Path, dtype):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from models.sentiment import _fp32_kwarg, quiet_transformers

    kwarg = {key: dtype for key in _fp32_kwarg()}  # dtype= (or torch_dtype= on older transformers)
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), **kwarg)
        return pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(str(model_dir)), device=-1)


def run(settings=None, *, n: int = 1000, repeats: int = 3, precisions: Sequence[str] = ("auto",),
        path: Path | None = None, progress=print) -> dict:
    """Both sides score the same ``n`` texts (see the module docstring)."""
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
        "texts": n, "mean_tokens": round(n_tokens / n, 1), "repeats": repeats, "warmup": WARMUP, "production": {}, "baseline": {},
    }
    say(f"model {model.version}: {result['size_mb']} MB, loaded in {load_s:.2f}s; {n} texts, {result['mean_tokens']} tokens on average, "
        f"{model.lanes} lane(s), {threads} thread(s); {repeats} alternating repeats after a {WARMUP}-text warm-up")
    sides: dict = {}
    for precision in precisions:
        m = model if precision in ("auto", model.precision) else SentimentModel.load(model_dir, settings=settings, precision=precision)
        m.predict(texts[:WARMUP])
        sides[f"production {m.precision}"] = (lambda m=m: m.predict(texts))
    result["production_precision"] = model.precision
    baseline_dtypes = {"fp32": torch.float32}
    if model.precision == "bf16":
        baseline_dtypes["bf16"] = torch.bfloat16
    pipes = {name: _naive_pipeline(model_dir, dtype) for name, dtype in baseline_dtypes.items()}
    for name, pipe in pipes.items():
        torch.set_num_threads(threads)
        [pipe(t) for t in texts[:WARMUP]]
        sides[f"baseline {name}"] = (lambda pipe=pipe: (torch.set_num_threads(threads), [pipe(t) for t in texts]))
    times = _alternating(sides, repeats)
    torch.set_num_threads(max(1, threads // model.lanes))  # what the production model had set
    for name, seconds in times.items():
        kind, precision = name.split(" ", 1)
        rate = n / statistics.median(seconds)
        result["production" if kind == "production" else "baseline"][precision] = {
            "texts_per_s": round(rate, 1), "seconds": [round(t, 3) for t in seconds],
            "spread_texts_per_s": [round(n / max(seconds), 1), round(n / min(seconds), 1)],
        }
        say(f"{name}: {rate:.0f} texts/s (runs {', '.join(f'{t:.2f}s' for t in seconds)})")
    prod = result["production"][model.precision]["texts_per_s"]
    result["ratios"] = {f"vs naive {p}": round(prod / v["texts_per_s"], 2) for p, v in result["baseline"].items()}
    result["ratio"] = result["ratios"].get(f"vs naive {model.precision}", result["ratios"]["vs naive fp32"])
    say("ratios: " + ", ".join(f"{k} {v:.1f}x" for k, v in result["ratios"].items()))
    return result
