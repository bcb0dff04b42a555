"""`lytter alerts`: the latest alerts, or a live view of them (`--follow`)."""

from __future__ import annotations

import json

import typer

from streams.cli._common import clear_errors, console, settings

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@app.callback()
def alerts(
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep running and show each alert as it is raised or updated (Ctrl-C stops)."),
    brand: list[str] = typer.Option([], "--brand", "-b", help="Only these brands; repeatable."),
    limit: int = typer.Option(20, help="How many of the latest alerts to show first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document per alert instead of panels."),
) -> None:
    """Show the latest alerts from Elasticsearch; with --follow, then follow the alerts topic live."""
    from streams.alerting.delivery import ConsoleChannel

    channel = ConsoleChannel(console)

    def show(alert: dict) -> None:
        if brand and alert.get("brand") not in brand:
            return
        if as_json:
            typer.echo(json.dumps(alert, ensure_ascii=False))
        else:
            console.print(channel.renderable(alert))

    with clear_errors():
        for alert in reversed(_latest(limit, brand)):
            show(alert)
        if follow:
            _follow(show)


def _latest(limit: int, brands: list[str]) -> list[dict]:
    from streams.sinks.elasticsearch import sync_client

    s = settings()
    client = sync_client(s)
    try:
        if not client.indices.exists(index=s.es_alerts_index):
            console.print("[dim]no alerts yet[/]")
            return []
        query = {"terms": {"brand": brands}} if brands else {"match_all": {}}
        response = client.search(index=s.es_alerts_index, query=query, sort=[{"updated_at": "desc"}], size=limit)
        return [hit["_source"] for hit in response["hits"]["hits"]]
    finally:
        client.close()


def _follow(show) -> None:
    from kafka import KafkaConsumer

    s = settings()
    consumer = KafkaConsumer(
        s.topic_alerts,
        bootstrap_servers=s.kafka_bootstrap.split(","),
        auto_offset_reset="latest",
        enable_auto_commit=False,
        group_id=None,
    )
    console.print(f"[dim]following {s.topic_alerts} (Ctrl-C stops)[/]")
    try:
        for record in consumer:
            try:
                show(json.loads(record.value))
            except ValueError:
                console.print(f"[red]unreadable alert record at offset {record.offset}[/]")
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
