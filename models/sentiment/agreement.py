"""Inter-annotator agreement: a blind second labelling of a random 10 % of each language.

``sample(lang)`` draws the items (seeded by language, from every file of that language) that a second
annotator labels without seeing the first labels; their labels live in ``data/second/<lang>.jsonl`` as
``{"id", "label"}``. ``agreement()`` reports, per language, Cohen's kappa and raw agreement between the two.

    python -m models.sentiment.agreement sample LANG OUT.txt [--top-up]   (the blind sheet: id <TAB> text;
                                                 --top-up: only what brings a grown language back to 10 %)
    python -m models.sentiment.agreement report                  (kappa per language)
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from models.sentiment.dataset import DATA_DIR, LABELS, LANGS, Example, load_examples

SECOND_DIR = DATA_DIR / "second"
SAMPLE_SHARE = 0.10


def sample(examples: Sequence[Example], lang: str, share: float = SAMPLE_SHARE, have: set[str] | None = None) -> list[Example]:
    """A seeded random ``share`` of a language. With ``have`` (ids already labelled twice), the top-up that
    brings the language back to ``share`` after texts were added, drawn from the others."""
    pool = sorted((e for e in examples if e.lang == lang), key=lambda e: e.id)
    want = max(1, round(share * len(pool))) if pool else 0
    if have:
        want -= len({e.id for e in pool} & have)
        pool = [e for e in pool if e.id not in have]
    rng = random.Random(f"lytter-agreement-{lang}-{len(have or ())}")
    return sorted(rng.sample(pool, max(0, min(want, len(pool)))), key=lambda e: e.id)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[label] * cb[label] for label in set(ca) | set(cb)) / (n * n)  # any label set (intent too)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def read_second_labels(path: Path, field: str, allowed: Sequence[str]) -> dict[str, str]:
    """``{id: label}`` of a second annotator's file (``{"id", field}`` per line); a bad label names its line."""
    if not path.is_file():
        return {}
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            obj = json.loads(line)
            if obj.get(field) not in allowed:
                raise ValueError(f"{path}:{n}: {field} {obj.get(field)!r} is not one of {', '.join(allowed)}")
            out[str(obj["id"])] = obj[field]
    return out


def second_labels(lang: str, directory: Path = SECOND_DIR) -> dict[str, str]:
    return read_second_labels(directory / f"{lang}.jsonl", "label", LABELS)


def agreement(examples: Sequence[Example] | None = None) -> dict[str, dict]:
    """{lang: {"n", "kappa", "agreement", "confusion"}} over the items both annotators labelled."""
    examples = list(examples if examples is not None else load_examples())
    by_id = {e.id: e for e in examples}
    out = {}
    for lang in LANGS:
        second = second_labels(lang)
        pairs = [(by_id[i].label, label) for i, label in second.items() if i in by_id]
        if not pairs:
            continue
        first, other = [p[0] for p in pairs], [p[1] for p in pairs]
        out[lang] = {
            "n": len(pairs),
            "kappa": round(cohen_kappa(first, other), 3),
            "agreement": round(sum(x == y for x, y in pairs) / len(pairs), 3),
            "confusion": {f"{x}->{y}": n for (x, y), n in sorted(Counter(pairs).items()) if x != y},
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if args[0] == "sample" and len(args) in (3, 4):
        have = set(second_labels(args[1])) if args[3:] == ["--top-up"] else None
        rows = sample(load_examples(), args[1], have=have)
        Path(args[2]).write_text("".join(f"{e.id}\t{' '.join(e.text.split())}\n" for e in rows), encoding="utf-8")
        print(f"{len(rows)} items of {args[1]} written to {args[2]}")
        return 0
    if args[0] == "report":
        print(json.dumps(agreement(), indent=2, ensure_ascii=False))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
