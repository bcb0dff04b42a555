"""Keywords of a mention: the content words and two-word phrases that emerging terms are counted on.

``KeywordExtractor`` is an enricher (``streams.processing.pipeline.Enricher``): it sets
``EnrichedMention.keywords`` from the title and text, which ``to_document`` indexes as a keyword array.
Emerging terms (``streams.query.terms``) then run a ``significant_terms`` aggregation on that field,
so everything that makes two spellings the same term has to happen here, once, at index time:

* NFKC-normalised and casefolded (full-width letters, ligatures, "Ä"/"ä" all one form);
* URLs, e-mail addresses and @handles dropped (they name people and pages, not topics); #hashtags
  kept as "#tag";
* numbers, words of fewer than 3 letters and the language's stopwords dropped
  (``streams.processing.stopwords``; "other" uses every list);
* bigrams of adjacent content words within a clause ("ny app", "kundeservice lukket"), so phrases
  can emerge; a stopword between two content words is skipped ("kundeservice er lukket"), punctuation,
  a URL, a handle, a number or a hashtag ends the clause.

At most ``MAX_KEYWORDS`` per mention, in text order (title first), de-duplicated. Only the first
``MAX_SCAN_CHARS`` characters are read: a long blog post's first screen gives 40 keywords many times
over, and the cap keeps the cost per mention flat.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from streams.processing.stopwords import ALL, BY_LANGUAGE
from streams.schema import EnrichedMention

MAX_KEYWORDS = 40
MAX_SCAN_CHARS = 4000
MIN_LETTERS = 3  # a keyword (unigram) needs at least this many letters
MIN_BIGRAM_LETTERS = 2  # a bigram member may be shorter ("ny app", "tv serie"), still not a stopword
MAX_TOKEN_CHARS = 60  # longer is no word (base64, a key smash) and would only bloat the keyword array

# One pass over the text: group 1 is a word (or #hashtag); a match without it (URL, @handle,
# punctuation) ends the clause. Apostrophes and hyphens inside a word keep it whole ("don't", "e-mail").
_TOKENS = re.compile(
    r"(?:https?://|www\.)\S+"
    # an e-mail address (personal data, not a topic); the look-behind and bound keep a long run of
    # "a.a.a..." linear: the alternative is only tried where a run of address characters starts
    r"|(?<![\w.+-])[\w.+-]{1,64}@[\w-]+\.[\w.-]+"
    r"|@[\w.-]+"
    r"|[.!?;:,()\[\]{}\"“”«»…|/\n]+"
    r"|(#?\w+(?:['-]\w+)*)"
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


def _letters(token: str) -> int:
    return len(token) if token.isalpha() else sum(ch.isalpha() for ch in token)


def normalise(text: str) -> str:
    """The form keywords are compared in: NFKC, casefolded, one apostrophe."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)


def extract_keywords(text: str, stopwords: frozenset[str] = ALL, limit: int = MAX_KEYWORDS) -> list[str]:
    """Content words, hashtags and bigrams of ``text``, de-duplicated, in text order, at most ``limit``."""
    if len(text) > MAX_SCAN_CHARS:
        text = text[:MAX_SCAN_CHARS].rsplit(None, 1)[0]  # never end on half a word
    keywords: dict[str, None] = {}  # insertion-ordered set
    previous: str | None = None  # the clause's last content word, for the next bigram
    for token in _TOKENS.findall(normalise(text)):
        if not token or len(token) > MAX_TOKEN_CHARS:
            previous = None  # URL, handle, punctuation or junk: the clause ends
            continue
        if token[0] == "#":
            previous = None
            if not token[1:].isdigit():  # "#2024" is a number; "#covid19" a topic
                keywords[token] = None
        elif token in stopwords:
            continue  # skipped, the clause goes on ("kundeservice er lukket")
        else:
            letters = _letters(token)
            if letters < MIN_BIGRAM_LETTERS:
                if not token.isalpha():
                    previous = None  # a number ("15", "4g", "1-2") ends the clause
                continue
            if letters >= MIN_LETTERS:
                keywords[token] = None
            if previous is not None:
                keywords[f"{previous} {token}"] = None
            previous = token
        if len(keywords) >= limit:
            break
    return list(keywords)[:limit]


def stopwords_for(lang: str | None) -> frozenset[str]:
    return BY_LANGUAGE.get(lang or "", ALL)


class KeywordExtractor:
    """Sets ``keywords`` on each mention of a batch (stateless: safe off the event loop, in threads)."""

    def __init__(self, limit: int = MAX_KEYWORDS) -> None:
        self.limit = limit

    def keywords_for(self, enriched: EnrichedMention) -> list[str]:
        if enriched.deleted_at is not None:  # a tombstone has no text of its own to describe
            return []
        mention = enriched.mention
        text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
        return extract_keywords(text, stopwords_for(enriched.lang), self.limit)

    def enrich(self, enriched: Iterable[EnrichedMention]) -> None:
        for item in enriched:
            item.keywords = self.keywords_for(item)
