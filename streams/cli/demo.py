"""The main job, end to end: services up, model ready, corpus in, worker on, enriched mentions out."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from streams.worker.process import WorkerProcess
from streams.settings import Settings

from streams.cli._common import console  # noqa: E402 - one console for the CLI and the demo

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DEMO_CORPUS = DEPLOY / "demo" / "corpus"
EXAMPLE_WATCH = DEPLOY / "watch.example.yaml"


class DemoError(RuntimeError):
    pass


def demo_files(corpus: list[str]) -> list[Path]:
    if corpus:
        return [Path(p) for p in corpus]
    files = sorted(DEMO_CORPUS.glob("*.txt"))
    if not files:
        raise DemoError(f"no demo corpus in {DEMO_CORPUS}: pass files with --corpus")
    return files


def wait_indexed(settings: Settings, ids: list[str], worker: WorkerProcess, timeout: float) -> int:
    from streams.sinks.elasticsearch import sync_client

    client = sync_client(settings)
    alias = settings.es_index_prefix
    deadline = time.monotonic() + timeout
    found = 0
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("waiting for the worker", total=len(ids))
            while time.monotonic() < deadline:
                if not worker.alive():
                    raise DemoError(f"the worker exited with code {worker.exit_code()}; its log ({worker.log_path}):\n{worker.log_tail()}")
                if client.indices.exists_alias(name=alias):
                    client.indices.refresh(index=alias)
                    found = client.count(index=alias, query={"ids": {"values": ids}})["count"]
                progress.update(task, completed=found, description=f"indexed {found}/{len(ids)} mentions")
                if found >= len(ids):
                    return found
                time.sleep(1.0)
    finally:
        client.close()
    raise DemoError(f"only {found} of {len(ids)} mentions were indexed within {timeout:.0f}s; worker log ({worker.log_path}):\n{worker.log_tail()}")


def run_demo(settings: Settings, corpus: list[str], timeout: float, keep_services: bool, scenario: bool = True) -> None:
    from streams.worker.enrich import sentiment_model_problem
    from streams.cli.ingest import publish_blog_dumps
    from streams.ops.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices

    files = demo_files(corpus)
    if not settings.watch_file.exists():
        settings = settings.model_copy(update={"watch_file": EXAMPLE_WATCH})
    services = LocalServices(settings)
    console.rule("[bold]1. local Kafka and Elasticsearch")
    services.up(progress=lambda message: console.print(f"  {message}", highlight=False))

    console.rule("[bold]2. sentiment model")
    if settings.sentiment_enabled and sentiment_model_problem(settings):
        from models.sentiment.train import build_model

        build_model(settings)
    console.print(f"  model: {settings.resolved_model_path() if settings.sentiment_enabled else 'sentiment disabled'}")

    console.rule("[bold]3. index and topics")
    report = setup_indices(settings)
    console.print(f"  alias {report.alias}; language analyzers: {'yes' if report.language_fields else 'no (minimal cluster)'}")

    console.rule("[bold]4. ingest the demo corpus")
    mentions = publish_blog_dumps(files)
    console.print(f"  published {len(mentions)} mentions from {len(files)} blog dumps to {settings.topic_raw}")

    console.rule("[bold]5. worker")
    worker = WorkerProcess(settings, settings.services_dir.parent / "worker.log").start()
    console.print(f"  worker pid {worker.pid}, log {worker.log_path}")
    try:
        wait_indexed(settings, [m.id for m in mentions], worker, timeout)
        _show_corpus(settings, files, mentions)
        if scenario:
            console.rule("[bold]7. a live incident: replaying a multi-brand stream with a crisis")
            _run_scenario(settings, worker, timeout)
    finally:
        worker.stop()
    if not keep_services:
        services.down()
    else:
        console.print("services are still running: try `lytter search strategi`, `lytter alerts`; stop them with `lytter services down`")


def _show_corpus(settings: Settings, files: list[Path], mentions) -> None:
    from streams.cli.commands import print_mentions
    from streams.sinks.elasticsearch import sync_client

    console.rule("[bold]6. what Lytter found in the corpus")
    client = sync_client(settings)
    try:
        response = client.search(
            index=settings.es_index_prefix,
            query={"ids": {"values": [m.id for m in mentions]}},
            sort=[{"id": "asc"}],
            size=len(mentions),
        )
        hits = [hit["_source"] for hit in response["hits"]["hits"]]
        print_mentions(hits, title=f"{len(hits)} enriched mentions from the demo corpus")
        by_file = {}
        for hit in hits:
            if hit.get("kind") == "post":
                by_file[hit["id"]] = hit.get("lang")
        for file in files:
            expected = file.name.split("-")[0]
            got = by_file.get(f"blog:{file.stem}")
            mark = "[green]ok[/]" if got == expected else "[red]differs[/]"
            console.print(f"  {file.name}: language {got} (file name says {expected}) {mark}")
        languages = Counter(hit.get("lang") for hit in hits)
        sentiments = Counter((hit.get("sentiment") or {}).get("label", "none") for hit in hits)
        console.print(f"  languages: {dict(languages)}; sentiment: {dict(sentiments)}")
    finally:
        client.close()


def _run_scenario(settings: Settings, worker: WorkerProcess, timeout: float) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn

    from streams.alerting.delivery import ConsoleChannel
    from streams.cli.ingest import publish_scenario
    from streams.sinks.elasticsearch import sync_client

    with Progress(TextColumn("  replaying 45 minutes of chatter at 120x"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("replay", total=None)
        sc, sent = publish_scenario(on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    wait_indexed(settings, list(sent), worker, timeout)
    client = sync_client(settings)
    try:
        deadline = time.monotonic() + 30
        alerts: list[dict] = []
        while time.monotonic() < deadline:
            if client.indices.exists(index=settings.es_alerts_index):
                client.indices.refresh(index=settings.es_alerts_index)
                alerts = [h["_source"] for h in client.search(index=settings.es_alerts_index, sort=[{"opened_at": "asc"}], size=50)["hits"]["hits"]]
                if len({a["rule"] for a in alerts}) >= 4:
                    break
            time.sleep(1)
        brands = client.search(
            index=settings.es_index_prefix,
            query={"ids": {"values": list(sent)}},
            size=0,
            aggs={"brands": {"terms": {"field": "brands"}, "aggs": {"sentiment": {"terms": {"field": "sentiment.label"}}}}},
        )["aggregations"]["brands"]["buckets"]
    finally:
        client.close()
    console.print(f"  {len(sent)} mentions; incident planted for [bold]{sc.incident_brand}[/]")
    for bucket in brands:
        mix = {b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}
        console.print(f"   {bucket['key']}: {bucket['doc_count']} mentions, sentiment {mix}", highlight=False)
    console.rule("[bold]8. alerts")
    if not alerts:
        console.print("  [yellow]no alerts were raised[/]; see the worker log")
    channel = ConsoleChannel(console)
    for alert in alerts:
        console.print(channel.renderable(alert))
