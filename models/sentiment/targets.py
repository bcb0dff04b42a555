"""Which words of a text speak about which brand: sentences, clauses and comparisons.

A text's sentiment is the writer's stance toward its main subject; a text that names two brands can
praise one and run down the other ("Fjordbank er mye bedre enn Nordlys Energi"). For each brand the
scorer reads only the parts of the text that speak about it:

* the sentences that name the brand, and the brand-less sentences right after them ("... Fjordbank.
  Supert!"); the whole text when no sentence names it;
* inside a sentence that names several brands, the clause that names this one, cut at contrast words
  (men, but, mens, medan, whereas, ...);
* in a comparison ("A is better than B", "A er billigere end B"), the brand after the comparison word
  takes the *opposite* polarity of the clause before it: praise of A over B is criticism of B.

Pure functions on strings: the model scores the segments, ``SentimentModel.predict_targets`` combines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)|\n+")
# Contrast words: the clauses on either side are separate stances.
_CONTRAST = re.compile(r"\s*(?:,\s*)?\b(?:men|but|mens|medan|medens|whereas|while|however|derimot|dock|imens)\b\s*", re.I)
# Comparison words after a comparative: the right-hand side gets the opposite polarity.
_COMPARISON = re.compile(
    r"\s+(?:enn|end|än|than|i motsetning til|i modsætning til|i motsats till|unlike|compared to|compared with|"
    r"sammenlignet med|sammenliknet med|samanlikna med|jämfört med|framfor|fremfor|framför)\s+",
    re.I,
)


@dataclass(frozen=True)
class Segment:
    text: str
    flip: bool = False  # the brand's stance is the opposite of this segment's


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _names(text: str, brand: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(brand) + r"(?!\w)", text, re.I) is not None


def _clauses(sentence: str) -> list[str]:
    return [c.strip() for c in _CONTRAST.split(sentence) if c and c.strip()]


def _segments_in_clause(clause: str, brand: str, others: list[str]) -> list[Segment]:
    parts = _COMPARISON.split(clause, maxsplit=1)
    if len(parts) == 2 and any(_names(parts[0], o) for o in others + [brand]):
        left, right = parts
        if _names(right, brand) and not _names(left, brand):
            return [Segment(left, flip=True)]
        if _names(left, brand):
            return [Segment(left)]
    return [Segment(clause)]


def segments_for(text: str, brand: str, brands: list[str]) -> list[Segment]:
    """The parts of ``text`` that carry its stance toward ``brand`` (the whole text when none names it)."""
    others = [b for b in brands if b.casefold() != brand.casefold()]
    out: list[Segment] = []
    follows = False  # a sentence naming no brand continues the one before it ("... Fjordbank. Supert!")
    for sentence in sentences(text):
        named_any = _names(sentence, brand) or any(_names(sentence, o) for o in others)
        if not named_any:
            if follows:
                out.append(Segment(sentence))
            continue
        follows = _names(sentence, brand) and not any(_names(sentence, o) for o in others)
        if not _names(sentence, brand):
            continue
        if not any(_names(sentence, o) for o in others):
            out.append(Segment(sentence))
            continue
        for clause in _clauses(sentence):
            if _names(clause, brand):
                out.extend(_segments_in_clause(clause, brand, others))
    return out or [Segment(text)]
