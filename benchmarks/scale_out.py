"""Throughput per worker count: the same replay through 1, 2, 3 ... workers in one consumer group.

For each worker count: fresh topics (``--partitions`` each) and indices, that many worker processes in one
group (each its own web port and state directory), the group settled (every member has its partitions),
then the whole replay published at once and timed from the first publish to the count poll that saw every
document in Elasticsearch (``streams.bench.visibility``). Reported per run: mentions/s, the CPU seconds of
each worker process, Elasticsearch, Kafka and this publisher, CPU ms per mention per part, how busy the
machine's cores were (all processes, Lytter's or not, from ``/proc/stat``) and the ceiling those costs set
here (cores / CPU ms per mention).

More workers only help while cores are idle: on a machine whose cores the one worker (plus Elasticsearch
and Kafka) already fills, a second worker shares the same cores, and the figures say so (the ceiling does
not move, the CPU per mention grows by the extra group and per-process overhead).

    python -m benchmarks.scale_out --workers 1,2,3 --mentions 6000            # services from `lytter services up`
    python -m benchmarks.scale_out --workers 1,2 --model on --mentions 3000    # with the sentiment model
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.bench.cpu import CpuMeter  # noqa: E402
from streams.bench.endtoend import _isolated, _publish, _wait_quiet  # noqa: E402
from streams.bench.visibility import Visibility, sample_ids, wait_all  # noqa: E402
from streams.settings import Settings  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,3", help="comma separated worker counts, one run each (in this order)")
    parser.add_argument("--mentions", type=int, default=6000, help="generated mentions per run (the same in every run)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of each topic (at least the largest worker count)")
    parser.add_argument("--model", choices=("on", "off"), default="off", help="sentiment model in the workers")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take before it is a miss")
    parser.add_argument("--workdir", type=Path, default=Path(".lytter/bench/scale-out"), help="worker logs and state")
    args = parser.parse_args(argv)
    try:
        args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--workers {args.workers!r}: give whole numbers separated by commas, e.g. 1,2,3")
    if not args.workers or min(args.workers) < 1 or args.mentions < 1:
        parser.error("--workers needs counts of at least 1 and --mentions must be positive")
    if max(args.workers) > args.partitions:
        parser.error(f"--partitions {args.partitions} is fewer than {max(args.workers)} workers: the extra ones would sit idle")
    return args


def machine_busy_seconds() -> float:
    """CPU seconds all cores have been busy since boot (everything but idle and iowait, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


@dataclass
class ScaleRun:
    workers: int
    mentions: int
    seconds: float | None  # None: a miss
    indexed: int
    spent: dict[str, float]  # part -> CPU seconds ("worker 1", ..., "elasticsearch", "kafka", "publisher")
    machine_busy: float  # CPU seconds of every process on the machine while the CPU was metered
    metered: float  # seconds the CPU was metered: the run plus the later stages' quiet-down
    cores: int

    @property
    def rate(self) -> float | None:
        return self.mentions / self.seconds if self.seconds else None

    def ms_per_mention(self, prefix: str) -> float:
        return sum(v for k, v in self.spent.items() if k.startswith(prefix)) * 1000 / self.mentions

    @property
    def total_ms(self) -> float:
        return sum(self.spent.values()) * 1000 / self.mentions

    def lines(self) -> list[str]:
        if self.seconds is None:
            return [f"{self.workers} worker(s): MISS {self.indexed:,}/{self.mentions:,} indexed"]
        per_worker = ", ".join(f"{v:.1f}" for k, v in sorted(self.spent.items()) if k.startswith("worker"))
        busy = self.machine_busy / (self.metered * self.cores)
        ours = sum(self.spent.values()) / (self.metered * self.cores)
        return [
            f"{self.workers} worker(s): {self.rate:,.0f} mentions/s ({self.mentions:,} in {self.seconds:.1f} s)",
            f"  CPU s per worker process: {per_worker} (all workers {self.ms_per_mention('worker'):.2f} ms/mention)",
            f"  CPU ms per mention: elasticsearch {self.ms_per_mention('elasticsearch'):.2f}, kafka {self.ms_per_mention('kafka'):.2f}, "
            f"publisher {self.ms_per_mention('publisher'):.2f}; all parts {self.total_ms:.2f}",
            f"  cores busy: {busy:.0%} of {self.cores} over {self.metered:.0f} s (these parts {ours:.0%}, other processes {busy - ours:.0%}); "
            f"ceiling here {self.cores * 1000 / self.total_ms:,.0f} mentions/s ({self.cores} cores / {self.total_ms:.2f} ms)",
        ]


def wait_group_settled(settings: Settings, members: int, timeout: float = 180.0) -> None:
    """Until the consumer group is Stable with ``members`` members that hold every raw partition."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="lytter-bench-scale")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            (group,) = admin.describe_consumer_groups([settings.app_id])
            held = set()
            for m in group.members:
                assignment = m.member_assignment
                for topic, parts in getattr(assignment, "assignment", []) or []:
                    if topic == settings.topic_raw:
                        held.update(parts)
            if group.state == "Stable" and len(group.members) == members and len(held) == settings.topic_partitions:
                return
            time.sleep(1.0)
    finally:
        admin.close()
    raise RuntimeError(f"the group {settings.app_id} did not settle with {members} members within {timeout:.0f}s")


def start_member(settings: Settings, n: int, workdir: Path):
    """Worker ``n`` of the group: its own web port, state directory and log; back when it says it is ready."""
    from streams.worker.process import WorkerProcess
    from tests.integration.conftest import free_port

    data = settings.worker_data_dir / f"member-{n}"
    data.mkdir(parents=True, exist_ok=True)
    member = settings.model_copy(update={"worker_web_port": free_port(), "worker_data_dir": data})
    worker = WorkerProcess(member, workdir / f"{settings.app_id}-{n}.log").start()
    deadline = time.monotonic() + 180
    while "worker ready" not in worker.log_tail(400):
        if not worker.alive() or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {n} did not start (log {worker.log_path}):\n{worker.log_tail()}")
        time.sleep(0.5)
    return worker


def run_once(base: Settings, workers: int, args: argparse.Namespace, say) -> ScaleRun:
    from streams.ops.kafka_admin import ensure_topics
    from streams.ops.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices, sync_client
    from streams.sources.replay.generate import generate_mentions

    settings = _isolated(base, f"scale{workers}", args.workdir, topic_partitions=args.partitions, sentiment_enabled=args.model == "on")
    ensure_topics(settings)
    setup_indices(settings)
    payloads = [(m.id.encode(), m.to_json_bytes()) for m in generate_mentions(args.mentions, seed=99)]
    services = LocalServices(settings).status()
    procs = []
    client = sync_client(settings)
    try:
        for n in range(workers):
            procs.append(start_member(settings, n, args.workdir))
        wait_group_settled(settings, workers)
        time.sleep(3)  # recovery of the (empty) tables after the last assignment
        meter = CpuMeter(
            pids={**{f"worker {n + 1}": p.pid for n, p in enumerate(procs)}, "publisher": os.getpid()},
            groups={name: services[name]["pid"] for name in ("elasticsearch", "kafka")},
        )
        tracker = Visibility(client, settings.es_index_prefix, sample_ids([k.decode() for k, _ in payloads]))
        say(f"{workers} worker(s): publishing {args.mentions:,} mentions")
        meter.start()
        busy0, started, started_wall = machine_busy_seconds(), time.monotonic(), time.time()
        _publish(settings, payloads)
        done_at = wait_all(tracker, args.mentions, args.timeout, alive=lambda: all(p.alive() for p in procs))
        for p in procs:  # the later stages finish after the last document: count their CPU too
            _wait_quiet(p.pid, limit=20.0)
        budget = meter.stop(args.mentions, time.monotonic() - started)
        busy = machine_busy_seconds() - busy0
        seconds = None if done_at is None else done_at - started_wall
        return ScaleRun(workers, args.mentions, seconds, tracker.count, dict(budget.spent), busy, budget.seconds, budget.cores)
    finally:
        for p in procs:
            p.stop()
        try:
            client.indices.delete(index=f"{settings.es_index_prefix}-*", allow_no_indices=True)
        finally:
            client.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from streams.ops.services import LocalServices

    settings = Settings()
    args.workdir.mkdir(parents=True, exist_ok=True)
    LocalServices(settings).up(progress=print)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; model {args.model}; "
          f"{args.partitions} partitions; {args.mentions:,} mentions per run")
    runs = []
    for workers in args.workers:
        run = run_once(settings, workers, args, print)
        runs.append(run)
        print("\n".join(run.lines()), flush=True)
    print("\nsummary (workers: mentions/s, CPU ms per mention all parts, ceiling mentions/s)")
    for run in runs:
        rate = f"{run.rate:,.0f}" if run.rate else "MISS"
        print(f"  {run.workers}: {rate}, {run.total_ms:.2f} ms, {run.cores * 1000 / run.total_ms:,.0f}")
    return 0 if all(r.seconds is not None for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
