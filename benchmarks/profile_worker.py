"""Where the worker spends its time: py-spy samples a real worker working through a replay.

    python -m benchmarks.profile_worker --count 10000 --seconds 30            # sentiment on (production)
    python -m benchmarks.profile_worker --count 10000 --seconds 30 --no-sentiment

Publishes ``--count`` generated mentions to fresh topics on the local services (started if needed),
starts a worker on them, samples it with py-spy (``pip install py-spy``; sampling needs ptrace, which
root or ``kernel.yama.ptrace_scope=0`` gives) for ``--seconds`` while it works, and prints the functions
with the most samples on the CPU: by self time (the leaf frame) and by total time (anywhere on the stack),
as shares of all samples. The raw collapsed stacks are kept for flame graphs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from streams.settings import Settings

_LINE_NUMBER = re.compile(r":\d+\)$")  # py-spy frames read "function (path/file.py:123)"


def summarize(collapsed: Path, top: int = 15) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, [(function, self share)], [(function, total share)]) from py-spy's ``--format raw`` output."""
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]  # one entry per function, not per line
        self_time[frames[-1]] += n
        for frame in set(frames):
            total_time[frame] += n
    if not samples:
        return 0, [], []
    return (
        samples,
        [(f, c / samples) for f, c in self_time.most_common(top)],
        [(f, c / samples) for f, c in total_time.most_common(top * 3) if not f.startswith(("<module>", "run (threading", "_bootstrap"))][:top],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="generated mentions to replay")
    parser.add_argument("--seconds", type=int, default=30, help="how long to sample")
    parser.add_argument("--no-sentiment", action="store_true", help="profile the path without the model")
    parser.add_argument("--out", type=Path, default=Path(".lytter/bench/profile.txt"), help="collapsed stacks")
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None and not (Path(sys.executable).parent / "py-spy").exists():
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    from streams.bench.endtoend import _isolated
    from streams.ops.kafka_admin import ensure_topics
    from streams.worker.process import WorkerProcess
    from streams.ops.services import LocalServices
    from streams.sinks.elasticsearch import setup_indices
    from streams.sources.replay.generate import generate_mentions
    from streams.sources.producer import MentionProducer

    settings = Settings()
    workdir = Path(".lytter/bench")
    workdir.mkdir(parents=True, exist_ok=True)
    LocalServices(settings).up(progress=lambda m: print(m, file=sys.stderr))
    s = _isolated(settings, "profile", workdir, sentiment_enabled=not args.no_sentiment)
    ensure_topics(s)
    setup_indices(s)
    with MentionProducer(s) as producer:
        for m in generate_mentions(args.count, seed=99):
            producer.send_mention(m)
    print(f"published {args.count} mentions; starting the worker", file=sys.stderr)
    worker = WorkerProcess(s, workdir / f"{s.app_id}.log").start()
    try:
        deadline = time.monotonic() + 180
        while "processed" not in worker.log_tail(400):
            if not worker.alive() or time.monotonic() > deadline:
                print(f"the worker did not start processing:\n{worker.log_tail()}", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"sampling the worker (pid {worker.pid}) for {args.seconds}s", file=sys.stderr)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [py_spy, "record", "--pid", str(worker.pid), "--duration", str(args.seconds), "--rate", "50",
             "--format", "raw", "--output", str(args.out), "--threads"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        worker.stop()
    samples, by_self, by_total = summarize(args.out)
    print(f"{samples} samples on the CPU ({args.out})")
    print("\nself time (the function itself):")
    for name, share in by_self:
        print(f"  {share:6.1%}  {name}")
    print("\ntotal time (the function and what it calls):")
    for name, share in by_total:
        print(f"  {share:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
