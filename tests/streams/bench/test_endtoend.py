"""`lytter bench` without services: the order of the runs, the table of medians and spreads, misses."""

from __future__ import annotations

from pathlib import Path

from streams.bench import endtoend
from streams.bench.cpu import CpuBudget
from streams.bench.endtoend import PipelineRun, _sentiment_rows, pipeline_rows, run_pipelines
from streams.settings import Settings


def done(label, seconds, latencies, peak=500.0, cpu_s=1.0):
    budget = CpuBudget(mentions=1000, seconds=seconds, cores=4, spent={"worker": cpu_s, "elasticsearch": cpu_s / 2})
    return PipelineRun(label, 1000, 1000, seconds, list(latencies), peak, budget, 60)


def missed(label, indexed):
    return PipelineRun(label, 1000, indexed, None, [], 480.0, None, 60)


def test_a_warm_up_run_then_alternating_sides_each_repeated(monkeypatch, tmp_path):
    calls = []

    def fake_run(settings, label, count, workdir, say, timeout=900, interval=0.25):
        calls.append((label, settings.sentiment_enabled))
        return done(label, 1.0, [10.0])

    monkeypatch.setattr(endtoend, "run_pipeline", fake_run)
    runs = run_pipelines(Settings(), 1000, tmp_path, lambda m: None, repeats=2)
    assert calls[0] == ("warm-up (untimed)", True)
    assert [enabled for _, enabled in calls[1:]] == [False, True, True, False]
    assert len(runs["off"]) == len(runs["on"]) == 2  # the warm-up is in neither side
    assert all("warm-up" not in r.label for side in runs.values() for r in side)


def test_no_warm_up_when_asked(monkeypatch, tmp_path):
    labels = []
    monkeypatch.setattr(endtoend, "run_pipeline", lambda s, label, *a, **k: labels.append(label) or done(label, 1.0, [1.0]))
    run_pipelines(Settings(), 10, Path(tmp_path), lambda m: None, repeats=3, warmup=False)
    assert len(labels) == 6 and not any("warm-up" in label for label in labels)


def test_rows_hold_median_and_spread_per_side_and_the_ratio_of_medians():
    on = [done("on", 2.0, [100.0, 200.0, 300.0], peak=900.0), done("on", 4.0, [100.0, 300.0, 500.0], peak=1000.0)]
    off = [done("off", 1.0, [50.0, 60.0, 70.0], peak=400.0), done("off", 1.0, [50.0, 60.0, 70.0], peak=400.0)]
    rows = {row[0]: row[1:] for row in pipeline_rows(on, off, 1000)}
    assert rows["end-to-end mentions/s (model on)"] == ("375 (250-500)", "1,000 (1,000-1,000) (model off)", "0.38x")
    assert rows["publish->visible p50 ms (1,000 at once)"] == ("250 (200-300)", "60 (60-60) (model off)", "4.17x")
    assert rows["worker peak memory MB"][0] == "950 (900-1,000)"
    assert any(name.startswith("CPU ms per mention") for name in rows)


def test_a_missed_run_prints_miss_with_its_count_and_no_ratio():
    on = [done("on", 2.0, [100.0]), missed("on", 9500)]
    off = [done("off", 1.0, [50.0]), done("off", 1.0, [50.0])]
    rows = pipeline_rows(on, off, 1000)
    rate = rows[0]
    assert rate[1] == "500 (500-500); MISS 9,500/1,000"  # the completed run's figure, the missed one beside it
    assert rate[3] == "-"
    assert all("MISS 9,500" in row[1] for row in rows if row[0] != "CPU budget")
    assert ("CPU budget", "-", "-", "- (a run missed)") in rows


def test_a_missed_run_has_no_figures_of_its_own():
    run = missed("end to end, sentiment on (run 2/4)", 9500)
    assert run.rate is None and run.p50_ms is None and run.p99_ms is None
    assert run.line() == "end to end, sentiment on (run 2/4): MISS 9,500/1,000 indexed within 60 s"
    all_missed = pipeline_rows([run], [run], 1000)
    assert all_missed[0][1] == "MISS 9,500/1,000" and all_missed[0][2] == "MISS 9,500/1,000 (model off)"


def test_a_complete_run_line_names_rate_latency_and_memory():
    line = done("off", 2.0, [100.0, 200.0]).line()
    assert "500 mentions/s" in line and "p50 100 ms" in line and "p99 200 ms" in line and "2 followed" in line


def test_sentiment_rows_show_both_naive_precisions_with_spread():
    result = {
        "production": {"bf16": {"texts_per_s": 3000.0, "spread_texts_per_s": [2900.0, 3100.0]}},
        "baseline": {"fp32": {"texts_per_s": 100.0, "spread_texts_per_s": [90.0, 110.0]},
                     "bf16": {"texts_per_s": 150.0, "spread_texts_per_s": [140.0, 160.0]}},
    }
    rows = _sentiment_rows(result)
    assert rows == [
        ("sentiment texts/s (bf16)", "3,000 (2,900-3,100)", "100 (90-110) (naive pipeline, fp32)", "30.0x"),
        ("sentiment texts/s (bf16)", "3,000 (2,900-3,100)", "150 (140-160) (naive pipeline, bf16)", "20.0x"),
    ]
