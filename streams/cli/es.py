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
