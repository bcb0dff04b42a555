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
    from streams.ops.kafka_admin import ensure_topics
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
    from streams.ops.kafka_admin import ensure_topics
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

    from streams.ops.kafka_admin import ensure_topics
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


# --- connectors: `run`, `rss`, `mastodon`, `reddit`, `bluesky`, `push` ----------------------------------

_CONNECTORS_HELP = """
The connectors are configured in the brand-watch file (LYTTER_WATCH_FILE) under `connectors:`, e.g.

\b
connectors:
  rss:
    - url: https://blog.example.dk/feed/
      interval_s: 300
  mastodon:
    - instance: https://mastodon.social
      hashtags: [lego]
      search: ["lego group"]
      stream: true
      token_env: MASTODON_TOKEN
  reddit:
    - subreddits: [denmark, norge, sweden]
      search: [lego]
      client_id_env: REDDIT_CLIENT_ID
      client_secret_env: REDDIT_CLIENT_SECRET
  bluesky:
    - keywords: [lego, "lego group"]
  push: {enabled: true}

Each source keeps a checkpoint in LYTTER_INGEST_STATE_DIR, saved only after Kafka acknowledged the mentions, so a restart resumes where it stopped. Metrics (lytter_ingest_fetched_total, lytter_ingest_published_total, lytter_ingest_errors_total) are served on LYTTER_INGEST_METRICS_PORT.
"""


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


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.command("run", help="Run every connector configured under `connectors:` in the brand-watch file.\n" + _escaped(_CONNECTORS_HELP))
def run_all(
    once: bool = typer.Option(False, "--once", help="One pass over every source (streams read until they reach the start of the run), then exit; exit code 1 if a source failed."),
    watch_file: Path = typer.Option(None, help="Brand-watch YAML with the `connectors:` section (default: setting LYTTER_WATCH_FILE)."),
    only: list[str] = typer.Option(None, help="Run only these kinds (rss, mastodon, reddit, bluesky); repeatable."),
    metrics_port: int = typer.Option(None, help="Serve Prometheus metrics on this port (default: LYTTER_INGEST_METRICS_PORT; 0 = off)."),
) -> None:
    from streams.sources.config import build_connectors, load_connectors

    with clear_errors():
        config = load_connectors(watch_file or settings().watch_file)
    connectors = _config_or_fail(lambda: build_connectors(config))
    if only:
        unknown = sorted(set(only) - {"rss", "mastodon", "reddit", "bluesky"})
        if unknown:
            from streams.cli._common import fail

            fail(f"--only {unknown}: the kinds are rss, mastodon, reddit, bluesky")
        connectors = [c for c in connectors if c.kind in only]
    port = settings().ingest_metrics_port if metrics_port is None else metrics_port
    _run_connectors(connectors, once=once, push=None if once else config.push, metrics_port=None if once else port)


@app.command("rss")
def rss(
    urls: list[str] = typer.Argument(..., help="Feed URLs (RSS or Atom)."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(300.0, help="Seconds between polls with --follow."),
    comments: bool = typer.Option(True, help="Read WordPress comment feeds (<wfw:commentRss>) of the posts too."),
    max_pages: int = typer.Option(10, help="Older pages (rel=next) to follow when every item on a page is new."),
    source: str = typer.Option("blog", help="The mentions' `source` field."),
) -> None:
    """Read RSS/Atom feeds (conditional GET, paging, comment feeds, de-duplicated by GUID) into Kafka.

    Each feed keeps its checkpoint (seen GUIDs, ETag) in LYTTER_INGEST_STATE_DIR, shared with `lytter ingest run`.
    """
    from streams.sources.config import RssFeed, rss_connectors

    feeds = _config_or_fail(lambda: [RssFeed(url=u, interval_s=interval, comments=comments, max_pages=max_pages, source=source) for u in urls])
    _run_connectors(rss_connectors(feeds), once=not follow)


@app.command("mastodon")
def mastodon(
    instance: str = typer.Argument(..., help="Instance URL or host, e.g. mastodon.social."),
    tag: list[str] = typer.Option(None, "--tag", help="Hashtag whose public timeline is read; repeatable."),
    search: list[str] = typer.Option(None, "--search", help="Full-text status search (most instances want a token); repeatable."),
    stream: bool = typer.Option(False, "--stream", help="Keep the streaming API open for the hashtags (implies --follow)."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(60.0, help="Seconds between polls with --follow."),
    backfill_pages: int = typer.Option(1, help="Pages (of 40) read backwards on the first run."),
    token_env: str = typer.Option(None, help="Name of the environment variable holding an access token."),
) -> None:
    """Read Mastodon hashtag timelines and searches (and optionally the streaming API) into Kafka.

    Paging follows the Link headers; every page is checkpointed after Kafka acknowledged it.
    """
    from streams.sources.config import MastodonConf, mastodon_connectors

    entry = _config_or_fail(
        lambda: MastodonConf(
            instance=instance, hashtags=tag or [], search=search or [], stream=stream, interval_s=interval, backfill_pages=backfill_pages, token_env=token_env
        )
    )
    connectors = _config_or_fail(lambda: mastodon_connectors([entry], where="--token-env"))
    _run_connectors(connectors, once=not (follow or stream))


@app.command("reddit")
def reddit(
    subreddit: list[str] = typer.Option(None, "--subreddit", "-r", help="Subreddit whose new posts (and comments) are read; repeatable."),
    search: list[str] = typer.Option(None, "--search", help="Search (sort=new); repeatable."),
    comments: bool = typer.Option(True, help="Also read the subreddits' new comments."),
    restrict_search: bool = typer.Option(False, help="Search only in the given subreddits."),
    follow: bool = typer.Option(False, "--follow", help="Keep polling every --interval seconds (default: one pass, then exit)."),
    interval: float = typer.Option(120.0, help="Seconds between polls with --follow."),
    base_url: str = typer.Option(None, help="API base URL (default https://www.reddit.com, https://oauth.reddit.com with OAuth)."),
    user_agent: str = typer.Option(None, help="Descriptive User-Agent as Reddit asks: '<app>/<version> (by u/<name>)'."),
    client_id_env: str = typer.Option(None, help="Environment variable with the OAuth app's client id (app-only OAuth)."),
    client_secret_env: str = typer.Option(None, help="Environment variable with the OAuth app's secret."),
) -> None:
    """Read Reddit listings (new posts, new comments) and searches into Kafka.

    Honours X-Ratelimit-Remaining/-Reset (waits when the budget is spent) and Retry-After on 429.
    """
    from streams.sources.config import RedditConf, reddit_connectors

    entry = _config_or_fail(
        lambda: RedditConf(
            subreddits=subreddit or [],
            search=search or [],
            comments=comments,
            restrict_search=restrict_search,
            interval_s=interval,
            base_url=base_url,
            user_agent=user_agent,
            client_id_env=client_id_env,
            client_secret_env=client_secret_env,
        )
    )
    connectors = _config_or_fail(lambda: reddit_connectors([entry], where="--client-id-env/--client-secret-env"))
    _run_connectors(connectors, once=not follow)


@app.command("bluesky")
def bluesky(
    keywords: list[str] = typer.Argument(..., help="Keywords or phrases; a post matches when its text contains one (at a word start, any case)."),
    jetstream_url: str = typer.Option("wss://jetstream2.us-east.bsky.network/subscribe", help="Jetstream subscribe URL."),
    follow: bool = typer.Option(True, "--follow/--once", help="Keep listening (default), or read from the checkpoint up to now and exit."),
    lang: list[str] = typer.Option(None, "--lang", help="Only posts tagged with this language (da, nb, sv, en, ...); repeatable."),
) -> None:
    """Listen to the Bluesky firehose (Jetstream) for posts with the keywords and publish them to Kafka.

    The cursor (time_us) is checkpointed: a restart resumes a few seconds before it, without duplicates.
    """
    from streams.sources.config import BlueskyConf, bluesky_connectors

    entry = _config_or_fail(lambda: BlueskyConf(keywords=keywords, jetstream_url=jetstream_url, langs=lang or []))
    _run_connectors(bluesky_connectors([entry]), once=not follow)


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
