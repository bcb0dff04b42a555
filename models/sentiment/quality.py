"""Checks on the labelled data that a test runs and a writer runs while writing.

* ``near_duplicates``: pairs of texts whose normalised token sets have Jaccard similarity above a
  threshold (0.8). Exact all-pairs search with prefix filtering, so nothing is missed and 10,000 texts
  take well under a second.
* ``template_filler``: texts made from one skeleton (names and numbers swapped) and openings or phrases
  repeated across many texts, the marks of generated filler rather than written data.
* ``lexicon_coverage``: which lexicon entries no text of a language uses, in any inflection (a token with
  the same Snowball stem counts).

``python -m models.sentiment.quality --help`` prints a report for writers.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

NEAR_DUPLICATE_JACCARD = 0.8
# An opening (first OPENING_TOKENS tokens) or a PHRASE_TOKENS-gram shared by more texts of one language
# than this share (and at least the floor) reads as a template.
OPENING_TOKENS = 4
OPENING_MAX_SHARE = 0.01
OPENING_MIN_COUNT = 12
PHRASE_TOKENS = 7
PHRASE_MAX_COUNT = 6

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"^\d+$")
STEMMER_LANG = {"da": "danish", "nb": "norwegian", "nn": "norwegian", "sv": "swedish", "en": "english"}


def tokens(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _skeleton(text: str) -> list[str]:
    """Tokens with numbers and capitalised names (not sentence-initial) masked."""
    out: list[str] = []
    words = _WORD.findall(unicodedata.normalize("NFKC", text))
    for i, w in enumerate(words):
        if _NUMBER.match(w):
            out.append("#")
        elif i > 0 and w[:1].isupper():
            out.append("N")
        else:
            out.append(w.casefold())
    return out


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _similar_pairs(sets: Sequence[frozenset[str]], threshold: float) -> list[tuple[int, int, float]]:
    """All (i, j, jaccard) with jaccard > threshold; exact, by prefix filtering on rare-first token order."""
    freq: Counter = Counter(t for s in sets for t in s)
    ordered = [sorted(s, key=lambda t: (freq[t], t)) for s in sets]
    index: dict[str, list[int]] = defaultdict(list)
    pairs: list[tuple[int, int, float]] = []
    by_size = sorted(range(len(sets)), key=lambda i: len(sets[i]))
    for i in by_size:
        toks = ordered[i]
        size = len(toks)
        if size == 0:
            continue
        # J > t needs an overlap > t * |A u B| >= t * size, so the first size - ceil(t*size) + 1 tokens
        # in the global order must meet any partner.
        prefix = max(1, min(size, size - math.ceil(threshold * size) + 1))
        seen: set[int] = set()
        for t in toks[:prefix]:
            for j in index[t]:
                if j in seen:
                    continue
                seen.add(j)
                # j was indexed earlier, so |sets[j]| <= size; J > t needs |B| > t * |A|.
                if len(sets[j]) <= threshold * size:
                    continue
                sim = jaccard(sets[i], sets[j])
                if sim > threshold:
                    pairs.append((min(i, j), max(i, j), sim))
            index[t].append(i)
    return sorted(pairs)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float
    why: str

    def __str__(self) -> str:
        return f"{self.a} ~ {self.b} ({self.why}, jaccard {self.similarity:.2f})"


def near_duplicates(items: Sequence[tuple[str, str]], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[Pair]:
    """Pairs of ``(id, text)`` items whose normalised token sets overlap by Jaccard > threshold."""
    sets = [frozenset(tokens(text)) for _, text in items]
    return [Pair(items[i][0], items[j][0], s, "near-duplicate") for i, j, s in _similar_pairs(sets, threshold)]


def template_filler(items: Sequence[tuple[str, str]], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[str]:
    """Reasons, one line each, why some texts look like template filler (empty list: none)."""
    problems: list[str] = []
    skeletons = [frozenset(_skeleton(text)) for _, text in items]
    plain = [frozenset(tokens(text)) for _, text in items]
    for i, j, s in _similar_pairs(skeletons, threshold):
        if jaccard(plain[i], plain[j]) <= threshold and len(skeletons[i]) >= 4:
            problems.append(f"{items[i][0]} ~ {items[j][0]}: one skeleton with names/numbers swapped (jaccard {s:.2f})")
    openings: Counter = Counter()
    phrases: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for ident, text in items:
        toks = tokens(text)
        if len(toks) > OPENING_TOKENS:
            openings[tuple(toks[:OPENING_TOKENS])] += 1
        for gram in {tuple(toks[k : k + PHRASE_TOKENS]) for k in range(len(toks) - PHRASE_TOKENS + 1)}:
            phrases[gram].append(ident)
    limit = max(OPENING_MIN_COUNT, int(OPENING_MAX_SHARE * len(items)))
    for opening, n in openings.most_common():
        if n <= limit:
            break
        problems.append(f"{n} texts open with {' '.join(opening)!r} (at most {limit})")
    for gram, ids in phrases.items():
        if len(ids) > PHRASE_MAX_COUNT:
            problems.append(f"{len(ids)} texts share the phrase {' '.join(gram)!r} (at most {PHRASE_MAX_COUNT}): {', '.join(ids[:5])}...")
    return problems


def _stemmer(lang: str):
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMER_LANG[lang])


def lexicon_coverage(texts: Iterable[str], entries: Iterable[str], lang: str) -> list[str]:
    """Lexicon entries that no text uses. A word counts in any inflection: a token with the same Snowball
    stem; an entry with spaces or symbols (``:-)``, ``</3``) must appear as it is, between spaces."""
    stem = _stemmer(lang).stemWord
    token_set: set[str] = set()
    stems: set[str] = set()
    padded: list[str] = []
    for text in texts:
        folded = unicodedata.normalize("NFKC", text).casefold()
        padded.append(" " + " ".join(folded.split()) + " ")
        for tok in tokens(folded):
            token_set.add(tok)
            stems.add(stem(tok))
    blob = "\n".join(padded)
    missing: list[str] = []
    for entry in entries:
        word = unicodedata.normalize("NFKC", entry).casefold().strip()
        if _WORD.fullmatch(word):
            if word in token_set or stem(word) in stems:
                continue
        else:
            # Symbols and phrases: delimited by spaces or punctuation around them.
            pattern = r"(?<![\w])" + re.escape(word) + r"(?![\w])" if word[:1].isalnum() or word[-1:].isalnum() else r"(?:^|\s)" + re.escape(word) + r"(?=\s|$|[.,!?])"
            if re.search(pattern, blob, flags=re.MULTILINE):
                continue
        missing.append(entry)
    return missing


# ------------------------------------------------------------------------------------------------
# lexicons from the registry packages
# ------------------------------------------------------------------------------------------------


def afinn_da_strong(min_abs: int = 3) -> list[str]:
    """AFINN-da entries with |score| >= min_abs (771 at 3), from the ``afinn`` package."""
    import afinn

    path = Path(afinn.__file__).parent / "data" / "AFINN-da-32.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, score = line.rpartition("\t")
        if word and abs(int(score)) >= min_abs:
            out.append(word)
    return out


def vader_sv_strong(min_abs: float = 2.5, path: Path | None = None) -> list[str]:
    """Swedish VADER entries with |score| >= min_abs (775 at 2.5), from ``vadersentiment-swedish``."""
    if path is None:
        import importlib.util

        spec = importlib.util.find_spec("vaderSentiment")
        if spec is None or spec.origin is None:
            raise RuntimeError("the Swedish VADER lexicon needs the package vadersentiment-swedish (pip install -e '.[build-model]')")
        path = Path(spec.origin).parent / "vader_lexicon.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        try:
            score = float(parts[1])
        except ValueError:
            continue
        if abs(score) >= min_abs:
            out.append(parts[0])
    return out


# ------------------------------------------------------------------------------------------------
# writers' report
# ------------------------------------------------------------------------------------------------


def _read_items(paths: Sequence[Path]) -> list[dict]:
    import json

    rows = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc.msg})")
            obj["_where"] = f"{path.name}:{n}"
            rows.append(obj)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.sentiment.quality",
        description="Report near-duplicates, template filler, label/register mix and lexicon coverage of data files.",
    )
    parser.add_argument("files", nargs="*", type=Path, help="files to report on (default: every data file)")
    parser.add_argument("--lang", help="only texts of this language")
    parser.add_argument("--words", type=Path, help="a file of lexicon entries, one per line, to check coverage of")
    args = parser.parse_args(argv)
    from models.sentiment.dataset import DATA_DIR

    all_rows = _read_items(sorted(DATA_DIR.glob("*.jsonl")))
    mine = _read_items(args.files) if args.files else all_rows
    mine_ids = {r.get("id") for r in mine}
    if args.lang:
        all_rows = [r for r in all_rows if r.get("lang") == args.lang]
        mine = [r for r in mine if r.get("lang") == args.lang]
    items = [(str(r.get("id")), str(r.get("text", ""))) for r in all_rows]
    print(f"{len(mine)} texts in the files asked about; compared with {len(items)} in {DATA_DIR}")
    print("labels:", dict(Counter(r.get("label") for r in mine)))
    print("registers:", dict(Counter(r.get("register") for r in mine)))
    lengths = [len(tokens(r.get("text", ""))) for r in mine]
    if lengths:
        print("words: min", min(lengths), "median", sorted(lengths)[len(lengths) // 2], "max", max(lengths))
    dups = [p for p in near_duplicates(items) if p.a in mine_ids or p.b in mine_ids]
    for p in dups:
        print("NEAR-DUPLICATE", p)
    filler = template_filler(items)
    for line in filler:
        print("TEMPLATE", line)
    if args.words:
        entries = [w for w in args.words.read_text(encoding="utf-8").splitlines() if w.strip()]
        lang = args.lang or (mine[0].get("lang") if mine else "da")
        missing = lexicon_coverage([r.get("text", "") for r in all_rows], entries, lang)
        print(f"lexicon: {len(entries) - len(missing)}/{len(entries)} covered")
        if missing:
            print("MISSING:", " | ".join(missing))
    return 1 if dups or filler else 0


if __name__ == "__main__":
    sys.exit(main())
