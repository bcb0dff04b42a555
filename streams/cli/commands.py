"""Top-level commands: worker, search, demo, settings."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import typer
from rich.table import Table
from rich.text import Text

from streams.cli import app
from streams.cli._common import clear_errors, console, fail, settings


@app.command()
def worker() -> None:
    """Run the stream worker (Faust) in the foreground: enrich mentions.raw and index them. Ctrl-C stops it."""
    from streams.worker.app import run_worker
    from streams.worker.enrich import sentiment_model_problem

    with clear_errors():
        s = settings()
        problem = sentiment_model_problem(s)
        if problem:
            fail(problem)
        run_worker(s)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--{name} {value!r} is not an ISO date/time, e.g. 2026-11-23 or 2026-11-23T08:00:00+01:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _brands_cell(hit: dict, colours: dict[str, str]) -> Text:
    """Brands, each coloured by its own sentiment where the worker scored one (``brand_sentiment``)."""
    per_brand = {b.get("brand"): b.get("label") for b in hit.get("brand_sentiment") or [] if isinstance(b, dict)}
    brands = hit.get("brands") or []
    if not brands:
        return Text("-")
    cell = Text()
    for i, brand in enumerate(brands):
        if i:
            cell.append(", ")
        label = per_brand.get(brand)
        cell.append(str(brand), style=colours.get(label, "white") if label else "")
        if label and label != (hit.get("sentiment") or {}).get("label"):
            cell.append(f" ({label})", style=colours.get(label, "white"))
    return cell


def print_mentions(hits: list[dict], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False, expand=True)
    table.add_column("published", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("sentiment", no_wrap=True)
    table.add_column("brands", max_width=18)
    table.add_column("source / kind", max_width=16)
    table.add_column("text", ratio=3, min_width=40)
    colours = {"negative": "red", "neutral": "white", "positive": "green"}
    for hit in hits:
        sentiment = hit.get("sentiment") or {}
        label = sentiment.get("label", "-")
        text = " ".join((hit.get("text") or "").split())
        # Mention fields are data: Text cells are printed literally, never parsed as console markup.
        table.add_row(
            Text((hit.get("published_at") or "")[:16].replace("T", " ")),
            Text(str(hit.get("lang", "-"))),
            Text(f"{label} {sentiment.get('score', 0):+.2f}", style=colours.get(label, "white")) if sentiment else Text("-"),
            _brands_cell(hit, colours),
            Text(f"{hit.get('source')}/{hit.get('kind')}"),
            Text(text[:160] + ("…" if len(text) > 160 else "")),
        )
    console.print(table, highlight=False)


@app.command()
def search(
    query: str = typer.Argument(None, help='Boolean query, e.g. \'(lego OR "lego group") AND NOT job* lang:da\'.'),
    lang: list[str] = typer.Option([], "--lang", "-l", help="Language filter (da, nb, nn, sv, en, other); repeatable."),
    source: list[str] = typer.Option([], "--source", "-s", help="Source filter; repeatable."),
    brand: list[str] = typer.Option([], "--brand", "-b", help="Brand filter; repeatable."),
    sentiment: list[str] = typer.Option([], "--sentiment", help="negative, neutral or positive; repeatable."),
    since: str = typer.Option(None, help="Published at or after (ISO date/time)."),
    until: str = typer.Option(None, help="Published before (ISO date/time)."),
    min_influence: float = typer.Option(None, help="Only authors with at least this influence (0-100)."),
    sort: str = typer.Option("time", help="time, impact or relevance."),
    size: int = typer.Option(20, help="Number of mentions to show (up to 10000 with --export)."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON lines instead of a table (= --export jsonl)."),
    export: str = typer.Option(None, help="Write the hits to standard output as csv or jsonl instead of a table."),
    terms: bool = typer.Option(False, "--terms", help="Instead of hits: the brand's emerging terms in --since/--until (default: the last 24 hours) against its baseline; needs one --brand; --size terms, --json for JSON lines."),
    baseline_days: float = typer.Option(7.0, "--baseline-days", help="With --terms: days before --since that make the brand's baseline."),
) -> None:
    """Search indexed mentions: Boolean query (the brand-watch syntax) plus filters; prints a table with a
    summary by sentiment, language, source and brand, or exports CSV / JSON lines. With --terms: the
    words and phrases unusually frequent for a brand in a window (an incident) instead."""
    from streams.query.search import SearchRequest, run_search

    if terms:
        others = {"QUERY": query, "--lang": lang, "--source": source, "--sentiment": sentiment, "--min-influence": min_influence, "--export": export}
        _search_terms(brand, _parse_time(since, "since"), _parse_time(until, "until"), baseline_days, size, as_json, [k for k, v in others.items() if v])
        return

    request = SearchRequest(
        query=query,
        langs=lang,
        sources=source,
        brands=brand,
        sentiments=sentiment,
        since=_parse_time(since, "since"),
        until=_parse_time(until, "until"),
        min_influence=min_influence,
        sort=sort,
        size=size,
    )
    if as_json:
        export = "jsonl"
    if export not in (None, "csv", "jsonl"):
        fail(f"--export must be csv or jsonl, not {export!r}")
    with clear_errors():
        try:
            result = run_search(settings(), request)
        except ValueError as exc:
            fail(str(exc))
    if export == "jsonl":
        for hit in result.hits:
            typer.echo(json.dumps(hit, ensure_ascii=False))
        return
    if export == "csv":
        _write_csv(result.hits)
        return
    print_mentions(result.hits, title=f"{result.total} mentions")
    for name, buckets in result.aggregations.items():
        if buckets:
            console.print(
                Text(f"{name.replace('by_', 'by ')}: ", style="bold") + Text(", ".join(f"{k} {v}" for k, v in buckets.items())),
                highlight=False,
            )


def _search_terms(brands: list[str], since: datetime | None, until: datetime | None, baseline_days: float, size: int, as_json: bool, ignored: list[str]) -> None:
    """``lytter search --terms``: the emerging terms table (or JSON lines) for one brand's window."""
    from datetime import timedelta

    from streams.query.terms import EmergingTermsError, emerging_terms
    from streams.sinks.elasticsearch import sync_client

    if len(brands) != 1:
        fail(f"--terms needs exactly one --brand (the brand whose baseline the window is compared with), got {len(brands)}")
    if ignored:
        fail(f"--terms compares the brand's whole window with its baseline; drop {', '.join(ignored)} (or drop --terms)")
    end = until or datetime.now(timezone.utc)
    start = since or end - timedelta(days=1)
    with clear_errors():
        s = settings()
        client = sync_client(s)
        try:
            found = emerging_terms(client, s, brand=brands[0], start=start, end=end, baseline_days=baseline_days, size=min(size, 200))
        except EmergingTermsError as exc:
            fail(str(exc))
        finally:
            client.close()
    if as_json:
        for term in found:
            typer.echo(json.dumps(term, ensure_ascii=False))
        return
    print_terms(found, title=f"emerging terms for {brands[0]}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} vs {baseline_days:g} days before")


def print_terms(found: list[dict], title: str) -> None:
    if not found:
        console.print(Text(f"{title}: none (no term in at least 2 of the window's mentions stands out)"), highlight=False)
        return
    table = Table(title=title)
    table.add_column("term")
    for name in ("in window", "in baseline", "score"):
        table.add_column(name, justify="right")
    for term in found:  # terms come from mention text: literal Text cells, never console markup
        table.add_row(Text(term["term"]), str(term["count"]), str(term["baseline_count"]), f"{term['score']:.3f}")
    console.print(table, highlight=False)


CSV_COLUMNS = ["id", "published_at", "source", "kind", "lang", "sentiment", "sentiment_score", "brands", "brand_sentiment", "author", "followers", "influence", "reach", "impact", "url", "title", "text"]


def _write_csv(hits: list[dict]) -> None:
    import csv
    import sys

    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for hit in hits:
        author = hit.get("author") or {}
        sentiment = hit.get("sentiment") or {}
        row = {name: hit.get(name) for name in CSV_COLUMNS}
        row.update(
            sentiment=sentiment.get("label"),
            sentiment_score=sentiment.get("score"),
            brands=";".join(hit.get("brands") or []),
            brand_sentiment=";".join(b.get("brand_label", "") for b in hit.get("brand_sentiment") or [] if isinstance(b, dict)),
            author=author.get("handle"),
            followers=author.get("followers"),
        )
        # Spreadsheet apps run cells that start with = + - @ as formulas: mention text is data.
        for key, value in row.items():
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
                row[key] = "'" + value
        writer.writerow(row)


@app.command("settings")
def show_settings() -> None:
    """Print every setting with its value, type and environment variable (secrets masked)."""
    s = settings()
    table = Table("environment variable", "value", "description")
    for name, field in type(s).model_fields.items():
        value = getattr(s, name)
        shown = "******" if "password" in name or "token" in name or "secret" in name else str(value)
        if value is None:
            shown = "-"
        table.add_row(f"LYTTER_{name.upper()}", shown, field.description or "")
    console.print(table, highlight=False)


@app.command()
def demo(
    corpus: list[str] = typer.Option([], help="Blog dump files to ingest (default: the demo corpus in deploy/demo/corpus)."),
    timeout: float = typer.Option(300, help="Seconds to wait for the worker to index everything."),
    keep_services: bool = typer.Option(True, help="Leave Kafka and Elasticsearch running afterwards (stop them with `lytter services down`)."),
    scenario: bool = typer.Option(True, help="Also replay a 45-minute multi-brand stream with an incident, to show alerts."),
) -> None:
    """The main job: start the local services, build the model if needed, ingest the demo corpus, run the
    worker until every mention is indexed, and show the enriched mentions and alerts."""
    from streams.cli.demo import run_demo

    with clear_errors():
        run_demo(settings(), corpus=corpus, timeout=timeout, keep_services=keep_services, scenario=scenario)


@app.command()
def bench(
    count: int = typer.Option(10_000, help="Generated mentions replayed through the worker per run."),
    sentiment_texts: int = typer.Option(1000, help="Texts for the sentiment benchmark (0 skips it)."),
    repeats: int = typer.Option(2, min=1, help="Timed runs per side (model on/off, bulk/single), in alternating order; medians and min-max printed."),
    warmup: bool = typer.Option(True, help="One untimed end-to-end run (model on) before the timed ones."),
    timeout: float = typer.Option(900, help="Seconds a run may take to index every mention; a run that does not is printed as MISS."),
) -> None:
    """Measure the pipeline on this machine: end-to-end mentions/s and latency (model on vs off), worker
    memory, the sink's bulk indexer vs single-document indexing, sentiment vs a naive pipeline; as ratios
    of medians over alternating repeated runs."""
    from streams.bench.endtoend import run_bench

    def show(rows):
        table = Table("measure", "Lytter", "baseline (same run)", "ratio", title="lytter bench")
        for row in rows:
            table.add_row(*row)
        console.print(table)

    with clear_errors():
        run_bench(settings(), count, sentiment_texts, lambda message: console.print(f"[dim]{message}[/]", highlight=False), show,
                  repeats=repeats, warmup=warmup, timeout=timeout)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the status as JSON.")) -> None:
    """One screen: Kafka, Elasticsearch, the worker (counts, dead letters, alerts) and consumer lag."""
    from streams.ops.health import collect_status

    report = collect_status(settings())
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    table = Table("component", "state", "details", title="lytter status")
    for name, item in report.items():
        colour = "green" if item["ok"] else "red"
        table.add_row(name, f"[{colour}]{'ok' if item['ok'] else 'down'}[/]", item["detail"])
    console.print(table, highlight=False)
    if not all(item["ok"] for item in report.values()):
        raise typer.Exit(1)
