"""The `lytter` command. Each concern is a sub-command group in its own module of this package."""

from __future__ import annotations

import importlib
import logging

import typer

app = typer.Typer(
    name="lytter",
    help="Lytter: a streaming brand-mention monitor for Danish, Norwegian, Swedish and English.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)

# (module, sub-command name, help). A module that is not there yet is skipped, so the CLI never
# breaks on a partial checkout; every module listed here exists in a complete one.
_GROUPS = [
    ("services", "services", "Fetch, start, check and stop the local Kafka and Elasticsearch."),
    ("ingest", "ingest", "Publish mentions from files and sources to Kafka."),
    ("es", "es", "Set up and inspect the Elasticsearch indices."),
    ("model", "model", "Build, evaluate and try the sentiment model."),
    ("alerts", "alerts", "Show the latest alerts; --follow for a live view."),
    ("watch", "watch", "Check the brand-watch file and try its queries."),
    ("kibana", "kibana", "Import and validate the Kibana dashboards."),
    ("inbox", "inbox", "The team's reply queue: who waits for an answer; assign, mark handled, note, snooze."),
    ("web", "web", "Serve the crisis-room page: the live reply queue, the newest alerts, volume and sentiment."),
    ("digest", "digest", "An HTML report per brand with charts; --send e-mails it."),
]


def _register() -> None:
    for module, name, help_text in _GROUPS:
        try:
            mod = importlib.import_module(f"streams.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"streams.cli.{module}":
                continue
            raise
        app.add_typer(mod.app, name=name, help=help_text)
    from streams.cli import commands  # noqa: F401  (top-level commands: worker, search, demo, settings)


_register()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Client libraries log every request at INFO: noise on a terminal (and URLs may carry secrets).
    for noisy in ("elastic_transport", "kafka", "httpx", "httpcore", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app()
