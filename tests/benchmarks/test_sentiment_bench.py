"""models.sentiment.bench without a model: same texts, same warm-up, alternating order, both ratios."""

from __future__ import annotations

import pytest

from models.sentiment import bench
from models.sentiment.bench import _alternating, baseline_precisions, bench_texts, summarise


def test_every_side_gets_the_same_warm_up_and_the_same_texts_in_alternating_order():
    calls = []
    sides = {name: (lambda batch, name=name: calls.append((name, tuple(batch)))) for name in ("production bf16", "baseline fp32")}
    ticks = iter(range(100))
    texts = [f"t{i}" for i in range(10)]
    times = _alternating(sides, texts, repeats=2, warmup=3, timer=lambda: float(next(ticks)))
    warm = calls[:2]
    assert {name for name, _ in warm} == set(sides) and all(batch == tuple(texts[:3]) for _, batch in warm)
    timed = calls[2:]
    assert [name for name, _ in timed] == ["production bf16", "baseline fp32", "baseline fp32", "production bf16"]
    assert all(batch == tuple(texts) for _, batch in timed)
    assert times == {"production bf16": [1.0, 1.0], "baseline fp32": [1.0, 1.0]}


def test_the_naive_baseline_runs_bf16_beside_fp32_whenever_production_runs_bf16():
    assert baseline_precisions(["bf16"]) == ["fp32", "bf16"]
    assert baseline_precisions(["int8"]) == ["fp32"]
    assert baseline_precisions(["fp32", "bf16"]) == ["fp32", "bf16"]


def test_both_ratios_from_the_medians_with_spread():
    times = {"production bf16": [0.5, 0.4, 0.6], "baseline fp32": [10.0, 12.0, 8.0], "baseline bf16": [5.0, 5.0, 6.0]}
    out = summarise(times, 1000, "bf16")
    assert out["production"]["bf16"]["texts_per_s"] == 2000.0
    assert out["production"]["bf16"]["spread_texts_per_s"] == [1666.7, 2500.0]
    assert out["ratios"] == {"vs naive fp32": 20.0, "vs naive bf16": 10.0}
    assert out["ratio"] == 10.0  # like with like: the production precision's naive pipeline


def test_fp32_ratio_when_production_is_not_bf16():
    out = summarise({"production int8": [1.0], "baseline fp32": [4.0]}, 100, "int8")
    assert out["ratios"] == {"vs naive fp32": 4.0} and out["ratio"] == 4.0


def test_texts_come_from_the_repository_and_only_from_it(tmp_path):
    texts = bench_texts(50)
    assert len(texts) == 50 and texts == bench_texts(50)  # deterministic
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(ValueError, match="repository"):
        bench_texts(5, tmp_path)
    assert bench.REPO_ROOT.joinpath("models", "sentiment", "data").is_dir()
