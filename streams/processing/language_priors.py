"""Priors from the stream for language identification of short texts, combined with lingua's evidence.

Most mentions are a handful of words, where lingua alone is unsure (Nynorsk taken for Bokmål, Danish for
Bokmål, short English for Dutch or German). The stream knows more than the text: what the source declared,
what language the thread is in, what the author usually writes. This module turns those into a prior and
combines it with lingua's confidence values.

The formula (``combine``), with L = {da, nb, nn, sv, en, other} (K = 6) and n = the text's word count::

    posterior(l)  ∝  max(lingua(l), FLOOR) ** w(n)  ×  BASE_PRIOR(l)  ×  Π_s [ (1 - r_s) / K + r_s · d_s(l) ]

    w(n, H) = min(1, W_MIN + W_SLOPE · (n - 1) + W_PEAK · (1 - H / log K))

The text's own evidence counts more the longer it is (n) and the less ambiguous lingua finds it (H, the
entropy of lingua's distribution over L: 0 when it is sure, log K when it has no idea).

Each stream signal s is a distribution d_s over L with a reliability r_s in [0, 1): the chance the signal
"tells the truth", otherwise it says nothing (uniform). That is the likelihood of a noisy channel, so the
product is a proper Bayesian update and a signal can never veto a language on its own:

* declared language (``Mention.declared_lang``: Bluesky ``langs``, Mastodon ``language``, a feed's
  ``<language>``): d = ``DECLARED[code]`` ("no" is Bokmål or Nynorsk, "nb" mostly Bokmål), r = R_DECLARED;
* thread: the parent's decided language, d = {parent_lang: 1}, r = R_PARENT × the parent's confidence;
* author: the author's language counts so far, d = counts / total, r = R_AUTHOR × N / (N + AUTHOR_N0);
* encoder: the language head on the sentiment encoder's pooled features (``models.language.train``), a
  second reading of the text itself that knows words in context where lingua only sees letters; d = the
  head's calibrated probabilities over the five languages with Bokmål and Nynorsk sharing their sum (no
  "other": lingua keeps that call; no variety: the head is weakest there), r = R_ENCODER, chosen on the
  1-5 word crops of the sentiment data's dev split, not on the evaluation set. The sentiment pass computes it anyway, so it costs one small product per mention.

How ambiguous the text is enters twice: through w (a peaked distribution keeps more weight) and through
lingua's distribution itself (a flat one leaves the prior to decide; a peaked one on a long text overrides
any prior). The constants were chosen on the even-numbered items of ``models/language/data/short.jsonl``
and checked on the odd ones (see ``models/language/README.md``).

The thread and author memories are bounded in-memory LRUs, per worker process (``LanguageMemory``). They
are approximate by design: after a restart they start empty, and with several worker partitions a reply
may be processed by a worker that never saw its parent (mentions are keyed by their own id, not their
thread), or the author's earlier mentions. Then that signal is simply absent and the text and the other
signals decide: a missing prior costs accuracy on short texts, never correctness.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping

LANGS = ("da", "nb", "nn", "sv", "en", "other")
K = len(LANGS)

#: Lowest lingua value used: lingua gives exact zeros, which a prior could never lift.
FLOOR = 1e-4
#: Weight of lingua's evidence for a one-word text, and its growth per extra word (1.0 from ~11 words on).
W_MIN = 0.30
W_SLOPE = 0.07
#: Extra weight of lingua's evidence when its distribution is peaked (not ambiguous).
W_PEAK = 0.6
#: The stream is Nordic: "other" is a little less likely a priori (the other five are equal).
BASE_PRIOR = {"da": 1.0, "nb": 1.0, "nn": 1.0, "sv": 1.0, "en": 1.0, "other": 0.6}

#: Reliability of each signal (the chance it is right; otherwise it carries no information).
R_DECLARED = 0.4
R_PARENT = 0.6
R_AUTHOR = 0.85
AUTHOR_N0 = 2.0
R_ENCODER = 0.3

#: What a declared ISO code says about Lytter's languages ("no" and "nb" are also used by Nynorsk writers).
DECLARED: dict[str, dict[str, float]] = {
    "da": {"da": 1.0},
    "no": {"nb": 0.6, "nn": 0.4},
    "nb": {"nb": 0.85, "nn": 0.15},
    "nn": {"nn": 1.0},
    "sv": {"sv": 1.0},
    "en": {"en": 1.0},
}

#: Below this posterior of the chosen language the guess is "in doubt" and lists its candidates.
DOUBT_THRESHOLD = 0.75
#: A language is a candidate (within reach) when its posterior is at least this.
CANDIDATE_FLOOR = 0.20

#: Sizes of the in-memory LRUs (entries); a few MB at most.
MAX_THREAD_ENTRIES = 200_000
MAX_AUTHOR_ENTRIES = 100_000
#: An author's counts are halved past this total, so a change of language shows within some posts.
AUTHOR_COUNT_CAP = 40.0
#: Only decisions at least this confident teach the author memory (avoids a wrong guess reinforcing itself).
LEARN_THRESHOLD = 0.6


def declared_code(value: str | None) -> str | None:
    """A source's language tag ("nb-NO", "no", "en-US") as a key of ``DECLARED``, or None."""
    if not value:
        return None
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    if code in ("nob",):
        code = "nb"
    elif code in ("nno",):
        code = "nn"
    elif code in ("nor",):
        code = "no"
    return code if code in DECLARED else "other"


def ambiguity(lingua: Mapping[str, float]) -> float:
    """H / log K of lingua's distribution over ``LANGS``: 0 sure, 1 no idea."""
    total = sum(max(v, 0.0) for v in lingua.values()) or 1.0
    h = -sum((v / total) * math.log(v / total) for v in lingua.values() if v > 0)
    return min(1.0, h / math.log(K))


def evidence_weight(words: int, ambiguous: float = 1.0) -> float:
    """w(n, H): the exponent of lingua's evidence, growing with length and with lingua's certainty."""
    return min(1.0, W_MIN + W_SLOPE * max(words - 1, 0) + W_PEAK * (1.0 - ambiguous))


@dataclass(frozen=True)
class Signal:
    """One prior: a distribution over ``LANGS`` and how much to trust it."""

    dist: Mapping[str, float]
    reliability: float

    def likelihood(self, lang: str) -> float:
        return (1.0 - self.reliability) / K + self.reliability * self.dist.get(lang, 0.0)


def declared_signal(value: str | None) -> Signal | None:
    code = declared_code(value)
    if code is None:
        return None
    return Signal(DECLARED.get(code, {"other": 1.0}), R_DECLARED)


def parent_signal(lang: str, confidence: float) -> Signal:
    return Signal({lang: 1.0}, R_PARENT * max(0.0, min(1.0, confidence)))


def author_signal(counts: Mapping[str, float]) -> Signal | None:
    total = sum(counts.values())
    if total <= 0:
        return None
    return Signal({k: v / total for k, v in counts.items()}, R_AUTHOR * total / (total + AUTHOR_N0))


def encoder_signal(dist: Mapping[str, float] | None) -> Signal | None:
    """The language head's view as a signal. It votes for Norwegian, not for a variety: its nb/nn split
    moved more short texts to the wrong variety than it fixed (models/language/README.md), so Bokmål and
    Nynorsk share its Norwegian mass and lingua, the thread and the author decide between them."""
    if not dist:
        return None
    norwegian = (dist.get("nb", 0.0) + dist.get("nn", 0.0)) / 2
    return Signal({**dist, "nb": norwegian, "nn": norwegian}, R_ENCODER)


def combine(lingua: Mapping[str, float], words: int, signals: list[Signal]) -> dict[str, float]:
    """The posterior over ``LANGS`` (sums to 1); see the module docstring for the formula."""
    w = evidence_weight(words, ambiguity(lingua))
    logs = {}
    for lang in LANGS:
        value = w * math.log(max(lingua.get(lang, 0.0), FLOOR)) + math.log(BASE_PRIOR[lang])
        for s in signals:
            value += math.log(s.likelihood(lang))
        logs[lang] = value
    top = max(logs.values())
    exp = {lang: math.exp(v - top) for lang, v in logs.items()}
    total = sum(exp.values())
    return {lang: v / total for lang, v in exp.items()}


def decide(posterior: Mapping[str, float]) -> tuple[str, float, tuple[str, ...]]:
    """The chosen language, its posterior, and the candidates when in doubt (else empty)."""
    ranked = sorted(posterior.items(), key=lambda kv: (-kv[1], LANGS.index(kv[0])))
    lang, confidence = ranked[0]
    if confidence >= DOUBT_THRESHOLD:
        return lang, confidence, ()
    return lang, confidence, tuple(k for k, v in ranked if v >= CANDIDATE_FLOOR)


class _Lru(OrderedDict):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)

    def peek(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value


@dataclass
class LanguageMemory:
    """What the stream taught so far: mention id -> (language, confidence), author key -> counts.

    Bounded LRUs, thread-safe, per process; see the module docstring for what that means across restarts
    and partitions."""

    max_threads: int = MAX_THREAD_ENTRIES
    max_authors: int = MAX_AUTHOR_ENTRIES
    _threads: _Lru = field(init=False)
    _authors: _Lru = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._threads = _Lru(self.max_threads)
        self._authors = _Lru(self.max_authors)

    def thread_lang(self, mention_id: str | None) -> tuple[str, float] | None:
        if not mention_id:
            return None
        with self._lock:
            return self._threads.peek(mention_id)

    def author_counts(self, author: str | None) -> dict[str, float]:
        if not author:
            return {}
        with self._lock:
            return dict(self._authors.peek(author) or {})

    def remember(self, mention_id: str | None, author: str | None, lang: str, confidence: float) -> None:
        """Record a decision: the thread always (a reply needs it), the author only when confident."""
        with self._lock:
            if mention_id:
                self._threads.put(mention_id, (lang, confidence))
            if author and confidence >= LEARN_THRESHOLD:
                self._add_author(author, lang, 1.0)

    def teach_author(self, author: str, lang: str, weight: float = 1.0) -> None:
        """Add a known language observation for an author (tests, evaluation, back-fill)."""
        with self._lock:
            self._add_author(author, lang, weight)

    def _add_author(self, author: str, lang: str, weight: float) -> None:
        counts = dict(self._authors.peek(author) or {})
        counts[lang] = counts.get(lang, 0.0) + weight
        if sum(counts.values()) > AUTHOR_COUNT_CAP:
            counts = {k: v / 2 for k, v in counts.items()}
        self._authors.put(author, counts)

    def signals(self, *, declared: str | None, parent_id: str | None, author: str | None) -> list[Signal]:
        """The priors this mention has: declared language, thread, author (any may be missing)."""
        out: list[Signal] = []
        d = declared_signal(declared)
        if d is not None:
            out.append(d)
        parent = self.thread_lang(parent_id)
        if parent is not None:
            out.append(parent_signal(*parent))
        a = author_signal(self.author_counts(author))
        if a is not None:
            out.append(a)
        return out
