"""The main job, end to end: services up, model ready, corpus in, worker on, enriched mentions out.

Then a live incident: the scenario (streams/sources/replay/scenario) replayed through the worker, its
alerts, and the answer loop's and the stories' view of it: the reply queue, the unanswered alerts, the
largest stories, and a digest."""

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

# The scenario part: 45 minutes of chatter, the incident at minute 36, replayed at 120x (about 23 s).
DEMO_SEED, DEMO_MINUTES, DEMO_INCIDENT_AT, DEMO_SPEED = 7, 45.0, 36.0, 120.0
# The replay keeps the scenario's spacing and ends "now", so a question from minute m is already
# 45 - m minutes old when the worker sees it, while the wall clock that checks reply deadlines moves
# on at normal speed. With the brands' teams online from minute 15 (Scenario.support_online_at_minute)
# a 35-minute target leaves every answered question at least 5 minutes short of its deadline when its
# answer arrives (no alert that a live stream would not raise), and the morning backlog from before
# minute ~10 overdue at once: the unanswered alert fires while the demo watches.
DEMO_REPLY_TARGET_MINUTES = 35.0
DEMO_ALERT_RULES = {"volume_spike", "negative_surge", "influential_critic", "crisis_keyword", "unanswered"}


class DemoError(RuntimeError):
    pass


def demo_scenario():
    from streams.sources.replay.scenario import Scenario

    return Scenario(seed=DEMO_SEED, baseline_minutes=DEMO_MINUTES, incident_at_minute=DEMO_INCIDENT_AT)


def demo_watch(settings: Settings, scenario) -> Settings:
    """The example watch with the scenario brands' owned accounts and the demo's reply target, written
    next to the services (a watch of your own, LYTTER_WATCH_FILE, is used as it is)."""
    import yaml

    if settings.watch_file.resolve() != EXAMPLE_WATCH.resolve():
        console.print(f"  using your watch {settings.watch_file}: its reply targets decide whether the demo's unanswered alert fires", highlight=False)
        return settings
    data = yaml.safe_load(EXAMPLE_WATCH.read_text(encoding="utf-8"))
    ours = {b["name"]: b for b in scenario.watch_file(DEMO_REPLY_TARGET_MINUTES)["brands"]}
    for brand in data["brands"]:
        if brand["name"] in ours:
            brand["owned_accounts"], brand["reply"] = ours[brand["name"]]["owned_accounts"], ours[brand["name"]]["reply"]
    path = settings.services_dir.parent / "demo-watch.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return settings.model_copy(update={"watch_file": path})


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
    if scenario:
        settings = demo_watch(settings, demo_scenario())
    services = LocalServices(settings)
    console.rule("[bold]1. local Kafka and Elasticsearch")
    services.up(progress=lambda message: console.print(f"  {message}", highlight=False))

    console.rule("[bold]2. sentiment model")
    if settings.sentiment_enabled and sentiment_model_problem(settings):
        from models.build import build_models

        build_models(settings)
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


def _publish(settings: Settings, sc, on_progress) -> dict[str, float]:
    """Replay ``sc`` into Kafka at DEMO_SPEED, shifted to end now (spacing kept, so the event-time windows
    see what they would have seen live); the wall-clock publish time per mention id."""
    import asyncio
    from datetime import datetime, timezone

    from streams.ops.kafka_admin import ensure_topics
    from streams.sources.producer import MentionProducer
    from streams.sources.replay.scenario import replay

    ensure_topics(settings)
    mentions = sc.mentions()
    shift = datetime.now(timezone.utc) - mentions[-1].published_at
    mentions = [m.model_copy(update={"published_at": m.published_at + shift}) for m in mentions]
    sent: dict[str, float] = {}
    with MentionProducer(settings) as producer:

        def send(mention) -> None:
            producer.send_mention(mention)
            sent[mention.id] = time.time()
            on_progress(len(sent), len(mentions))

        asyncio.run(replay(mentions, send, speed=DEMO_SPEED))
    return sent


def _run_scenario(settings: Settings, worker: WorkerProcess, timeout: float) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn

    from streams.sinks.elasticsearch import sync_client

    sc = demo_scenario()
    label = f"  replaying {DEMO_MINUTES:g} minutes of chatter at {DEMO_SPEED:g}x"
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("replay", total=None)
        sent = _publish(settings, sc, on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    wait_indexed(settings, list(sent), worker, timeout)
    client = sync_client(settings)
    try:
        alerts = _wait_for_alerts(settings, client, seconds=60)
        _show_brands(settings, client, sc, list(sent))
        _show_alerts(alerts)
        _show_answer_loop(settings, client, sc)
        _show_queue(settings, client, sc)
        _show_unanswered(alerts)
        _show_stories(settings, client, sc, list(sent))
    finally:
        client.close()
    _write_digest(settings)


def _alert_docs(settings: Settings, client) -> list[dict]:
    if not client.indices.exists(index=settings.es_alerts_index):
        return []
    client.indices.refresh(index=settings.es_alerts_index)
    hits = client.search(index=settings.es_alerts_index, sort=[{"opened_at": "asc"}], size=100)["hits"]["hits"]
    return [h["_source"] for h in hits]


def _wait_for_alerts(settings: Settings, client, seconds: float) -> list[dict]:
    """The alerts, once every rule the scenario should raise is there (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    alerts: list[dict] = []
    with console.status("  waiting for the alerts (the unanswered one comes with the worker's next wall-clock tick)") as status:
        while time.monotonic() < deadline:
            alerts = _alert_docs(settings, client)
            seen = {a["rule"] for a in alerts}
            status.update(f"  alerts so far: {', '.join(sorted(seen)) or 'none'}")
            if seen >= DEMO_ALERT_RULES:
                break
            time.sleep(1)
    return alerts


def _show_brands(settings: Settings, client, sc, ids: list[str]) -> None:
    brands = client.search(
        index=settings.es_index_prefix,
        query={"ids": {"values": ids}},
        size=0,
        aggs={"brands": {"terms": {"field": "brands"}, "aggs": {"sentiment": {"terms": {"field": "sentiment.label"}}}}},
    )["aggregations"]["brands"]["buckets"]
    console.print(f"  {len(ids)} mentions; incident planted for [bold]{sc.incident_brand}[/]")
    for bucket in brands:
        mix = {b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}
        console.print(f"   {bucket['key']}: {bucket['doc_count']} mentions, sentiment {mix}", highlight=False)


def _show_alerts(alerts: list[dict]) -> None:
    from streams.alerting.delivery import ConsoleChannel
    from streams.stories import CampaignConfig

    console.rule("[bold]8. alerts")
    if not alerts:
        console.print("  [yellow]no alerts were raised[/]; see the worker log")
    missing = DEMO_ALERT_RULES - {a["rule"] for a in alerts}
    if alerts and missing:
        console.print(f"  [yellow]not raised within a minute: {', '.join(sorted(missing))}[/]; see the worker log")
    channel = ConsoleChannel(console)
    for alert in alerts:
        console.print(channel.renderable(alert))
    campaigns = [a for a in alerts if (a.get("evidence") or {}).get("campaign")]
    for alert in campaigns[:1]:
        flag = alert["evidence"]["campaign"]
        # "seconds" is the fastest run of the campaign rule's min_authors accounts, not the whole story's span
        console.print(f"  possible coordinated campaign in the {alert['rule']} alert: {flag.get('authors')} accounts posted one text "
                      f"(similarity {flag.get('similarity')}), the fastest {CampaignConfig().min_authors} within {flag.get('seconds')} s", highlight=False)


def _show_answer_loop(settings: Settings, client, sc) -> None:
    """What the scenario planted (ground truth) next to what the worker found for those mentions."""
    console.rule("[bold]9. the answer loop: questions to the brands and their answers")
    planted = sc.question_ids()
    answered = set(sc.question_ids(answered=True))
    hits = client.search(index=settings.es_index_prefix, query={"ids": {"values": planted}}, size=len(planted),
                         source=["id", "needs_reply", "answered_at", "response_time_s", "addressed_to"])["hits"]["hits"]
    docs = {h["_source"]["id"]: h["_source"] for h in hits}
    needs = [i for i in planted if (docs.get(i) or {}).get("needs_reply")]
    found = [i for i in planted if (docs.get(i) or {}).get("answered_at")]
    console.print(f"  planted: {len(planted)} questions, requests and complaints addressed to the brands, "
                  f"{len(answered)} answered by the brand's own account", highlight=False)
    console.print(f"  the worker: {len(needs)} of them need a reply, {len(found)} answered "
                  f"({len(answered & set(found))} of the {len(answered)} the brands answered)", highlight=False)
    times = sorted(docs[i]["response_time_s"] / 60 for i in found if docs[i].get("response_time_s") is not None)
    if times:
        console.print(f"  response times: median {times[len(times) // 2]:.0f} min, longest {times[-1]:.0f} min", highlight=False)
    if not needs:
        console.print("  [yellow]no planted question was marked needs_reply[/]: is the answer loop wired into the worker? see its log")


def _show_queue(settings: Settings, client, sc, limit: int = 10) -> None:
    from rich.table import Table

    from datetime import datetime, timezone

    from streams.inbox.queue import fetch_queue, queue_filter_query

    queue = fetch_queue(settings, limit=limit, client=client, target_minutes=DEMO_REPLY_TARGET_MINUTES)
    table = Table(title=f"the reply queue: {queue.total} mentions wait for an answer (top {len(queue.items)})", title_justify="left")
    planted = {m.id: m.raw["scenario"]["role"] for m in sc.mentions()}  # the scenario's ground truth, for comparison
    for column in ("brand", "waiting", "intent", "planted as", "source", "text"):
        table.add_column(column, overflow="fold" if column == "text" else "ellipsis", no_wrap=column != "text")
    for item in queue.items:
        doc = item.mention
        brand = ", ".join(doc.get("addressed_to") or []) or "-"
        table.add_row(brand, f"{item.waiting_s / 60:.0f} min", doc.get("intent") or "?", planted.get(item.id, "-"),
                      doc.get("source") or "", (doc.get("text") or "")[:110])
    console.print(table)
    waiting = sc.question_ids(answered=False)
    query = queue_filter_query(datetime.now(timezone.utc))
    query["bool"]["filter"].append({"ids": {"values": waiting}})
    queued = client.count(index=settings.es_index_prefix, query=query)["count"]
    console.print(f"  {queued} of the queue are the {len(waiting)} planted questions nobody answered; the rest are mentions the "
                  "worker read as questions, requests or complaints naming a brand (intent)", highlight=False)


def _show_unanswered(alerts: list[dict]) -> None:
    unanswered = [a for a in alerts if a["rule"] == "unanswered"]
    if not unanswered:
        console.print("  [yellow]no unanswered alert yet[/]: the worker raises it on its wall-clock tick once a reply target has passed")
    for alert in unanswered:
        evidence = alert.get("evidence") or {}
        console.print(f"  unanswered alert for [bold]{alert['brand']}[/] ({alert['severity']}, {alert['status']}): "
                      f"{evidence.get('waiting')} waiting, the oldest for {evidence.get('oldest_waiting_minutes')} min "
                      f"(target {evidence.get('target_minutes')} min)")


def _show_stories(settings: Settings, client, sc, ids: list[str], size: int = 5) -> None:
    """The largest stories (near-duplicates share a story_id) among the replayed mentions."""
    from rich.table import Table

    console.rule("[bold]10. stories: reposts and copy-paste")
    aggs = {"stories": {"terms": {"field": "story_id", "size": size}, "aggs": {
        "authors": {"cardinality": {"field": "author.handle"}},
        "span": {"stats": {"field": "published_at"}},
        "first": {"top_hits": {"size": 1, "sort": [{"published_at": "asc"}], "_source": ["text"]}},
    }}}
    buckets = client.search(index=settings.es_index_prefix, query={"ids": {"values": ids}}, size=0, aggs=aggs)["aggregations"]["stories"]["buckets"]
    if not buckets:
        console.print("  [yellow]no story_id on the mentions[/]: are stories wired into the worker? see its log")
        return
    copies = set(sc.copy_paste_ids())
    copy_story = _story_of(settings, client, sorted(copies)[:1])
    table = Table(title="the largest stories", title_justify="left")
    for column in ("mentions", "accounts", "minutes", "first text"):
        table.add_column(column, overflow="fold" if column == "first text" else "ellipsis", no_wrap=column != "first text")
    for bucket in buckets:
        span = bucket["span"]
        minutes = (span["max"] - span["min"]) / 60_000 if span.get("max") is not None else 0.0
        text = bucket["first"]["hits"]["hits"][0]["_source"].get("text", "")[:100]
        mark = " [bold](the planted copy-paste campaign)[/]" if bucket["key"] == copy_story else ""
        table.add_row(str(bucket["doc_count"]), str(bucket["authors"]["value"]), f"{minutes:.1f}", text + mark)
    console.print(table)
    console.print(f"  planted: a copy-paste complaint by {len(copies)} accounts within {sc.burst_minutes:g} minutes, "
                  f"{sum(m.raw['scenario']['role'] == 'repost' for m in sc.mentions())} reposts of earlier posts", highlight=False)


def _story_of(settings: Settings, client, ids: list[str]) -> str | None:
    hits = client.search(index=settings.es_index_prefix, query={"ids": {"values": ids}}, size=1, source=["story_id"])["hits"]["hits"]
    return hits[0]["_source"].get("story_id") if hits else None


def _write_digest(settings: Settings) -> None:
    from streams.digest.build import build_digest, default_path
    from streams.digest.queries import DigestError

    console.rule("[bold]11. digest")
    with console.status("  building the digest (queries, charts, HTML)"):
        try:
            digest = build_digest(settings, None)
        except DigestError as exc:
            console.print(f"  [yellow]no digest[/]: {exc}", highlight=False)
            return
    path = digest.write(settings.services_dir.parent / "digests" / default_path(None, digest.generated_at).name)
    console.print(f"  {digest.data.total} mentions in the digest, made in {digest.seconds:.1f}s; open it in a browser:", highlight=False)
    console.print(f"  {path}", highlight=False, markup=False)
