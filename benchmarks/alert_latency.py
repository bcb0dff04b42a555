"""Alert latency: from the first mention of an incident being published to the alert arriving on the webhook.

One worker, N incidents. Each run replays a scenario with brand names of its own (fresh baselines,
fresh incidents) on a timeline after the previous run's, at ``--speed`` times real time, against a
local webhook receiver. Reported per rule and for the first alert of each incident:

* detection delay: first incident mention published -> alert received (includes waiting for enough
  evidence, e.g. the 10 mentions a spike needs);
* pipeline latency: the publish of the mention that triggered the alert -> alert received (the
  processing path alone: worker batch, sentiment, index, influence, brand rules, delivery).

After each replay the bench waits for an open alert of every expected rule (``--rules``, default the
four an incident raises) up to ``--timeout`` seconds; one that does not arrive is a miss, reported as
one beside the p50/p99 of the alerts that did arrive (``benchmarks/alert_report.py``).

    python -m benchmarks.alert_latency --runs 20 --timeout 60   # uses the services from `lytter services up`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.alert_report import INCIDENT_RULES, IncidentRun, report, wait_for_alerts  # noqa: E402
from streams.ops.kafka_admin import ensure_topics  # noqa: E402
from streams.worker.process import WorkerProcess  # noqa: E402
from streams.ops.services import LocalServices  # noqa: E402
from streams.settings import Settings  # noqa: E402
from streams.sinks.elasticsearch import setup_indices  # noqa: E402
from streams.sources.producer import MentionProducer  # noqa: E402
from streams.sources.replay.scenario import Scenario, replay  # noqa: E402
from tests.integration.webhook import WebhookReceiver  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--speed", type=float, default=240.0, help="replay speed (event time / real time)")
    parser.add_argument("--minutes", type=float, default=40.0, help="baseline minutes per run (the rules need 30 to warm up)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait after each replay for every expected alert; one not there by then is a miss")
    parser.add_argument("--rules", default=",".join(INCIDENT_RULES), help="comma separated: the alerts each incident must raise")
    args = parser.parse_args(argv)
    args.rules = tuple(r for r in args.rules.split(",") if r)
    if args.runs < 1 or args.timeout <= 0 or not args.rules:
        parser.error("--runs and --timeout must be positive and --rules must name at least one rule")
    return args


def isolated_settings(base: Settings, suffix: str, work: Path, watch_path: Path) -> Settings:
    return base.model_copy(
        update=dict(
            topic_raw=f"lat-{suffix}.raw", topic_deadletter=f"lat-{suffix}.dl", topic_enriched=f"lat-{suffix}.enriched",
            topic_by_brand=f"lat-{suffix}.by-brand", topic_alerts=f"lat-{suffix}.alerts", topic_deletions=f"lat-{suffix}.deletions",
            es_index_prefix=f"lat-{suffix}-mentions", es_alerts_index=f"lat-{suffix}-alerts", app_id=f"lat-{suffix}",
            worker_data_dir=work / "worker", watch_file=watch_path, worker_batch_seconds=0.1,
        )
    )


def start_worker(settings: Settings, work: Path, hook_url: str) -> WorkerProcess:
    worker = WorkerProcess(settings, work / "worker.log", extra_env={"LYTTER_WEBHOOK_URL": hook_url}).start()
    deadline = time.monotonic() + 180
    while "worker ready" not in worker.log_tail(400):
        if time.monotonic() > deadline or not worker.alive():
            worker.stop()
            raise SystemExit(f"worker did not start:\n{worker.log_tail()}")
        time.sleep(0.5)
    return worker


def one_run(run: int, args: argparse.Namespace, settings: Settings, watch: dict, watch_path: Path, hook: WebhookReceiver,
            shift: timedelta) -> IncidentRun:
    """Replay run ``run``'s scenario (brands of its own, on a timeline ``shift`` after the first) and wait
    up to ``args.timeout`` seconds for the expected alerts."""
    # names no other run's query can prefix-match ("... 1*" would also find "... 10")
    names = [f"Nordlys Energi {run:02d}x", f"Fjordbank {run:02d}x"]
    sc = Scenario(seed=100 + run, brands=names, incident_brand=names[0], baseline_minutes=args.minutes,
                  incident_at_minute=args.minutes - 4, id_prefix=f"lat{run}")
    config = sc.watch_config()
    watch["brands"] += [{"name": b["name"], "query": b["query"]} for b in config["brands"]]
    watch["alerts"]["crisis_keyword"] = {"keywords": config["crisis_keywords"]}
    watch_path.write_text(yaml.safe_dump(watch, allow_unicode=True))
    time.sleep(1.5)  # the worker re-reads the watch file when it changes
    mentions = [m.model_copy(update={"published_at": m.published_at + shift}) for m in sc.mentions()]
    sent: dict[str, float] = {}
    with MentionProducer(settings) as producer:

        def send(mention):
            producer.send_mention(mention)
            sent[mention.id] = time.time()

        asyncio.run(replay(mentions, send, speed=args.speed))
    arrived = wait_for_alerts(hook.alerts, names[0], args.rules, args.timeout)
    start = min(sent[i] for i in sc.incident_mention_ids())
    return IncidentRun(run, start, args.rules, arrived, sent)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    suffix = uuid.uuid4().hex[:8]
    work = Path(".lytter/bench") / f"alerts-{suffix}"
    work.mkdir(parents=True, exist_ok=True)
    watch_path = work / "watch.yaml"
    base = Settings()
    LocalServices(base).up(progress=lambda m: print(m, flush=True))
    settings = isolated_settings(base, suffix, work, watch_path)
    watch = {"brands": [], "alerts": {"incidents": {"update_interval_s": 60}}}
    watch_path.write_text(yaml.safe_dump(watch))
    ensure_topics(settings)
    setup_indices(settings)
    print(f"{args.runs} runs at {args.speed:g}x; after each replay waiting up to {args.timeout:g} s for {', '.join(args.rules)}", flush=True)
    runs: list[IncidentRun] = []
    with WebhookReceiver() as hook:
        worker = start_worker(settings, work, hook.url)
        try:
            for run in range(args.runs):
                runs.append(one_run(run, args, settings, watch, watch_path, hook, timedelta(minutes=(args.minutes + 60) * run)))
                print(runs[-1].line(args.timeout), flush=True)
        finally:
            worker.stop()
    print()
    for line in report(runs, args.rules, args.timeout, args.speed):
        print(line)
    firsts = [r.first_alert for r in runs if r.first_alert is not None]
    if firsts:
        print(f"mean first alert {statistics.mean(firsts):.2f}s (of the {len(firsts)} that arrived)")


if __name__ == "__main__":
    main()
