"""Throughput of the production sentiment path against a naive per-message ``transformers.pipeline``.

Both run in the same process, on the same model and the same short mention texts (the labelled
sentences plus the lines of the demo corpus, cycled to ``n`` texts):

* production: ``SentimentModel.predict`` on the whole list - tokenised at once, length-bucketed
  batches, ``torch.inference_mode``, ``settings.model_threads`` threads, the precision the model's
  manifest validated for this CPU (bf16 on AMX CPUs, else int8 if it kept quality, else fp32);
* baseline: ``pipeline("text-classification", model=dir)`` called once per message, as a naive
  consumer would (same thread count).

Also reported: model size on disk and load time. Run with ``lytter model bench`` or
``python benchmarks/sentiment_bench.py``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Sequence

CORPUS_DIRS = (Path("/work/shared/corpus"),)


def corpus_lines(dirs: Sequence[Path] = CORPUS_DIRS, min_chars: int = 15, max_chars: int = 300) -> list[str]:
    lines: list[str] = []
    for d in dirs:
        for path in sorted(Path(d).glob("*.txt")):
            for line in path.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if min_chars <= len(line) <= max_chars:
                    lines.append(line)
    return lines


def bench_texts(n: int, corpus_dirs: Sequence[Path] = CORPUS_DIRS, data_dir: Path | None = None) -> list[str]:
    """``n`` short mention texts: labelled sentences and corpus lines, interleaved and cycled."""
    from models.sentiment.dataset import load_examples

    pool = [e.text for e in load_examples(data_dir)] + corpus_lines(corpus_dirs)
    if not pool:
        raise RuntimeError("no texts to benchmark on (no data files and no corpus)")
    import random

    random.Random(0).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def _rate(fn, n: int, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times), times


def run(settings=None, *, n: int = 1000, baseline_n: int = 300, repeats: int = 3, precisions: Sequence[str] = ("auto",),
        path: Path | None = None, progress=print) -> dict:
    import torch

    from models.sentiment import SentimentModel, quiet_transformers

    if settings is None:
        from streams.settings import get_settings

        settings = get_settings()
    say = progress or (lambda _m: None)
    texts = bench_texts(n)
    model_dir = Path(path) if path else settings.resolved_model_path()

    start = time.perf_counter()
    model = SentimentModel.load(model_dir, settings=settings)
    load_s = time.perf_counter() - start
    n_tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_length)["input_ids"])
    result: dict = {
        "model": str(model_dir),
        "model_version": model.version,
        "size_mb": round(dir_size(model_dir) / 1e6, 1) if model_dir.is_dir() else None,
        "load_seconds": round(load_s, 2),
        "threads": torch.get_num_threads() * model.lanes,
        "lanes": model.lanes,
        "cpu_count": os.cpu_count(),
        "texts": n,
        "mean_tokens": round(n_tokens / n, 1),
        "production": {},
    }
    say(f"model {model.version}: {result['size_mb']} MB, loaded in {load_s:.2f}s; {n} texts, {result['mean_tokens']} tokens on average, "
        f"{model.lanes} lane(s) x {torch.get_num_threads()} torch thread(s)")
    for precision in precisions:
        m = model if precision in ("auto", model.precision) else SentimentModel.load(model_dir, settings=settings, precision=precision)
        m.predict(texts[:64])  # warm-up
        rate, times = _rate(lambda: m.predict(texts), n, repeats)
        result["production"][m.precision if precision == "auto" else precision] = {"texts_per_s": round(rate, 1), "seconds": [round(t, 3) for t in times]}
        say(f"production ({m.precision}{', auto' if precision == 'auto' else ''}): {rate:.0f} texts/s")
    result["production_precision"] = model.precision

    from transformers import pipeline

    # the baseline as a user would run it: torch's own default, every core on each call (the
    # production model may have left torch at one thread per lane)
    torch.set_num_threads(os.cpu_count() or 1)
    with quiet_transformers():
        pipe = pipeline("text-classification", model=str(model_dir), device=-1)
    subset = texts[:baseline_n]
    pipe(subset[0])  # warm-up
    base_rate, base_times = _rate(lambda: [pipe(t) for t in subset], len(subset), 1)
    result["baseline"] = {"texts_per_s": round(base_rate, 1), "texts": len(subset), "seconds": [round(t, 3) for t in base_times]}
    say(f"baseline (pipeline, one message per call, fp32): {base_rate:.0f} texts/s on {len(subset)} texts")
    prod = result["production"][model.precision]["texts_per_s"]
    result["ratio"] = round(prod / base_rate, 2)
    say(f"ratio: {result['ratio']:.1f}x")
    return result
