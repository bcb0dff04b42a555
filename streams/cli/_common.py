"""Helpers shared by the CLI modules: settings, console, and turning known errors into clear exits."""

from __future__ import annotations

import contextlib
from typing import Iterator

import typer
from rich.console import Console

from streams.settings import Settings

import sys

# Piped or logged output has no terminal width: rich would assume 80 columns and squeeze the mention text.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def settings() -> Settings:
    # Read from the environment each time (not cached): one process may serve several commands (tests).
    from streams.settings import SettingsError

    try:
        return Settings()
    except SettingsError as exc:  # a bad LYTTER_* value: one line naming it, before any work starts
        fail(str(exc))
        raise  # unreachable: fail exits


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """Known failures print one clear line (cause and fix) instead of a traceback."""
    from streams.ops.kafka_admin import KafkaAdminError
    from streams.sources.producer import PublishError

    from streams.cli.demo import DemoError
    from streams.settings import SettingsError
    from streams.watch import WatchConfigError

    known: tuple[type[BaseException], ...] = (KafkaAdminError, PublishError, FileNotFoundError, DemoError, WatchConfigError, SettingsError)
    try:
        from streams.ops.services import ServiceError

        known += (ServiceError,)
    except ImportError:
        pass
    try:
        from streams.query import QuerySyntaxError

        known += (QuerySyntaxError,)
    except ImportError:
        pass
    try:
        yield
    except known as exc:
        fail(str(exc))
    except typer.Exit:  # a deliberate exit (fail() included) is a RuntimeError to click: let it through
        raise
    except Exception as exc:  # elasticsearch connection problems deserve a hint, not a traceback
        from elastic_transport import ConnectionError as ESConnectionError

        from streams.sinks.elasticsearch import ElasticsearchAccessError, access_problem

        if isinstance(exc, ElasticsearchAccessError):
            fail(str(exc))
        refused = access_problem(Settings(), exc)
        if refused:
            fail(refused)

        if isinstance(exc, ESConnectionError):
            fail(
                f"Elasticsearch does not answer at {Settings().es_url} (setting LYTTER_ES_URL): {exc}. "
                "Start the local services with `lytter services up`."
            )
        raise
