"""Measure story assignment on generated text: memory per million mentions and throughput.

Generated traffic: each mention either opens a new story (a 10-30 word post of pseudo-words with
Nordic letters) or, with probability ``--copy-share``, is a copy of one of the last 2000 stories (a
repost, a quote adding words, a retyped copy with a typo, or a feed copy with its own link), by one of
``--authors`` authors. Reported:

* ``mentions_per_s``: assignment throughput (``StoryIndex.assign``, no tracing);
* ``index_bytes``: the in-memory LSH and lookups, traced (``tracemalloc``) while a second index is
  rebuilt over the same store (what a worker holds besides the table);
* ``store_json_bytes``: the store's JSON size (what the changelog topic and RocksDB hold);
* ``store_python_bytes``: the store as Python dicts (a plain-dict store, as in tests);
* each per story and per mention, and ``*_per_million_mentions`` scaled linearly.

Run ``python -m streams.stories --help``.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
import tracemalloc
from collections.abc import Iterator

from streams.stories.index import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, StoryIndex

LETTERS = string.ascii_lowercase + "æøåäö"


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 10))) for _ in range(size)]


def _copy(text: str, rng: random.Random, vocab: list[str], n: int) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"RT @user{rng.randrange(1000)}: {text}"
    if kind == 1:
        return " ".join(rng.choices(vocab, k=rng.randint(1, 4))) + ": " + text
    if kind == 2:
        tokens = text.split()
        i = rng.randrange(len(tokens))
        tokens[i] = tokens[i][::-1]
        return " ".join(tokens)
    return f"{text} | Feed{rng.randrange(20)} https://feed.example/{n}"


def generate(mentions: int, seed: int = 18, copy_share: float = 0.4, authors: int = 50_000) -> Iterator[tuple[str, str, float, str]]:
    """``(mention_id, text, published_ts, author)`` tuples of generated traffic (module docstring)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    recent: list[str] = []
    for n in range(mentions):
        if recent and rng.random() < copy_share:
            text = _copy(rng.choice(recent), rng, vocab, n)
        else:
            text = " ".join(rng.choices(vocab, k=rng.randint(10, 30)))
            recent.append(text)
            if len(recent) > 2000:
                recent.pop(0)
        yield f"m{n}", text, 1_700_000_000.0 + n * 0.05, f"author{rng.randrange(authors)}"


def _progress(done: int, total: int, label: str) -> None:
    if total >= 10 and done % (total // 10) == 0:
        print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)


def measure(mentions: int, *, threshold: float, num_perm: int, seed: int = 18, copy_share: float = 0.4) -> dict:
    """Run the generated traffic through a StoryIndex and measure it (module docstring)."""
    traffic = list(generate(mentions, seed, copy_share))
    store: dict[str, dict] = {}
    index = StoryIndex(store, threshold=threshold, num_perm=num_perm, max_stories=10 * mentions, ttl_s=1e9, clock=lambda: 0.0)
    started = time.perf_counter()
    for done, (mid, text, ts, author) in enumerate(traffic, 1):
        index.assign(mid, text, ts, author)
        _progress(done, mentions, "assign")
    elapsed = time.perf_counter() - started
    stories = len(store)
    store_json = sum(len(k) + len(json.dumps(v, ensure_ascii=False).encode("utf-8")) for k, v in store.items())
    print("tracing the in-memory index (rebuild over the same store)...", file=sys.stderr, flush=True)
    del index
    tracemalloc.start()
    rebuilt = StoryIndex(store, threshold=threshold, num_perm=num_perm, max_stories=10 * mentions, ttl_s=1e9, clock=lambda: 0.0)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(rebuilt) == stories
    tracemalloc.start()
    copy = json.loads(json.dumps(store))
    store_python = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del copy
    out = {"mentions": mentions, "stories": stories, "threshold": threshold, "num_perm": num_perm,
           "mentions_per_s": round(mentions / elapsed, 1)}
    for name, value in (("index_bytes", index_bytes), ("store_json_bytes", store_json), ("store_python_bytes", store_python)):
        out[name] = value
        out[f"{name}_per_story"] = round(value / stories, 1)
        out[f"{name}_per_mention"] = round(value / mentions, 1)
        out[f"{name}_per_million_mentions"] = round(value * 1_000_000 / mentions)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.stories", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=100_000, help="generated mentions (default 100000)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="join threshold")
    parser.add_argument("--num-perm", type=int, default=DEFAULT_NUM_PERM, help="MinHash permutations")
    parser.add_argument("--copy-share", type=float, default=0.4, help="share of mentions that copy an earlier story")
    parser.add_argument("--seed", type=int, default=18, help="random seed of the generated text")
    args = parser.parse_args(argv)
    if args.mentions < 1:
        parser.error("--mentions must be at least 1")
    result = measure(args.mentions, threshold=args.threshold, num_perm=args.num_perm, seed=args.seed, copy_share=args.copy_share)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
