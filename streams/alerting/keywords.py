"""Crisis keywords: compiling the configured keywords and finding them in a mention's text.

Words are matched after the normalisation of :mod:`streams.query.text` (case-insensitive, æ≡ä, ø≡ö,
å≡aa, accents folded, ``#boykot`` found by ``boykot``); a trailing ``*`` is a prefix (``tilbagekald*``),
and a keyword of several words is a phrase. With ``cross_language`` (default) every list is tried
whatever language was detected (Danish and Norwegian are often confused on short texts); otherwise the
mention's language's list (all lists for ``other``).

:func:`match_keywords` is what :func:`streams.alerting.rules.keyword_rule` calls;
:class:`~streams.alerting.config.CrisisKeywordConfig` validates its keywords with ``_compile_keyword``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from streams.query.text import forms, query_key, tokenize

if TYPE_CHECKING:
    from streams.alerting.config import CrisisKeywordConfig

__all__ = ["match_keywords"]


@functools.lru_cache(maxsize=4096)
def _compile_keyword(keyword: str) -> tuple[tuple[str, bool], ...]:
    """A keyword as a sequence of (folded word, is_prefix)."""
    words = keyword.split()
    if not words:
        raise ValueError("empty keyword")
    out: list[tuple[str, bool]] = []
    for i, word in enumerate(words):
        prefix = word.endswith("*")
        core = word[:-1] if prefix else word
        if "*" in core:
            raise ValueError(f"keyword {keyword!r}: '*' is only allowed at the end of a word")
        parts = tokenize(core)
        if not parts:
            raise ValueError(f"keyword {keyword!r}: {word!r} has no letters or digits")
        for j, part in enumerate(parts):
            out.append((query_key(part), prefix and j == len(parts) - 1))
    return tuple(out)


def _matches_at(keys: Sequence[tuple[str, ...]], i: int, pattern: tuple[tuple[str, bool], ...]) -> bool:
    if i + len(pattern) > len(keys):
        return False
    for (word, prefix), token_keys in zip(pattern, keys[i : i + len(pattern)]):
        if not any(key == word or (prefix and key.startswith(word)) for key in token_keys):
            return False
    return True


def match_keywords(text: str, lang: str, config: CrisisKeywordConfig) -> list[tuple[str, str]]:
    """The configured keywords found in ``text``: ``(keyword, the words of the text that matched)``, one per
    keyword, in order of first occurrence."""
    if config.cross_language or lang not in config.keywords:
        keywords = [kw for words in config.keywords.values() for kw in words]
    else:
        keywords = list(config.keywords[lang])
    keywords = list(dict.fromkeys(keywords))
    if not keywords or not text:
        return []
    tokens = tokenize(text)
    keys = [forms(token) for token in tokens]
    found: list[tuple[int, str, str]] = []
    for keyword in keywords:
        pattern = _compile_keyword(keyword)
        for i in range(len(keys)):
            if _matches_at(keys, i, pattern):
                found.append((i, keyword, " ".join(tokens[i : i + len(pattern)])))
                break
    found.sort(key=lambda f: f[0])
    return [(kw, matched) for _i, kw, matched in found]
