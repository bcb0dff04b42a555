"""`lytter watch ...`: check a brand-watch file and try its queries."""

from __future__ import annotations

from pathlib import Path

import typer

from streams.cli._common import clear_errors, console, settings

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(file: Path = typer.Argument(None, help="Watch file (default: setting LYTTER_WATCH_FILE).")) -> None:
    """Validate a watch file: every error names its line and field."""
    from streams.watch import load_watch

    path = file or settings().watch_file
    with clear_errors():
        watch = load_watch(path)
    console.print(f"{path}: {len(watch.brands)} brands, valid", highlight=False)
    for brand in watch.brands:
        console.print(f"  {brand.name}: {brand.compiled}", highlight=False, markup=False)


@app.command("match")
def match(
    text: str = typer.Argument(..., help="A mention text to try the brand queries on."),
    lang: str = typer.Option("", help="Language of the text, for lang: scopes."),
    file: Path = typer.Option(None, help="Watch file (default: setting LYTTER_WATCH_FILE)."),
) -> None:
    """Which brands of the watch a text would match."""
    from streams.watch import load_watch

    with clear_errors():
        watch = load_watch(file or settings().watch_file)
    brands = watch.match({"text": text, "lang": lang})
    console.print(", ".join(brands) if brands else "no brand matches", highlight=False, markup=False)
