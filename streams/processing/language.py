"""Language identification for Danish, Norwegian Bokmål and Nynorsk, Swedish and English.

Backed by lingua (its models ship inside the wheel, no download). Other languages that commonly show up
in Nordic feeds are in the detector too, so that German or Finnish text is labelled ``other`` instead of
being forced into the nearest Scandinavian language.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Sequence

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

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


def to_lytter_code(language: Language | None) -> str:
    """Map a lingua language to Lytter's codes: da, nb, nn, sv, en, or other."""
    if language is None:
        return "other"
    return LYTTER_CODES.get(language, "other")


def clean_for_detection(text: str) -> str:
    """Drop what carries no language (URLs, @handles, #tags) and cut long texts."""
    return _HANDLE.sub(" ", _URL.sub(" ", text))[:MAX_CHARS].strip()


class LanguageIdentifier:
    """Thread-safe, lazily built detector (building it loads the models: about a second)."""

    def __init__(self) -> None:
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()

    def _get(self) -> LanguageDetector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    languages = list(LYTTER_CODES) + list(OTHER_LANGUAGES)
                    self._detector = LanguageDetectorBuilder.from_languages(*languages).build()
        return self._detector

    def identify(self, texts: Sequence[str]) -> list[LanguageGuess]:
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
