"""Alert latency: from the first mention of an incident being published to the alert arriving on the webhook.

One worker, N incidents. Each run replays a scenario with brand names of its own (fresh baselines,
fresh incidents) on a timeline after the previous run's, at ``--speed`` times real time, against a
local webhook receiver. Reported per rule and for the first alert of each incident:

* detection delay: first incident mention published -> alert received (includes waiting for enough
  evidence, e.g. the 10 mentions a spike needs);
* pipeline latency: the publish of the mention that triggered the alert -> alert received (the
  processing path alone: worker batch, sentiment, index, influence, brand rules, delivery).

    python -m benchmarks.alert_latency --runs 20          # uses the services from `lytter services up`
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

from streams.ops.kafka_admin import ensure_topics  # noqa: E402
from streams.worker.process import WorkerProcess  # noqa: E402
from streams.ops.services import LocalServices  # noqa: E402
from streams.settings import Settings  # noqa: E402
from streams.sinks.elasticsearch import setup_indices  # noqa: E402
from streams.sources.producer import MentionProducer  # noqa: E402
from streams.sources.replay.scenario import Scenario, replay  # noqa: E402
from tests.integration.webhook import WebhookReceiver  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--speed", type=float, default=240.0, help="replay speed (event time / real time)")
    parser.add_argument("--minutes", type=float, default=40.0, help="baseline minutes per run (the rules need 30 to warm up)")
    args = parser.parse_args()

    suffix = uuid.uuid4().hex[:8]
    work = Path(".lytter/bench") / f"alerts-{suffix}"
    work.mkdir(parents=True, exist_ok=True)
    watch_path = work / "watch.yaml"
    base = Settings()
    LocalServices(base).up(progress=lambda m: print(m, flush=True))
    settings = base.model_copy(
        update=dict(
            topic_raw=f"lat-{suffix}.raw", topic_deadletter=f"lat-{suffix}.dl", topic_enriched=f"lat-{suffix}.enriched",
            topic_by_brand=f"lat-{suffix}.by-brand", topic_alerts=f"lat-{suffix}.alerts", topic_deletions=f"lat-{suffix}.deletions",
            es_index_prefix=f"lat-{suffix}-mentions", es_alerts_index=f"lat-{suffix}-alerts", app_id=f"lat-{suffix}",
            worker_data_dir=work / "worker", watch_file=watch_path, worker_batch_seconds=0.1,
        )
    )
    watch = {"brands": [], "alerts": {"incidents": {"update_interval_s": 60}}}
    watch_path.write_text(yaml.safe_dump(watch))
    ensure_topics(settings)
    setup_indices(settings)
    detection: dict[str, list[float]] = {}
    pipeline: dict[str, list[float]] = {}
    first_alert: list[float] = []
    with WebhookReceiver() as hook:
        worker = WorkerProcess(settings, work / "worker.log", extra_env={"LYTTER_WEBHOOK_URL": hook.url}).start()
        try:
            deadline = time.monotonic() + 180
            while "worker ready" not in worker.log_tail(400):
                if time.monotonic() > deadline or not worker.alive():
                    raise SystemExit(f"worker did not start:\n{worker.log_tail()}")
                time.sleep(0.5)
            shift = timedelta(0)
            for run in range(args.runs):
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
                shift += timedelta(minutes=args.minutes + 60)
                sent: dict[str, float] = {}
                with MentionProducer(settings) as producer:

                    def send(mention):
                        producer.send_mention(mention)
                        sent[mention.id] = time.time()

                    asyncio.run(replay(mentions, send, speed=args.speed))
                time.sleep(4)
                incident_ids = sc.incident_mention_ids()
                start = min(sent[i] for i in incident_ids)
                alerts = [(at, a) for at, a in hook.alerts() if a["brand"] == names[0] and a["status"] == "open"]
                if not alerts:
                    print(f"run {run}: no alert", flush=True)
                    continue
                first_alert.append(min(at for at, _ in alerts) - start)
                for at, alert in alerts:
                    detection.setdefault(alert["rule"], []).append(at - start)
                    trigger = alert["evidence"].get("mention_id")
                    if trigger in sent:
                        pipeline.setdefault(alert["rule"], []).append(at - sent[trigger])
                print(f"run {run}: first alert after {first_alert[-1]:.2f}s; rules {sorted(a['rule'] for _, a in alerts)}", flush=True)
        finally:
            worker.stop()
    print(f"\nalert latency over {len(first_alert)} incidents (speed {args.speed:g}x)")
    print(f"{'measure':<45}{'n':>4}{'p50 s':>9}{'p99 s':>9}")
    print(f"{'first alert after first incident mention':<45}{len(first_alert):>4}{percentile(first_alert, .5):>9.2f}{percentile(first_alert, .99):>9.2f}")
    for rule, values in sorted(detection.items()):
        print(f"{'detection, ' + rule:<45}{len(values):>4}{percentile(values, .5):>9.2f}{percentile(values, .99):>9.2f}")
    for rule, values in sorted(pipeline.items()):
        print(f"{'pipeline (trigger published -> webhook), ' + rule:<45}{len(values):>4}{percentile(values, .5):>9.2f}{percentile(values, .99):>9.2f}")
    if first_alert:
        print(f"mean first alert {statistics.mean(first_alert):.2f}s")


if __name__ == "__main__":
    main()
