"""`lytter ingest ...`: publish mentions to Kafka."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer
from typer.core import TyperGroup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streams.cli._common import clear_errors, console, settings



class _IngestGroup(TyperGroup):
    """`lytter ingest`, whose connector commands (`run` and one per registry row) are added when its
    commands are first looked at: they need the connector registry, and importing every connector
    (aiohttp, feedparser, httpx, ...) would slow down every `lytter` command. They are listed after
    `scenario` and before `push`."""

    _connectors_added = False

    @property
    def commands(self) -> dict:
        if not self._connectors_added:
            self._connectors_added = True
            extra = typer.main.get_group(_connector_commands(self.rich_markup_mode)).commands
            commands: dict = {}
            for name, command in self._commands.items():
                if name == "push":
                    commands.update(extra)
                commands[name] = command
            for name, command in extra.items():
                commands.setdefault(name, command)
            self._commands = commands
        return self._commands

    @commands.setter
    def commands(self, value: dict) -> None:
        self._commands = value


app = typer.Typer(no_args_is_help=True, cls=_IngestGroup)


def publish_blog_dumps(paths: list[Path], published_at: datetime | None = None, base_url: str | None = None):
    """Parse blog dumps and publish their mentions; returns the mentions published."""
    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.replay.blogdump import parse_blog_dump
    from streams.sources.producer import MentionProducer

    s = settings()
    ensure_topics(s)
    mentions = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file (a blog dump to ingest)")
        when = published_at or datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise FileNotFoundError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); convert it with iconv") from exc
        url = f"{base_url.rstrip('/')}/{path.stem}" if base_url else None
        mentions.extend(parse_blog_dump(text, name=path.name, published_at=when, url=url))
    with MentionProducer(s) as producer:
        for mention in mentions:
            producer.send_mention(mention)
    if producer.report.failed:
        raise RuntimeError(f"{producer.report.failed} mentions were not acknowledged by Kafka: {producer.report.errors[:3]}")
    return mentions


@app.command("blogdump")
def blogdump(
    files: list[Path] = typer.Argument(..., help="Blog dump files (headline, post, comments; plain text)."),
    published_at: datetime = typer.Option(None, help="Publication time of the posts (default: each file's modification time)."),
    base_url: str = typer.Option(None, help="Base URL; a post's URL is BASE_URL/<file stem>."),
) -> None:
    """Publish plain-text blog dumps: each post and each of its comments becomes a mention."""
    with clear_errors():
        if published_at is not None and published_at.tzinfo is None:
            published_at = published_at.replace(tzinfo=timezone.utc)
        mentions = publish_blog_dumps(files, published_at, base_url)
    posts = sum(1 for m in mentions if m.kind == "post")
    console.print(f"published {len(mentions)} mentions ({posts} posts, {len(mentions) - posts} comments/pingbacks) to [bold]{settings().topic_raw}[/]")


@app.command("jsonl")
def jsonl(
    file: Path = typer.Argument(..., help="JSONL file, one mention per line (the schema of `streams.schema.Mention`)."),
    strict: bool = typer.Option(False, help="Refuse the whole file if any line is invalid, instead of letting the worker dead-letter it."),
    topic: str = typer.Option(None, help="Topic to publish to (default: setting LYTTER_TOPIC_RAW)."),
) -> None:
    """Replay a JSONL file of mentions into Kafka, exactly as the lines are."""
    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.replay.jsonl import replay_jsonl

    with clear_errors():
        ensure_topics(settings())
        total = sum(1 for line in file.open("rb") if line.strip()) if file.is_file() else None
        with Progress(TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("publish", total=total)
            report = replay_jsonl(settings(), file, topic=topic, strict=strict, on_progress=lambda n: progress.update(task, completed=n))
    for number, reason in report.invalid[:20]:
        console.print(f"[yellow]{file}:{number}[/]: {reason}", highlight=False)
    if len(report.invalid) > 20:
        console.print(f"[yellow]... and {len(report.invalid) - 20} more invalid lines[/]")
    if strict and report.invalid:
        raise typer.Exit(1)
    console.print(
        f"published {report.published} of {report.lines} lines; {len(report.invalid)} are not valid mentions "
        "and will be dead-lettered by the worker with the reason"
        + (f"; [red]{report.failed} not acknowledged by Kafka[/]" if report.failed else "")
    )
    if report.failed:
        raise typer.Exit(1)


@app.command("generate")
def generate(
    out: Path = typer.Argument(..., help="JSONL file to write."),
    count: int = typer.Option(10_000, help="Number of mentions."),
    seed: int = typer.Option(7, help="Random seed (same seed, same file)."),
) -> None:
    """Write synthetic multilingual mentions as JSONL (for load tests and replays)."""
    from streams.sources.replay.generate import generate_mentions

    with out.open("wb") as fh:
        for mention in generate_mentions(count, seed=seed):
            fh.write(mention.to_json_bytes() + b"\n")
    console.print(f"wrote {count} mentions to {out}")


def publish_scenario(
    seed: int = 7,
    minutes: float = 45.0,
    incident_at: float = 36.0,
    speed: float = 120.0,
    end_now: bool = True,
    on_progress=None,
):
    """Replay a scenario (baseline chatter + one incident) into Kafka; returns (scenario, publish times).

    With ``end_now`` the scenario's timeline is shifted so that it ends now (dashboards show it as
    recent); its rhythm is kept and replayed ``speed`` times faster than real time, in order, so the
    stream's event-time windows see what they would have seen live.
    """
    import asyncio
    import time

    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.producer import MentionProducer
    from streams.sources.replay.scenario import Scenario, replay

    s = settings()
    ensure_topics(s)
    sc = Scenario(seed=seed, baseline_minutes=minutes, incident_at_minute=incident_at)
    mentions = sc.mentions()
    if end_now and mentions:
        shift = datetime.now(timezone.utc) - mentions[-1].published_at
        mentions = [m.model_copy(update={"published_at": m.published_at + shift}) for m in mentions]
    sent: dict[str, float] = {}
    with MentionProducer(s) as producer:

        def send(mention):
            producer.send_mention(mention)
            sent[mention.id] = time.time()
            if on_progress:
                on_progress(len(sent), len(mentions))

        asyncio.run(replay(mentions, send, speed=speed))
    return sc, sent


@app.command("scenario")
def scenario(
    seed: int = typer.Option(7, help="Random seed (same seed, same stream)."),
    minutes: float = typer.Option(45.0, help="Minutes of baseline chatter."),
    incident_at: float = typer.Option(36.0, help="Minute at which the incident (a negative burst, an influential critic) starts."),
    speed: float = typer.Option(120.0, help="Replay speed: 60 = an hour in a minute; 0 = as fast as possible (order across partitions not kept)."),
    watch_out: Path = typer.Option(None, help="Also write a brand-watch YAML for the scenario's brands to this file."),
) -> None:
    """Replay a realistic multi-brand, multi-language stream with an incident (for demos and tests)."""
    import yaml

    from streams.sources.replay.scenario import Scenario

    if watch_out is not None:
        # brands with queries, owned accounts and reply targets, and the crisis keywords: what the worker reads
        watch = Scenario(seed=seed, baseline_minutes=minutes, incident_at_minute=incident_at).watch_file()
        watch_out.write_text(yaml.safe_dump(watch, allow_unicode=True), encoding="utf-8")
        console.print(f"wrote the scenario's brand watch to {watch_out} (point LYTTER_WATCH_FILE at it)")
    with clear_errors():
        with Progress(TextColumn("replaying scenario"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("replay", total=None)
            sc, sent = publish_scenario(seed, minutes, incident_at, speed, on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    console.print(f"published {len(sent)} mentions; incident for [bold]{sc.incident_brand}[/] ({len(sc.incident_mention_ids())} mentions)")


# --- connectors: `run`, one command per registry row (`rss`, `mastodon`, ...), `push` --------------------

def _connectors_help() -> str:
    """The `connectors:` section explained, with every registry row's example (for `lytter ingest run --help`)."""
    import textwrap

    from streams.sources.connectors import REGISTRY

    examples = "".join(textwrap.indent(spec.example, "  ") for spec in REGISTRY.values())
    return (
        "\nThe connectors are configured in the brand-watch file (LYTTER_WATCH_FILE) under `connectors:`, e.g.\n\n\b\nconnectors:\n"
        + examples
        + "  push: {enabled: true}\n\n"
        "Each source keeps a checkpoint in LYTTER_INGEST_STATE_DIR, saved only after Kafka acknowledged the mentions, so a restart "
        "resumes where it stopped. Metrics (lytter_ingest_fetched_total, lytter_ingest_published_total, lytter_ingest_errors_total) "
        "are served on LYTTER_INGEST_METRICS_PORT.\n"
    )


def _progress_line(connector, batch, report) -> None:
    from rich.markup import escape

    if batch.fetched or batch.mentions:
        console.print(
            f"[cyan]{escape(connector.source_id)}[/] {escape(batch.note)}: {batch.fetched} read, "
            f"{len(batch.mentions)} new published (total {report.published})",
            highlight=False,
        )


def _run_connectors(connectors, *, once: bool, push=None, metrics_port: int | None = None) -> None:
    """Run connectors (and the push endpoint), print a summary; exits 1 when a source failed (--once)."""
    import asyncio

    from rich.markup import escape
    from rich.table import Table

    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.agent import AgentError, run_agents
    from streams.sources.base import SourceError

    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise; progress lines follow
    s = settings()
    try:
        with clear_errors():
            ensure_topics(s)
            mode = "one pass" if once else "running until Ctrl-C"
            console.print(f"{len(connectors)} source(s), {mode}; publishing to [bold]{s.topic_raw}[/], checkpoints in {s.ingest_state_dir}")
            reports = asyncio.run(run_agents(s, connectors, once=once, push=push, metrics_port=metrics_port, on_batch=_progress_line))
    except (SourceError, AgentError, OSError) as exc:
        from streams.cli._common import fail

        fail(str(exc))
        return
    table = Table(title="ingest summary")
    for column in ("source", "read", "published", "errors"):
        table.add_column(column, justify="right" if column in ("read", "published") else "left")
    failed = False
    for report in reports.values():
        failed = failed or bool(report.errors)
        table.add_row(escape(report.source_id), str(report.fetched), str(report.published), escape(report.errors[-1]) if report.errors else "")
    console.print(table)
    if once and failed:
        raise typer.Exit(1)


def _config_or_fail(build):
    from streams.cli._common import fail
    from streams.sources.config import ConnectorConfigError
    from pydantic import ValidationError

    try:
        return build()
    except ValidationError as exc:
        fail("; ".join(f"--{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)))
    except (ConnectorConfigError, ValueError) as exc:
        fail(str(exc))


def _kinds() -> list[str]:
    from streams.sources.connectors import REGISTRY

    return list(REGISTRY)


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _run_all_command():
    """`lytter ingest run`; its help lists the registry's examples and kinds."""
    kinds = _kinds()

    def run_all(
        once: bool = typer.Option(False, "--once", help="One pass over every source (streams read until they reach the start of the run), then exit; exit code 1 if a source failed."),
        watch_file: Path = typer.Option(None, help="Brand-watch YAML with the `connectors:` section (default: setting LYTTER_WATCH_FILE)."),
        only: list[str] = typer.Option(None, help=f"Run only these kinds ({', '.join(kinds)}); repeatable."),
        metrics_port: int = typer.Option(None, help="Serve Prometheus metrics on this port (default: LYTTER_INGEST_METRICS_PORT; 0 = off)."),
    ) -> None:
        from streams.sources.config import build_connectors, load_connectors

        with clear_errors():
            config = load_connectors(watch_file or settings().watch_file)
        connectors = _config_or_fail(lambda: build_connectors(config))
        if only:
            unknown = sorted(set(only) - set(kinds))
            if unknown:
                from streams.cli._common import fail

                fail(f"--only {unknown}: the kinds are {', '.join(kinds)}")
            connectors = [c for c in connectors if c.kind in only]
        port = settings().ingest_metrics_port if metrics_port is None else metrics_port
        _run_connectors(connectors, once=once, push=None if once else config.push, metrics_port=None if once else port)

    return run_all


def _connector_command(name: str, spec):
    """`lytter ingest <name>`: the options and help are the registry row's ``command``; it validates its
    entries, builds the connectors with the row's builder and runs them."""
    import functools

    @functools.wraps(spec.command)
    def command(**options) -> None:
        request = spec.command(**options)
        entries = _config_or_fail(request.entries)
        connectors = _config_or_fail(lambda: spec.build(entries, where=request.where or f"connectors.{name}"))
        _run_connectors(connectors, once=request.once)

    return command


def _connector_commands(rich_markup_mode) -> typer.Typer:
    """`run` and one command per registry row, on a Typer of their own (see :class:`_IngestGroup`)."""
    from streams.sources.connectors import REGISTRY

    sub = typer.Typer(rich_markup_mode=rich_markup_mode)
    sub.command("run", help="Run every connector configured under `connectors:` in the brand-watch file.\n" + _escaped(_connectors_help()))(_run_all_command())
    for name, spec in REGISTRY.items():
        sub.command(name)(_connector_command(name, spec))
    return sub


@app.command("push")
def push(
    host: str = typer.Option(None, help="Address to listen on (default: LYTTER_PUSH_HOST)."),
    port: int = typer.Option(None, help="Port (default: LYTTER_PUSH_PORT)."),
    max_batch: int = typer.Option(1000, help="Mentions per request at most (413 above)."),
) -> None:
    """Serve the push endpoint: POST /mentions (Bearer LYTTER_PUSH_TOKEN; one mention or a list) -> Kafka.

    Answers 202 with the accepted ids once Kafka acknowledged them; 401 without the right token; 422 naming
    the field for invalid mentions; 413 for too large a batch. GET /healthz for load balancers.
    """
    import asyncio

    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.agent import AgentError, push_token
    from streams.sources.push import create_app, serve
    from streams.sources.runner import KafkaPublisher

    s = settings()
    listen_host, listen_port = host or s.push_host, port or s.push_port

    async def main() -> None:
        from streams.sources.agent import _install_signals

        stop = asyncio.Event()
        _install_signals(stop)
        publisher = KafkaPublisher(s)
        try:
            app_ = create_app(push_token(s), publisher, max_batch=max_batch)
            console.print(f"push endpoint on http://{listen_host}:{listen_port}/mentions -> [bold]{s.topic_raw}[/] (Ctrl-C stops)")
            await serve(app_, listen_host, listen_port, stop)
        finally:
            await publisher.aclose()

    try:
        push_token(s)  # before anything else: no token, no endpoint
        with clear_errors():
            ensure_topics(s)
            asyncio.run(main())
    except (AgentError, OSError) as exc:
        from streams.cli._common import fail

        fail(str(exc))
