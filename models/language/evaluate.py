"""Evaluate language identification on short texts: lingua alone vs lingua with the stream's priors.

``python -m models.language.evaluate [--json] [PATH]`` (or ``lytter model eval --language``) reads
``models/language/data/short.jsonl``: one item a line, ``{"id", "lang", "kind", "text"}`` and, where the
item has them, its context: ``parent`` (the text it replies to), ``author_history`` (languages of the
author's earlier mentions) and ``declared_lang`` (what the source declared; sometimes wrong, on purpose).

Every side sees the same texts in the same run:

* ``lingua``: lingua alone;
* ``priors``: lingua with the stream's priors (declared language, thread, author);
* ``encoder`` (when the built model has a language head, ``models.language.train``): the head alone, its
  most likely of the five languages (it never says "other");
* ``combined``: the production path: lingua, the priors and the head's signal.

With priors, every item starts from an empty memory, is given its own context only, and goes through the
production path (``LanguageIdentifier.identify_mentions``): the parent text is identified first (its
decision goes into the thread memory), the author history is taught to the author memory, then the item
itself is identified as a reply to that parent.
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
SIDE_TITLES = {"lingua": "lingua alone", "priors": "with priors", "encoder": "language head alone", "combined": "lingua + priors + head"}
_NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bucket(text: str) -> str:
    n = word_count(clean_for_detection(text))
    return "<=5" if n <= 5 else "6-15" if n <= 15 else ">15"


def _mention(mid: str, text: str, handle: str, parent_id: str | None = None, declared: str | None = None) -> Mention:
    return Mention(id=mid, source="eval", text=text, author=Author(handle=handle), published_at=_NOW,
                   parent_id=parent_id, kind="reply" if parent_id else "post", declared_lang=declared)


def with_priors(identifier: LanguageIdentifier, item: dict[str, Any], heads: dict[str, dict[str, float]] | None = None) -> tuple[str, tuple[str, ...], float]:
    """The item's language through the production path, given only its own context (and, with ``heads``,
    the language head's probabilities per text)."""
    identifier.memory = LanguageMemory(max_threads=16, max_authors=16)
    heads = heads or {}
    parent_id = None
    if item.get("parent"):
        parent_id = f"{item['id']}/parent"
        identifier.identify_mentions([_mention(parent_id, item["parent"], "parent-author")], [heads.get(item["parent"])])
    for lang in item.get("author_history") or ():
        identifier.memory.teach_author("eval:author", lang)
    mention = _mention(item["id"], item["text"], "author", parent_id, item.get("declared_lang"))
    guess = identifier.identify_mentions([mention], [heads.get(item["text"])])[0]
    return guess.lang, guess.candidates, guess.confidence


def head_probabilities(model, texts: list[str]) -> dict[str, dict[str, float]]:
    """The language head's probabilities per distinct text, through the production forward pass."""
    unique = list(dict.fromkeys(texts))
    rows = model.predict_all(unique) if unique else []
    return {text: lang for text, (_, _, lang) in zip(unique, rows) if lang is not None}


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def evaluate(path: Path = DATA, identifier: LanguageIdentifier | None = None, model=None) -> dict[str, Any]:
    """Accuracy per language and length bucket, nb/nn and da/nb confusion, for each side (the encoder
    sides only with a ``model`` that has a language head)."""
    items = load(path)
    identifier = identifier or LanguageIdentifier()
    alone = [g.lang for g in identifier.identify([it["text"] for it in items])]
    heads: dict[str, dict[str, float]] = {}
    if model is not None and getattr(model, "language_head", None) is not None:
        heads = head_probabilities(model, [t for it in items for t in (it["text"], it.get("parent")) if t])
    saved = identifier.memory
    try:
        priors = [with_priors(identifier, it) for it in items]
        combined = [with_priors(identifier, it, heads) for it in items] if heads else None
    finally:
        identifier.memory = saved
    sides = {"lingua": alone, "priors": [lang for lang, _, _ in priors]}
    if combined is not None:
        sides["encoder"] = [max(heads[it["text"]], key=heads[it["text"]].get) for it in items]
        sides["combined"] = [lang for lang, _, _ in combined]
    result: dict[str, Any] = {"n": len(items), "sides": {}, "model_version": getattr(model, "version", None) if heads else None}
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
    result["candidates"] = _candidate_stats(items, combined or priors)
    result["calibration"] = _calibration(items, combined or priors)
    return result


def _calibration(items: list[dict[str, Any]], decided: list[tuple[str, tuple[str, ...], float]], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of ``lang_confidence`` (the production side): the mean gap, weighted by
    bin size, between the confidence and the share right in 10 equal-width bins; and the mean confidence
    of right and of wrong decisions."""
    rows = [(conf, it["lang"] == lang) for it, (lang, _, conf) in zip(items, decided)]
    gap = 0.0
    for b in range(bins):
        cell = [(c, ok) for c, ok in rows if b / bins <= c < (b + 1) / bins or (b == bins - 1 and c == 1.0)]
        if cell:
            gap += len(cell) * abs(sum(c for c, _ in cell) / len(cell) - sum(ok for _, ok in cell) / len(cell))
    right = [c for c, ok in rows if ok]
    wrong = [c for c, ok in rows if not ok]
    return {"ece": gap / max(1, len(rows)), "mean_confidence_right": _rate(sum(right), len(right)),
            "mean_confidence_wrong": _rate(sum(wrong), len(wrong))}


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
    doubtful = [(it["lang"], lang, cands) for it, (lang, cands, _) in zip(items, combined) if cands]
    wrong = [(g, lang, cands) for it, (lang, cands, _) in zip(items, combined) if (g := it["lang"]) != lang]
    return {
        "in_doubt": len(doubtful),
        "mean_candidates": _rate(sum(len(c) for _, _, c in doubtful), len(doubtful)),
        "wrong": len(wrong),
        "wrong_but_gold_in_candidates": sum(g in c for g, _, c in wrong),
    }


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{100 * value:5.1f}"


def format_report(result: dict[str, Any]) -> str:
    """The tables as plain text: accuracy % per language and length, one column per side."""
    names = list(result["sides"])
    sides = [result["sides"][n] for n in names]
    lines = [f"{result['n']} texts; accuracy %, " + " / ".join(SIDE_TITLES.get(n, n) for n in names) + " (n in brackets)"]
    width = 6 * len(names) + 8
    lines.append(f"{'lang':6}" + "".join(f"{b:>{width}}" for b in BUCKETS + ("all",)))
    for lang in LANGS + ("all",):
        row = f"{lang:6}"
        for b in BUCKETS + ("all",):
            key = f"{lang}|{b}"
            cell = " /".join(_pct(side["accuracy"][key]) for side in sides) + f" ({sides[0]['n'][key]:3d})"
            row += cell.rjust(width)
        lines.append(row)
    for name, label in (("wrong_variety", "wrong Norwegian variety (of nb+nn)"), ("nn_as_nb", "Nynorsk taken for Bokmål"), ("da_nb", "Danish/Bokmål confused (of da+nb)")):
        every = " /".join(_pct(side[f"{name}|all"]) for side in sides)
        short = " /".join(_pct(side[f"{name}|<=5"]) for side in sides)
        lines.append(f"{label:38} all {every}   <=5 words {short}")
    c = result["candidates"]
    lines.append(
        f"{names[-1]}: {c['in_doubt']} in doubt (mean {c['mean_candidates'] or 0:.2f} candidates); "
        f"{c['wrong']} wrong, of which {c['wrong_but_gold_in_candidates']} have the right language among lang_candidates"
    )
    cal = result["calibration"]
    lines.append(f"{names[-1]}: lang_confidence ECE {100 * cal['ece']:.1f} % (mean confidence {_pct(cal['mean_confidence_right'])} % when right, "
                 f"{_pct(cal['mean_confidence_wrong'])} % when wrong)")
    if "encoder" not in result["sides"]:
        lines.append("(no language head in the model: run `lytter model build` for the encoder sides)")
    return "\n".join(lines)


def load_model():
    """The built sentiment model (with its language head), or None when none is built."""
    from models.sentiment import ModelNotFoundError, SentimentModel

    try:
        return SentimentModel.load()
    except ModelNotFoundError:
        return None


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    paths = [a for a in args if a != "--json"]
    result = evaluate(Path(paths[0]) if paths else DATA, model=load_model())
    print(json.dumps(result, ensure_ascii=False, indent=1) if as_json else format_report(result))


if __name__ == "__main__":
    main()
