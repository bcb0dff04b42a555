"""The two baselines every evaluation reports next to the model.

* **majority**: the most frequent label in the training split of the sentence's language (all
  languages' training data when that language has none); ties go to the first of negative, neutral,
  positive.
* **lexicon** (AFINN, from the ``afinn`` package's word lists, as its own ``Afinn.score`` does: the
  lower-cased text is matched against the list's words and phrases with word boundaries, plus the
  AFINN emoticon list without; the scores are summed): positive when the sum is > 0, negative when
  < 0, neutral at 0. No negation handling, as AFINN.

  - da, nb, nn: AFINN-da (3,552 Danish words). Bokmål and Nynorsk share much of the Danish
    vocabulary (god, dårlig, elsker, skuffet, ...); there is no Norwegian AFINN.
  - en: AFINN-en-165.
  - sv: there is no Swedish AFINN, so this module builds one: AFINN-da re-spelled into Swedish
    orthography (æ -> ä, ø -> ö; shared words such as *fantastisk*, *skandal*, *perfekt* then match)
    plus ``SWEDISH_CORE``, a small hand-written list of frequent Swedish sentiment words that Danish
    does not share (*bra*, *dålig*, *sämst*, *älskar*, *grymt*, ...), scored on AFINN's -5..+5
    scale; the Swedish list wins where both have a word.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from models.sentiment.dataset import LABELS, Example

# Frequent Swedish sentiment words not (or differently) spelled in Danish; AFINN scale -5..+5.
SWEDISH_CORE: dict[str, int] = {
    # positive
    "bra": 3, "jättebra": 4, "superbra": 4, "bäst": 3, "bästa": 3, "toppen": 3, "grym": 3, "grymt": 3,
    "fantastiskt": 4, "underbar": 4, "underbart": 4, "underbara": 4, "älskar": 3, "älska": 3, "gillar": 2,
    "gilla": 2, "nöjd": 2, "nöjda": 2, "glad": 3, "glada": 3, "gladare": 3, "tack": 2, "tacksam": 2,
    "trevlig": 2, "trevligt": 2, "trevliga": 2, "snygg": 2, "snyggt": 2, "smidig": 2, "smidigt": 2,
    "härlig": 3, "härligt": 3, "härliga": 3, "kul": 2, "roligt": 2, "rekommenderar": 2, "prisvärd": 2,
    "prisvärt": 2, "lysande": 3, "imponerad": 3, "imponerande": 3, "enkelt": 1, "snabb": 1, "snabbt": 1,
    "vänlig": 2, "vänliga": 2, "hjälpsam": 2, "hjälpsamma": 2, "äntligen": 1, "fint": 2, "fina": 2,
    "mysig": 2, "mysigt": 2, "gott": 3, "goda": 3, "succé": 3, "woho": 2,
    # negative
    "dålig": -3, "dåligt": -3, "dåliga": -3, "sämre": -2, "sämst": -3, "sämsta": -3, "värst": -3,
    "värsta": -3, "usel": -3, "uselt": -3, "usla": -3, "hatar": -3, "besviken": -2, "besvikna": -2,
    "besvikelse": -2, "arg": -3, "arga": -3, "irriterad": -2, "irriterande": -2, "tråkig": -2,
    "tråkigt": -2, "trasig": -2, "trasigt": -2, "trasiga": -2, "krånglar": -2, "krångligt": -2,
    "krångel": -2, "problem": -2, "försenad": -2, "försenat": -2, "försening": -2, "dyrt": -1,
    "pinsamt": -2, "bedrövlig": -3, "bedrövligt": -3, "oförskämd": -3, "oförskämt": -3, "ledsen": -2,
    "värdelös": -3, "värdelöst": -3, "skit": -3, "skitdålig": -4, "skräp": -3, "fusk": -3, "lurad": -3,
    "lurade": -3, "klagomål": -2, "avgrundsdålig": -5, "katastrofalt": -3, "fruktansvärt": -3,
    "hemsk": -3, "hemskt": -3, "kass": -3, "kasst": -3, "suger": -3, "ilsken": -3, "orolig": -2,
    "stängt": -1, "saknar": -1, "tyvärr": -1,
}


def _afinn_data_dir() -> Path:
    try:
        import afinn  # noqa: F401  (the word lists are data files of this package)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("the lexicon baseline needs the `afinn` package (pip install afinn==0.1)") from exc
    return Path(afinn.__file__).resolve().parent / "data"


def _read_list(name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (_afinn_data_dir() / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            word, score = line.rsplit("\t", 1)
            out[word.strip()] = int(score)
    return out


class Lexicon:
    """AFINN-style scorer: sum of the scores of the words/phrases (word-bounded) and emoticons found."""

    def __init__(self, words: dict[str, int], emoticons: dict[str, int]) -> None:
        self.words, self.emoticons = dict(words), dict(emoticons)
        by_length = lambda items: sorted(items, key=len, reverse=True)  # noqa: E731 - longest match first
        words_re = r"\b(?:" + "|".join(map(re.escape, by_length(self.words))) + r")\b"
        emo_re = "(?:" + "|".join(map(re.escape, by_length(self.emoticons))) + ")"
        self._pattern = re.compile(f"({words_re}|{emo_re})", flags=re.UNICODE)
        self._scores = {**self.words, **self.emoticons}

    def matches(self, text: str) -> list[str]:
        return self._pattern.findall(re.sub(r"\s+", " ", text).lower())

    def score(self, text: str) -> float:
        return float(sum(self._scores[m] for m in self.matches(text)))


_TO_SWEDISH = str.maketrans({"æ": "ä", "ø": "ö"})


@lru_cache(maxsize=None)
def lexicon_for(lang: str) -> Lexicon:
    emoticons = _read_list("AFINN-emoticon-8.txt")
    if lang == "en":
        return Lexicon(_read_list("AFINN-en-165.txt"), emoticons)
    danish = _read_list("AFINN-da-32.txt")
    if lang in ("da", "nb", "nn"):
        return Lexicon(danish, emoticons)
    if lang == "sv":
        words = {w.translate(_TO_SWEDISH): s for w, s in danish.items()}
        words.update(SWEDISH_CORE)
        return Lexicon(words, emoticons)
    raise ValueError(f"no lexicon for language {lang!r}")


def label_of_score(score: float) -> str:
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def lexicon_predict(examples: Iterable[Example]) -> list[str]:
    return [label_of_score(lexicon_for(e.lang).score(e.text)) for e in examples]


class MajorityBaseline:
    def __init__(self, train: Sequence[Example]) -> None:
        def majority(rows: Iterable[Example]) -> str:
            counts = Counter(e.label for e in rows)
            return max(LABELS, key=lambda label: (counts[label], -LABELS.index(label)))

        self.overall = majority(train)
        self.by_lang = {lang: majority(e for e in train if e.lang == lang) for lang in {e.lang for e in train}}

    def label_for(self, lang: str) -> str:
        return self.by_lang.get(lang, self.overall)

    def predict(self, examples: Iterable[Example]) -> list[str]:
        return [self.label_for(e.lang) for e in examples]
