"""The main job, end to end: services up, model ready, corpus in, worker on, enriched mentions out."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from streams.process import WorkerProcess
from streams.settings import Settings

console = Console()

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "deploy" / "demo" / "corpus"


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


def run_demo(settings: Settings, corpus: list[str], timeout: float, keep_services: bool) -> None:
    from streams.app import sentiment_model_problem
    from streams.cli.commands import print_mentions
    from streams.cli.ingest import publish_blog_dumps
    from streams.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices, sync_client

    files = demo_files(corpus)
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
    finally:
        worker.stop()

    console.rule("[bold]6. what Lytter found")
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
        _print_alerts(settings, client)
    finally:
        client.close()
    if not keep_services:
        services.down()
    else:
        console.print("services are still running: try `lytter search lego`, stop them with `lytter services down`")


def _print_alerts(settings: Settings, client) -> None:
    if not client.indices.exists(index=settings.es_alerts_index):
        console.print("  alerts: none raised (no alert index yet)")
        return
    client.indices.refresh(index=settings.es_alerts_index)
    response = client.search(index=settings.es_alerts_index, sort=[{"updated_at": "desc"}], size=20)
    hits = [hit["_source"] for hit in response["hits"]["hits"]]
    console.print(f"  alerts: {response['hits']['total']['value']}")
    for alert in hits:
        console.print(f"   [{alert.get('severity')}] {alert.get('brand')}: {alert.get('title')}", highlight=False, markup=False)
