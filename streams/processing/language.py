"""Language identification for Danish, Norwegian Bokmål and Nynorsk, Swedish and English.

Backed by lingua (its models ship inside the wheel, no download). Other languages that commonly show up
in Nordic feeds are in the detector too, so that German or Finnish text is labelled ``other`` instead of
being forced into the nearest Scandinavian language.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from streams.processing.language_priors import LanguageMemory, combine, decide, encoder_signal

LYTTER_CODES = {
    Language.DANISH: "da",
    Language.BOKMAL: "nb",
    Language.NYNORSK: "nn",
    Language.SWEDISH: "sv",
    Language.ENGLISH: "en",
}

#: Neighbours of the Nordic languages: detected only so they can be told apart and called "other".
OTHER_LANGUAGES = (
    Language.GERMAN,
    Language.DUTCH,
    Language.FINNISH,
    Language.ICELANDIC,
    Language.FRENCH,
    Language.SPANISH,
    Language.POLISH,
    Language.ESTONIAN,
)

#: Characters of a text that language identification needs; long blog posts add cost, not accuracy.
MAX_CHARS = 1500

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"[@#][\w.]+")


@dataclass(frozen=True)
class LanguageGuess:
    lang: str  # da, nb, nn, sv, en or other
    confidence: float
    #: When in doubt (confidence below ``language_priors.DOUBT_THRESHOLD``): the languages within reach,
    #: most likely first, the chosen one included; empty when the guess is sure.
    candidates: tuple[str, ...] = ()


def to_lytter_code(language: Language | None) -> str:
    """Map a lingua language to Lytter's codes: da, nb, nn, sv, en, or other."""
    if language is None:
        return "other"
    return LYTTER_CODES.get(language, "other")


def clean_for_detection(text: str) -> str:
    """Drop what carries no language (URLs, @handles, #tags) and cut long texts."""
    return _HANDLE.sub(" ", _URL.sub(" ", text))[:MAX_CHARS].strip()


def word_count(cleaned: str) -> int:
    """Words with at least one letter (emoji and numbers carry no language)."""
    return sum(1 for w in cleaned.split() if any(ch.isalpha() for ch in w))


class LanguageIdentifier:
    """Thread-safe, lazily built detector (building it loads the models: about a second).

    ``identify(texts)`` is lingua alone; ``identify_mentions(mentions)`` combines lingua with the priors
    of the stream (declared language, thread, author) kept in ``memory`` (``language_priors``)."""

    def __init__(self, memory: LanguageMemory | None = None) -> None:
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()
        self.memory = memory if memory is not None else LanguageMemory()

    def _get(self) -> LanguageDetector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    languages = list(LYTTER_CODES) + list(OTHER_LANGUAGES)
                    self._detector = LanguageDetectorBuilder.from_languages(*languages).build()
        return self._detector

    def distributions(self, texts: Sequence[str]) -> list[tuple[dict[str, float], int] | None]:
        """lingua's confidence values folded onto da, nb, nn, sv, en and other, with the word count;
        None for a text without letters (emoji, numbers, links only)."""
        detector = self._get()
        cleaned = [clean_for_detection(t) for t in texts]
        out: list[tuple[dict[str, float], int] | None] = []
        for text, values in zip(cleaned, detector.compute_language_confidence_values_in_parallel(cleaned)):
            if not values or not any(ch.isalpha() for ch in text):
                out.append(None)
                continue
            dist = {"da": 0.0, "nb": 0.0, "nn": 0.0, "sv": 0.0, "en": 0.0, "other": 0.0}
            for value in values:
                dist[to_lytter_code(value.language)] += float(value.value)
            out.append((dist, word_count(text)))
        return out

    def identify(self, texts: Sequence[str]) -> list[LanguageGuess]:
        """lingua alone: its most likely language and that language's confidence value."""
        detector = self._get()
        cleaned = [clean_for_detection(t) for t in texts]
        results: list[LanguageGuess] = []
        confidences = detector.compute_language_confidence_values_in_parallel(cleaned)
        for text, values in zip(cleaned, confidences):
            if not values or not any(ch.isalpha() for ch in text):  # emoji, numbers, links only
                results.append(LanguageGuess("other", 0.0))
                continue
            best = values[0]
            results.append(LanguageGuess(to_lytter_code(best.language), float(best.value)))
        return results

    def identify_mentions(self, mentions: Sequence[Any], encoder: Sequence[Mapping[str, float] | None] | None = None) -> list[LanguageGuess]:
        """lingua combined with the stream's priors, in order (a parent earlier in the batch counts for
        its replies), remembering each decision for later replies and the author's languages.
        ``encoder``: per mention, the sentiment model's language head probabilities (or None), one more signal."""
        from models.influence import author_key

        results: list[LanguageGuess] = []
        heads = encoder if encoder is not None else [None] * len(mentions)
        for mention, evidence, head in zip(mentions, self.distributions([m.text for m in mentions]), heads):
            author = author_key(mention)
            if evidence is None:
                results.append(LanguageGuess("other", 0.0))
                continue
            signals = self.memory.signals(
                declared=getattr(mention, "declared_lang", None), parent_id=mention.parent_id, author=author
            )
            head_signal = encoder_signal(head)
            if head_signal is not None:
                signals.append(head_signal)
            lang, confidence, candidates = decide(combine(evidence[0], evidence[1], signals))
            self.memory.remember(mention.id, author, lang, confidence)
            results.append(LanguageGuess(lang, confidence, candidates))
        return results
