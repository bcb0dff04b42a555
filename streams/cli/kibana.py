"""`lytter kibana ...`: check Lytter's Kibana dashboards offline and import them into a Kibana."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from streams.cli._common import console, fail

app = typer.Typer(no_args_is_help=True)

_FILE_HELP = "Saved objects (NDJSON) to use (default: deploy/kibana/lytter.ndjson)."


def _path(file: Optional[Path]) -> Path:
    from streams.ops.kibana import default_ndjson_path

    return file or default_ndjson_path()


def _check(path: Path) -> list:
    """The objects of ``path``; fails with every problem listed when the file does not validate."""
    from streams.cli._common import settings
    from streams.ops.kibana import default_mappings, validate_file

    objects, problems = validate_file(path, default_mappings(settings()))
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}", highlight=False)
        fail(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return objects


@app.command("validate")
def validate(file: Optional[Path] = typer.Option(None, "--file", "-f", help=_FILE_HELP)) -> None:
    """Check the saved objects offline: JSON, nested JSON, references, and every field against the index mapping."""
    from streams.ops.kibana import summary

    path = _path(file)
    objects = _check(path)
    console.print(f"[green]✓[/] {path}: {len(objects)} objects ({summary(objects)}); references resolve, fields match the mappings", highlight=False)


@app.command("import")
def import_(
    url: str = typer.Option("http://127.0.0.1:5601", "--url", envvar="LYTTER_KIBANA_URL", help="Kibana's base URL."),
    user: Optional[str] = typer.Option(None, "--user", "-u", envvar="LYTTER_KIBANA_USERNAME", help="Kibana user (when security is on), e.g. elastic."),
    password: Optional[str] = typer.Option(
        None, "--password", envvar="LYTTER_KIBANA_PASSWORD", show_default=False,
        help="Password of --user; better given as LYTTER_KIBANA_PASSWORD than on the command line.",
    ),
    space: Optional[str] = typer.Option(None, "--space", help="Kibana space to import into (default: the default space)."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help=_FILE_HELP),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite", help="Replace objects with the same ids (a re-import updates the dashboards)."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to keep retrying while Kibana is unreachable or still starting (503)."),
) -> None:
    """Import the data views, visualisations and dashboards into Kibana (saved-objects import API)."""
    from streams.ops.kibana import KibanaImportError, KibanaObjectsError, import_objects, summary

    path = _path(file)
    objects = _check(path)
    try:
        result = import_objects(url, path, username=user or None, password=password, space=space, overwrite=overwrite, wait=wait)
    except (KibanaImportError, KibanaObjectsError) as exc:
        fail(str(exc))
    console.print(
        f"[green]✓[/] imported {result.success_count} objects ({summary(objects)}) into {url}"
        + (f" (space {space})" if space else "")
        + "; open Dashboards and search for 'Lytter'",
        highlight=False,
    )
