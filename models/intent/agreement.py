"""Agreement on intent: a blind second labelling of a seeded random 10 % of each language.

    python -m models.intent.agreement sample LANG OUT.jsonl   (the blind sheet: id and text, no label)
    python -m models.intent.agreement report                  (Cohen's kappa and raw agreement per language)

Second labels live in ``data/second/<lang>.jsonl`` as ``{"id", "intent"}``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Sequence

from models.intent import INTENTS
from models.intent.dataset import DATA_DIR, LANGS, IntentExample, load_examples
from models.sentiment.agreement import cohen_kappa, read_second_labels

SECOND_DIR = DATA_DIR / "second"
SAMPLE_SHARE = 0.10


def sample(examples: Sequence[IntentExample], lang: str, share: float = SAMPLE_SHARE) -> list[IntentExample]:
    pool = sorted((e for e in examples if e.lang == lang), key=lambda e: e.id)
    rng = random.Random(f"lytter-intent-agreement-{lang}")
    return sorted(rng.sample(pool, max(1, round(share * len(pool)))) if pool else [], key=lambda e: e.id)


def second_labels(lang: str, directory: Path = SECOND_DIR) -> dict[str, str]:
    return read_second_labels(directory / f"{lang}.jsonl", "intent", INTENTS)


def agreement(examples: Sequence[IntentExample] | None = None) -> dict[str, dict]:
    examples = list(examples if examples is not None else load_examples())
    first = {e.id: e.intent for e in examples}
    report = {}
    for lang in LANGS:
        second = {i: label for i, label in second_labels(lang).items() if i in first}
        if second:
            ids = sorted(second)
            a, b = [first[i] for i in ids], [second[i] for i in ids]
            report[lang] = {"n": len(ids), "kappa": round(cohen_kappa(a, b), 3), "agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 3)}
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sample"] and len(args) == 3:
        with open(args[2], "w", encoding="utf-8") as out:
            for e in sample(load_examples(), args[1]):
                out.write(json.dumps({"id": e.id, "text": e.text, "register": e.register}, ensure_ascii=False) + "\n")
        return 0
    if args[:1] == ["report"]:
        for lang, row in agreement().items():
            print(f"{lang}: n={row['n']} kappa={row['kappa']} agreement={row['agreement']}")
        return 0
    print(__doc__)
    return 0 if args[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
