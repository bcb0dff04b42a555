"""Build models/stories/pairs.jsonl from the hand-written seeds (seeds_*.py).

Must-join pairs are a base post and a copy of it made the way copies are made in practice (a repost
with "RT @x:" or "via @x", a quote that adds a few words, copy-paste with typos and changed punctuation,
the same news item from two feeds with their own headline suffix and link), plus exact copies of very
short posts. Must-not-join pairs are written by hand: same brand and topic in other words
(``paraphrase``), the same template with other key facts (``template``; ``near_template`` when little
but the facts differ) and short generic replies (``short``). Deterministic (seeded), so the file is reproducible::

    python -m models.stories.build_pairs --out models/stories/pairs.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from models.stories.seeds_da_nb import DA, NB
from models.stories.seeds_nn_sv_en import EN, NN, SV

SEEDS = {"da": DA, "nb": NB, "nn": NN, "sv": SV, "en": EN}
JOIN_KINDS = ("repost", "quote", "edit", "feed")
HANDLES = ("@nyheder", "@mia_k", "@janne88", "@brandwatcher", "@news_nordic", "@olsen")


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("swap", "drop", "double"))
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def edited(text: str, rng: random.Random) -> str:
    """``text`` retyped: one typo per ~8 words in long words, punctuation changed."""
    tokens = text.split()
    long_ones = [i for i, t in enumerate(tokens) if len(t) >= 6 and t.isalpha()]
    for i in rng.sample(long_ones, min(len(long_ones), max(1, len(tokens) // 8))):
        tokens[i] = _typo(tokens[i], rng)
    out = " ".join(tokens).replace(",", "").rstrip(".!?")
    return out + rng.choice(("!!", " 😡", " ...", "", " 👍"))


def copy_of(text: str, kind: str, seed: dict, i: int, rng: random.Random) -> tuple[str, str]:
    """(a, b): the base post and a copy of kind ``kind``."""
    handle = HANDLES[i % len(HANDLES)]
    if kind == "repost":
        return text, (f"RT {handle}: {text}" if i % 2 else f"{text} via {handle}")
    if kind == "quote":
        comment = seed["quote"][i % len(seed["quote"])]
        return text, (f"{comment}: {text}" if i % 2 else f"{text} {comment}")
    if kind == "edit":
        return text, edited(text, rng)
    feeds = seed["feeds"]
    f1, f2 = feeds[i % len(feeds)], feeds[(i + 1) % len(feeds)]
    return (f"{text}{f1} https://feed{i}.example/a/{1000 + i}?utm_source=rss",
            f"{text}{f2} https://other{i}.example/n/{i}-{kind}")


def pairs_for(lang: str, seed: dict, rng: random.Random) -> list[dict]:
    out: list[dict] = []

    def add(a: str, b: str, same: bool, kind: str) -> None:
        out.append({"id": f"{lang}-{len(out) + 1:03d}", "lang": lang, "a": a, "b": b, "same_story": same, "kind": kind})

    for i, text in enumerate(seed["base"]):
        for j in range(3):  # three of the four copy kinds per base post, rotating
            kind = JOIN_KINDS[(i + j) % len(JOIN_KINDS)]
            add(*copy_of(text, kind, seed, i, rng), True, kind)
    for a, b in seed["short_join"]:
        add(a, b, True, "short_copy")
    for group in ("paraphrase", "template", "near_template", "short"):
        for a, b in seed[group]:
            add(a, b, False, group)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("pairs.jsonl"), help="output JSONL")
    parser.add_argument("--seed", type=int, default=18, help="random seed of the typo edits")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = [row for lang, seed in SEEDS.items() for row in pairs_for(lang, seed, rng)]
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} pairs to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
