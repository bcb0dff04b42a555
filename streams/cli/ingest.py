"""`lytter ingest ...`: publish mentions to Kafka."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streams.cli._common import clear_errors, console, settings

app = typer.Typer(no_args_is_help=True)


def publish_blog_dumps(paths: list[Path], published_at: datetime | None = None, base_url: str | None = None):
    """Parse blog dumps and publish their mentions; returns the mentions published."""
    from streams.kafka_admin import ensure_topics
    from streams.sources.blogdump import parse_blog_dump
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
    from streams.kafka_admin import ensure_topics
    from streams.sources.jsonl import replay_jsonl

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
    from streams.sources.generate import generate_mentions

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

    from streams.kafka_admin import ensure_topics
    from streams.sources.producer import MentionProducer
    from streams.sources.scenario import Scenario, replay

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

    from streams.sources.scenario import Scenario

    if watch_out is not None:
        config = Scenario(seed=seed, baseline_minutes=minutes, incident_at_minute=incident_at).watch_config()
        watch = {"brands": [{"name": b["name"], "query": b["query"]} for b in config["brands"]], "alerts": {"crisis_keyword": {"keywords": config["crisis_keywords"]}}}
        watch_out.write_text(yaml.safe_dump(watch, allow_unicode=True), encoding="utf-8")
        console.print(f"wrote the scenario's brand watch to {watch_out} (point LYTTER_WATCH_FILE at it)")
    with clear_errors():
        with Progress(TextColumn("replaying scenario"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("replay", total=None)
            sc, sent = publish_scenario(seed, minutes, incident_at, speed, on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    console.print(f"published {len(sent)} mentions; incident for [bold]{sc.incident_brand}[/] ({len(sc.incident_mention_ids())} mentions)")
