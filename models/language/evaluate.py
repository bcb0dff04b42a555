"""Evaluate language identification on short texts: lingua alone vs lingua with the stream's priors.

``python -m models.language.evaluate [--json] [PATH]`` (or ``lytter model eval --language``) reads
``models/language/data/short.jsonl``: one item a line, ``{"id", "lang", "kind", "text"}`` and, where the
item has them, its context: ``parent`` (the text it replies to), ``author_history`` (languages of the
author's earlier mentions) and ``declared_lang`` (what the source declared; sometimes wrong, on purpose).

Both sides see the same texts in the same run. With priors, every item starts from an empty memory, is
given its own context only, and goes through the production path (``LanguageIdentifier.identify_mentions``):
the parent text is identified first (its decision goes into the thread memory), the author history is
taught to the author memory, then the item itself is identified as a reply to that parent.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streams.processing.language import LanguageIdentifier, clean_for_detection, word_count
from streams.processing.language_priors import LanguageMemory
from streams.schema import Author, Mention

DATA = Path(__file__).resolve().parent / "data" / "short.jsonl"
LANGS = ("da", "nb", "nn", "sv", "en", "other")
BUCKETS = ("<=5", "6-15", ">15")
_NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bucket(text: str) -> str:
    n = word_count(clean_for_detection(text))
    return "<=5" if n <= 5 else "6-15" if n <= 15 else ">15"


def _mention(mid: str, text: str, handle: str, parent_id: str | None = None, declared: str | None = None) -> Mention:
    return Mention(id=mid, source="eval", text=text, author=Author(handle=handle), published_at=_NOW,
                   parent_id=parent_id, kind="reply" if parent_id else "post", declared_lang=declared)


def with_priors(identifier: LanguageIdentifier, item: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The item's language through the production path, given only its own context."""
    identifier.memory = LanguageMemory(max_threads=16, max_authors=16)
    parent_id = None
    if item.get("parent"):
        parent_id = f"{item['id']}/parent"
        identifier.identify_mentions([_mention(parent_id, item["parent"], "parent-author")])
    for lang in item.get("author_history") or ():
        identifier.memory.teach_author("eval:author", lang)
    guess = identifier.identify_mentions([_mention(item["id"], item["text"], "author", parent_id, item.get("declared_lang"))])[0]
    return guess.lang, guess.candidates


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def evaluate(path: Path = DATA, identifier: LanguageIdentifier | None = None) -> dict[str, Any]:
    """Accuracy per language and length bucket, nb/nn and da/nb confusion, for both sides."""
    items = load(path)
    identifier = identifier or LanguageIdentifier()
    alone = [g.lang for g in identifier.identify([it["text"] for it in items])]
    saved = identifier.memory
    try:
        combined = [with_priors(identifier, it) for it in items]
    finally:
        identifier.memory = saved
    sides = {"lingua": alone, "priors": [lang for lang, _ in combined]}
    result: dict[str, Any] = {"n": len(items), "sides": {}}
    for side, preds in sides.items():
        cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        confusion: Counter = Counter()
        for it, pred in zip(items, preds):
            gold, b = it["lang"], bucket(it["text"])
            for key in ((gold, b), (gold, "all"), ("all", b), ("all", "all")):
                cells[key][0] += pred == gold
                cells[key][1] += 1
            confusion[(gold, pred)] += 1
        result["sides"][side] = {
            "accuracy": {f"{lang}|{b}": _rate(*cells[(lang, b)]) for lang in LANGS + ("all",) for b in BUCKETS + ("all",)},
            "n": {f"{lang}|{b}": cells[(lang, b)][1] for lang in LANGS + ("all",) for b in BUCKETS + ("all",)},
            "confusion": {f"{g}>{p}": c for (g, p), c in sorted(confusion.items())},
            **_confusions(items, preds),
        }
    result["candidates"] = _candidate_stats(items, combined)
    return result


def _confusions(items: list[dict[str, Any]], preds: list[str], only_short: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scope in ("all", "<=5"):
        pairs = [(it["lang"], p) for it, p in zip(items, preds) if scope == "all" or bucket(it["text"]) == "<=5"]
        norwegian = [(g, p) for g, p in pairs if g in ("nb", "nn")]
        out[f"wrong_variety|{scope}"] = _rate(sum(p in ("nb", "nn") and p != g for g, p in norwegian), len(norwegian))
        out[f"nn_as_nb|{scope}"] = _rate(sum(p == "nb" for g, p in pairs if g == "nn"), sum(g == "nn" for g, _ in pairs))
        danish_bokmal = [(g, p) for g, p in pairs if g in ("da", "nb")]
        out[f"da_nb|{scope}"] = _rate(sum({g, p} == {"da", "nb"} for g, p in danish_bokmal), len(danish_bokmal))
    return out


def _candidate_stats(items: list[dict[str, Any]], combined: list[tuple[str, tuple[str, ...]]]) -> dict[str, Any]:
    doubtful = [(it["lang"], lang, cands) for it, (lang, cands) in zip(items, combined) if cands]
    wrong = [(g, lang, cands) for it, (lang, cands) in zip(items, combined) if (g := it["lang"]) != lang]
    return {
        "in_doubt": len(doubtful),
        "mean_candidates": _rate(sum(len(c) for _, _, c in doubtful), len(doubtful)),
        "wrong": len(wrong),
        "wrong_but_gold_in_candidates": sum(g in c for g, _, c in wrong),
    }


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{100 * value:5.1f}"


def format_report(result: dict[str, Any]) -> str:
    """The tables as plain text: accuracy % lingua alone / with priors, per language and length."""
    lines = [f"{result['n']} texts; accuracy %, lingua alone -> with priors (n in brackets)"]
    lines.append(f"{'lang':6}" + "".join(f"{b:>24}" for b in BUCKETS + ("all",)))
    alone, priors = result["sides"]["lingua"], result["sides"]["priors"]
    for lang in LANGS + ("all",):
        row = f"{lang:6}"
        for b in BUCKETS + ("all",):
            key = f"{lang}|{b}"
            row += f"{_pct(alone['accuracy'][key])} -> {_pct(priors['accuracy'][key])} ({alone['n'][key]:3d})".rjust(24)
        lines.append(row)
    for name, label in (("wrong_variety", "wrong Norwegian variety (of nb+nn)"), ("nn_as_nb", "Nynorsk taken for Bokmål"), ("da_nb", "Danish/Bokmål confused (of da+nb)")):
        lines.append(f"{label:38} all {_pct(alone[f'{name}|all'])} -> {_pct(priors[f'{name}|all'])}   <=5 words {_pct(alone[f'{name}|<=5'])} -> {_pct(priors[f'{name}|<=5'])}")
    c = result["candidates"]
    lines.append(
        f"with priors: {c['in_doubt']} in doubt (mean {c['mean_candidates'] or 0:.2f} candidates); "
        f"{c['wrong']} wrong, of which {c['wrong_but_gold_in_candidates']} have the right language among lang_candidates"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    paths = [a for a in args if a != "--json"]
    result = evaluate(Path(paths[0]) if paths else DATA)
    print(json.dumps(result, ensure_ascii=False, indent=1) if as_json else format_report(result))


if __name__ == "__main__":
    main()
