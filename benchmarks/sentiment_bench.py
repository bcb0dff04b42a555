"""Sentiment throughput: production path vs a naive per-message ``transformers.pipeline`` (same run).

    python benchmarks/sentiment_bench.py [--n 1000] [--repeats 3] [--precisions auto,fp32,int8,bf16] [--json]

The same as ``lytter model bench``; the measurement itself is ``models.sentiment.bench.run``: every side
scores the same texts (the repository's ``models/sentiment/data``), after the same warm-up, for the same
repeats in rotating order; the naive baseline runs in fp32 and, when production runs bf16, in bf16, and
both ratios are printed. Needs the built model (``lytter model build``) or LYTTER_MODEL_PATH / --model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from models.sentiment.bench import run  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="texts, the same for both sides")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precisions", default="auto", help="comma separated: auto, fp32, int8, bf16")
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the settings')")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(
        n=args.n, repeats=args.repeats, precisions=[p for p in args.precisions.split(",") if p],
        path=args.model, progress=None if args.json else print,
    )
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
