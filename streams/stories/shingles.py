"""Text normalisation and shingles for story assignment (:mod:`streams.stories.index`).

Copies of one post differ in ways that say nothing about the content, so :func:`normalize` removes them
before anything is compared:

* **NFKC** folds compatibility forms (full-width letters, ligatures, the two ways of writing "å"
  as one code point or "a" + ring) that copy-paste between apps produces;
* **casefold** because reposts often change case ("BREAKING" headlines, lower-case retypes);
* **URLs** are removed: every feed and shortener gives the same news item its own link
  (utm parameters, t.co/bit.ly), so links would make copies look different;
* **@handles** are removed: "RT @anna:" and "via @nyheder" name who passed a post on, not what it says;
* the **#** of a hashtag is removed but its word kept ("#Lego" and "Lego" are the same word);
* a leading **"rt"** and a trailing **"via"** (what is left of "RT @x:" / "via @x") are dropped, so a
  repost of a 3-word post is still an exact copy of it;
* **punctuation and symbols** (emoji included) become spaces: copies add "!!!" or an emoji, and
  headline suffixes are separated by "|" or "–";
* **whitespace** is collapsed.

Letters of every script are kept (``str.isalnum``), so æ ø å ä ö é ü and the rest survive.

:func:`shingles` turns the normalised words into the set MinHash is computed over: word 3-grams
(``k = 3``) for texts of :data:`MIN_WORDS` words or more. Shorter texts get one shingle, the whole
normalised text: too few words make n-gram sets meaningless (two 3-word posts share at most one 3-gram),
so the index lets them join only on an exact normalised match (see :mod:`streams.stories.index`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["MIN_WORDS", "SHINGLE_K", "exact_key", "normalize", "shingles", "words"]

#: Word n-gram size of the shingles of longer texts.
SHINGLE_K = 3
#: Texts with fewer normalised words than this join only on an exact normalised match.
MIN_WORDS = 4

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_NOT_WORD = re.compile(r"[^\w]|_")  # \w is Unicode-aware: letters and digits of every script


def normalize(text: str) -> str:
    """The text with everything removed that differs between copies of one post (module docstring)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _NOT_WORD.sub(" ", text)  # also removes '#', keeping the tag's word
    tokens = text.split()
    if tokens and tokens[0] == "rt":
        tokens = tokens[1:]
    if tokens and tokens[-1] == "via":
        tokens = tokens[:-1]
    return " ".join(tokens)


def words(text: str) -> list[str]:
    """The normalised words of ``text``."""
    return normalize(text).split()


def shingles(tokens: list[str], k: int = SHINGLE_K) -> set[str]:
    """Word ``k``-grams of the normalised words ``tokens``; for fewer than :data:`MIN_WORDS` words the
    whole text as one shingle (exact match only)."""
    if len(tokens) < MIN_WORDS:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def exact_key(tokens: list[str]) -> str:
    """A short stable hash of the normalised text: the join key of very short texts."""
    return hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=8).hexdigest()
