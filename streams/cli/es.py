"""`lytter es ...`: the Elasticsearch side."""

from __future__ import annotations

import json

import typer

from streams.cli._common import clear_errors, console, settings

app = typer.Typer(no_args_is_help=True)


@app.command("setup")
def setup() -> None:
    """Create or update the mention index template, the first index and its alias."""
    from streams.sinks.elasticsearch import setup_indices

    with clear_errors():
        report = setup_indices(settings())
    mode = (
        "full: per-language sub-fields text.da/.no/.sv/.en with stemming"
        if report.language_fields
        else "minimal cluster: standard analyzer only (no language analyzers on this Elasticsearch)"
    )
    console.print(f"template [bold]{report.template}[/], alias [bold]{report.alias}[/]" + (f", created {report.created_index}" if report.created_index else ""))
    console.print(f"analysis: {mode}")


@app.command("template")
def template(language_fields: bool = typer.Option(True, help="Include per-language analyzer sub-fields.")) -> None:
    """Print the mention index template (JSON) without touching a cluster."""
    from streams.sinks.elasticsearch import mention_index_template

    console.print_json(json.dumps(mention_index_template(settings(), language_fields)))


@app.command("count")
def count() -> None:
    """Number of mentions indexed (after a refresh)."""
    from streams.sinks.elasticsearch import sync_client

    with clear_errors():
        client = sync_client(settings())
        alias = settings().es_index_prefix
        client.indices.refresh(index=alias)
        console.print(client.count(index=alias)["count"])
        client.close()


@app.command("rollover")
def rollover_cmd(
    max_age: str = typer.Option(None, help="Roll over when the write index is older than this (e.g. 7d)."),
    max_docs: int = typer.Option(None, help="Roll over at this many documents."),
    max_size: str = typer.Option(None, help="Roll over at this primary shard size (e.g. 30gb)."),
    dry_run: bool = typer.Option(False, help="Only say whether it would roll over."),
) -> None:
    """Roll the mention alias over to a new index (the minimal Elasticsearch has no ILM: run this on a schedule)."""
    from streams.sinks.elasticsearch import sync_client
    from streams.sinks.lifecycle import rollover

    with clear_errors():
        client = sync_client(settings())
        try:
            result = rollover(settings(), client, max_age=max_age, max_docs=max_docs, max_primary_shard_size=max_size, dry_run=dry_run)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        finally:
            client.close()
    verb = "rolled over" if result["rolled_over"] else ("would roll over" if dry_run and any(result["conditions"].values()) else "no rollover")
    console.print(f"{verb}: {result['old_index']} -> {result['new_index']} (conditions {result['conditions']})", highlight=False)


@app.command("retention")
def retention_cmd(
    keep: str = typer.Option(..., help="Keep indices whose newest mention is younger than this (e.g. 90d)."),
    dry_run: bool = typer.Option(False, help="Only list what would be deleted."),
) -> None:
    """Delete mention indices older than the retention (never the write index)."""
    from streams.sinks.elasticsearch import sync_client
    from streams.sinks.lifecycle import apply_retention

    with clear_errors():
        client = sync_client(settings())
        try:
            expired = apply_retention(settings(), client, keep, dry_run=dry_run)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        finally:
            client.close()
    console.print(("would delete: " if dry_run else "deleted: ") + (", ".join(expired) or "nothing"), highlight=False)
