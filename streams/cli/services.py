"""`lytter services ...`: the local Kafka and Elasticsearch (fetched from Maven Central, run as Java processes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

import typer
from rich.table import Table
from rich.text import Text

from streams.cli._common import console, err_console, settings

app = typer.Typer(no_args_is_help=True, help="Fetch, start, check and stop the local Kafka and Elasticsearch.")


class Service(str, Enum):
    kafka = "kafka"
    elasticsearch = "elasticsearch"


def _services(security: bool = False):
    from streams.ops.services import LocalServices

    return LocalServices(settings(), security=security)


@contextmanager
def _service_errors() -> Iterator[None]:
    """A ServiceError is printed in red (its message says cause and fix) and exits 1, without a traceback."""
    from streams.ops.services import ServiceError

    try:
        yield
    except ServiceError as exc:
        err_console.print(Text("error: ", style="bold red") + Text(str(exc), style="red"), soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def _progress(title: str) -> Iterator:
    """A spinner whose text follows the launcher's progress messages; each finished step stays printed."""
    started = time.monotonic()
    with console.status(f"[bold]{title}[/]") as status:

        def report(message: str) -> None:
            console.print(f"  [dim]{time.monotonic() - started:6.1f}s[/] {message}", highlight=False)
            status.update(f"[bold]{message}[/]")

        yield report


def _status_table(state: dict[str, dict]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("service", "running", "pid", "port", "healthy", "detail", "log"):
        table.add_column(column, overflow="fold")
    for name, entry in state.items():
        table.add_row(
            name,
            "[green]yes[/]" if entry["running"] else "[dim]no[/]",
            str(entry["pid"] or "-"),
            str(entry["port"]),
            "[green]yes[/]" if entry["healthy"] else ("[red]no[/]" if entry["running"] else "[dim]-[/]"),
            entry.get("detail", ""),
            entry["log"],
        )
    return table


@app.command("fetch")
def fetch() -> None:
    """Download Kafka and the Elasticsearch test distribution from Maven Central into the cache (once)."""
    services = _services()
    with _service_errors(), _progress("fetching") as report:
        paths = services.fetch(progress=report)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command("up")
def up(
    service: Service | None = typer.Argument(None, help="Start only this one (default: both)."),
    timeout: float = typer.Option(180.0, help="Seconds to wait for the services to become healthy."),
    security: bool = typer.Option(
        False,
        help="Elasticsearch with security on: Lytter logs in as LYTTER_ES_USERNAME (e.g. lytter: made with the role "
        "of deploy/elasticsearch/roles.yml; `elastic` gets LYTTER_ES_SUPERUSER_PASSWORD) with LYTTER_ES_PASSWORD.",
    ),
) -> None:
    """Start the local Kafka and Elasticsearch (fetching them first if needed) and wait until healthy.

    Already running and healthy services are left alone. Ports, heaps and directories come from the settings (LYTTER_KAFKA_PORT, LYTTER_ES_PORT, LYTTER_SERVICES_DIR, ...: see `lytter settings`).
    """
    services = _services(security)
    started = time.monotonic()
    with _service_errors(), _progress("starting services") as report:
        outcome = services.up(timeout=timeout, progress=report, names=[service.value] if service else None)
    for name, what in outcome.items():
        console.print(f"{name}: {what}")
    console.print(_status_table({n: e for n, e in services.status().items() if n in outcome}))
    console.print(f"ready in {time.monotonic() - started:.1f}s; stop them with `lytter services down`")


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Show whether each local service runs, its pid, port, health and log file."""
    with _service_errors():
        state = _services().status()
    if as_json:
        import json

        console.print_json(json.dumps(state))
    else:
        console.print(_status_table(state))


@app.command("down")
def down(
    service: Service | None = typer.Argument(None, help="Stop only this one (default: both)."),
    grace: float = typer.Option(30.0, help="Seconds to wait after SIGTERM before SIGKILL."),
) -> None:
    """Stop the local Kafka and Elasticsearch (SIGTERM, then SIGKILL after the grace period). Data is kept."""
    started = time.monotonic()
    with _service_errors(), console.status("[bold]stopping services[/]"):
        outcome = _services().down(grace=grace, names=[service.value] if service else None)
    for name, what in outcome.items():
        console.print(f"{name}: {what}")
    console.print(f"done in {time.monotonic() - started:.1f}s")


@app.command("logs")
def logs(
    service: Service | None = typer.Argument(None, help="kafka or elasticsearch (default: both)."),
    lines: int = typer.Option(50, "-n", "--lines", help="How many lines from the end."),
) -> None:
    """Print the last lines of a local service's log (its output since it was last started)."""
    services = _services()
    names = [service.value] if service else [s.value for s in Service]
    with _service_errors():
        for name in names:
            text = services.logs(name, lines=lines)
            if len(names) > 1:
                console.rule(f"{name} ({services.log_path(name)})")
            typer.echo(text)
