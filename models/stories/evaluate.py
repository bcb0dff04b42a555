"""Precision / recall / F1 of story joining on the labelled pairs (models/stories/pairs.jsonl).

Each pair is run through a real :class:`~streams.stories.index.StoryIndex` (MinHash, LSH and the
exact-match rule for short texts): ``a`` is assigned first, then ``b``; the pair is *joined* when both
get the same story. A join of a ``same_story`` pair is a true positive, a join of a different-story
pair a false positive. Reported per language and overall at ``--threshold``, plus a sweep over
``--sweep`` thresholds (overall F1 and the worst language's F1), and with ``--errors`` the pairs
that were decided wrongly::

    python -m models.stories.evaluate --errors
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from streams.stories.index import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, StoryIndex

PAIRS = Path(__file__).with_name("pairs.jsonl")
LANGS = ("da", "nb", "nn", "sv", "en")


def load_pairs(path: Path = PAIRS) -> list[dict]:
    """The labelled pairs; a row lacking a field is an error naming the file and line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = {"id", "lang", "a", "b", "same_story", "kind"} - row.keys()
        if missing:
            raise ValueError(f"{path}:{n}: pair lacks {sorted(missing)}; every row needs id, lang, a, b, same_story, kind")
        rows.append(row)
    return rows


def joined(row: dict, threshold: float, num_perm: int = DEFAULT_NUM_PERM) -> bool:
    """Whether a fresh index puts ``row['a']`` and ``row['b']`` in one story."""
    index = StoryIndex({}, threshold=threshold, num_perm=num_perm, clock=lambda: 0.0)
    first = index.assign(row["id"] + "-a", row["a"], 0.0, "author-a")
    return index.assign(row["id"] + "-b", row["b"], 1.0, "author-b").story_id == first.story_id


def scores(rows: list[dict], decisions: list[bool]) -> dict[str, float]:
    tp = sum(1 for r, d in zip(rows, decisions) if d and r["same_story"])
    fp = sum(1 for r, d in zip(rows, decisions) if d and not r["same_story"])
    fn = sum(1 for r, d in zip(rows, decisions) if not d and r["same_story"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": len(rows), "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def evaluate(rows: list[dict], threshold: float, num_perm: int = DEFAULT_NUM_PERM) -> tuple[dict[str, dict], list[dict]]:
    """Scores per language and ``overall``, and the wrongly decided pairs."""
    decisions = [joined(r, threshold, num_perm) for r in rows]
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_lang[r["lang"]].append(i)
    result = {lang: scores([rows[i] for i in idx], [decisions[i] for i in idx]) for lang, idx in sorted(by_lang.items())}
    result["overall"] = scores(rows, decisions)
    errors = [{**r, "joined": d} for r, d in zip(rows, decisions) if d != r["same_story"]]
    return result, errors


def _table(result: dict[str, dict]) -> str:
    lines = [f"{'lang':8} {'pairs':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for lang, s in result.items():
        lines.append(f"{lang:8} {s['pairs']:5d} {s['tp']:4d} {s['fp']:4d} {s['fn']:4d} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="labelled pairs (JSONL)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="join threshold to report in detail")
    parser.add_argument("--num-perm", type=int, default=DEFAULT_NUM_PERM, help="MinHash permutations")
    parser.add_argument("--sweep", type=float, nargs="*", default=[0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8],
                        help="thresholds of the sweep (none: no sweep)")
    parser.add_argument("--errors", action="store_true", help="list the wrongly decided pairs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    rows = load_pairs(args.pairs)
    result, errors = evaluate(rows, args.threshold, args.num_perm)
    print(f"threshold {args.threshold}, num_perm {args.num_perm}, {len(rows)} pairs from {args.pairs}\n{_table(result)}")
    sweep = {}
    for t in args.sweep:
        res, _ = evaluate(rows, t, args.num_perm)
        sweep[t] = res
        worst = min(res[lang]["f1"] for lang in res if lang != "overall")
        o = res["overall"]
        print(f"sweep t={t:<5} precision {o['precision']:.3f} recall {o['recall']:.3f} f1 {o['f1']:.3f} "
              f"worst-language f1 {worst:.3f}", flush=True)
    if args.errors:
        for e in errors:
            print(f"{'FALSE JOIN' if e['joined'] else 'MISSED    '} {e['id']} [{e['kind']}] {e['a']!r} / {e['b']!r}")
    if args.json:
        args.json.write_text(json.dumps({"threshold": args.threshold, "result": result, "sweep": sweep, "errors": errors},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
