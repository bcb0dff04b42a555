"""Normalisation and tokenisation shared by documents and query terms.

Both sides of a match go through the same functions, so whatever this module decides (where a word
ends, which letters are equivalent) holds symmetrically for the text of a mention and for a query.

Normalisation (:func:`fold`):

* Unicode NFC first, then ``str.casefold`` (case-insensitive matching).
* æ ø å are letters of their own and are kept: ``år`` never matches ``ar``.
* The spellings Nordic readers treat as the same letter are merged: ä → æ and ö → ø (Swedish vs
  Danish/Norwegian: ``smör`` ≡ ``smør``) and å ≡ aa (old Danish/Norwegian: ``Aalborg`` ≡ ``Ålborg``).
  The key spells å as ``aa`` rather than the other way round: replacing each å by aa is a plain
  letter-for-letters substitution, so two words get the same key exactly when some spelling of one is
  some spelling of the other (``aå``, ``åa`` and ``aaa`` all meet in ``aaa``, which ``aa → å`` could not
  decide), and a prefix matches exactly when some spelling of it begins some spelling of the word (so
  ``aal*`` and ``å*`` find ``Ålborg`` and ``Aalborg`` alike). ``år`` → ``aar`` stays apart from ``ar``.
* Other accented Latin letters fold to their base letter (é è ê → e, ü → u, ñ → n).

Tokenisation (:func:`tokenize`): a word is a run of letters and digits. Inside a word an apostrophe or an
underscore joins (``don't``, ``lego_group``); ``&`` joins short runs, which keeps brand names such as
``H&M``, ``AT&T`` and ``B&O`` whole without gluing ``rock&roll`` into one word. Hyphens, dots and other
punctuation separate words (``Coca-Cola`` is the two words ``coca cola``; a query term written with a
hyphen is matched as that phrase). A ``#`` or ``@`` directly before a word (and not inside one, so
``info@lego.com`` is no @mention) is kept as part of the token.

A document token is indexed under several *forms* at one position (:func:`forms`), so that:

* ``#lego`` and ``@lego`` are found by the term ``lego``, while the term ``#lego`` finds only the hashtag;
* ``Ørsted's`` / ``McDonald's`` are found by ``ørsted``, ``ørsteds`` and ``mcdonalds`` (query terms drop
  their apostrophes, see :func:`query_key`).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "forms", "keyword_key", "normalize", "query_key", "tokenize"]

# Letters Danish/Norwegian and Swedish spell differently but read as the same letter. æ ø å must not
# reach the accent stripping below (NFD would turn å into a + ring and lose the ring).
_NORDIC = {"æ": "æ", "ø": "ø", "å": "aa", "ä": "æ", "ö": "ø", "’": "'", "ʼ": "'"}

_char_cache: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    folded = _NORDIC.get(ch)
    if folded is None:
        # Strip combining marks: é → e, ü → u. Letters without a decomposition (ð, þ, ł, œ) stay as they are.
        decomposed = unicodedata.normalize("NFD", ch)
        folded = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    _char_cache[ch] = folded
    return folded


def fold(word: str) -> str:
    """Canonical key of a word: casefolded, Nordic equivalences applied (å spelled aa), other accents removed."""
    lowered = word.casefold()
    if lowered.isascii():
        return lowered
    cache = _char_cache
    return "".join([cache.get(c) or _fold_char(c) for c in lowered])


# Combining marks left over after NFC (letters with no precomposed form); they fold away anyway, and
# removing them first keeps them from splitting a word in two.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalize(text: str) -> str:
    """NFC plus removal of stray combining marks: what :func:`tokenize` runs on."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    if _MARKS.search(text):
        text = _MARKS.sub("", text)
    return text


_ALNUM = r"[^\W_]"
_TOKEN_RE = re.compile(
    # optional #/@ marker, only at the start of a word (the look-behind rules out info@lego.com),
    # then letters/digits joined by in-word apostrophes, underscores and ampersands
    rf"(?:(?<![\w#@&])[#@])?{_ALNUM}+(?:['’ʼ_&]{_ALNUM}+)*"
)


def _split_ampersands(token: str) -> list[str]:
    """Keep H&M, AT&T's, B&O whole (short runs), split rock&roll into its words."""
    core = re.split(r"['’ʼ]", token, maxsplit=1)[0].lstrip("#@")
    if all(1 <= len(part) <= 3 for part in core.split("&")):
        return [token]
    return [part for part in token.split("&") if part]


def tokenize(text: str) -> list[str]:
    """The raw (NFC, not yet folded) tokens of ``text`` in order; one token per word position."""
    tokens = _TOKEN_RE.findall(normalize(text))
    if "&" in text:  # rare: only then look at the tokens one by one
        tokens = [piece for token in tokens for piece in (_split_ampersands(token) if "&" in token else (token,))]
    return tokens


def query_key(token: str) -> str:
    """The key a query word is looked up by: :func:`fold` without apostrophes (``mcdonald's`` → ``mcdonalds``)."""
    key = fold(token)
    return key.replace("'", "") if "'" in key else key


_forms_cache: dict[str, tuple[str, ...]] = {}
_FORMS_CACHE_MAX = 200_000  # distinct tokens; a full cache is simply dropped and refilled


def forms(token: str) -> tuple[str, ...]:
    """Every key a document token is indexed under (see the module docstring). Cached per token."""
    cached = _forms_cache.get(token)
    if cached is not None:
        return cached
    key = fold(token)
    out = [key]
    if "'" in key:
        # McDonald's → mcdonalds (the query side drops apostrophes) and the stem mcdonald
        out = [key.replace("'", ""), key.split("'", 1)[0]]
    if key[0] in "#@":
        out += [f[1:] for f in out]
    result = tuple(dict.fromkeys(f for f in out if f and f not in "#@"))
    if len(_forms_cache) >= _FORMS_CACHE_MAX:
        _forms_cache.clear()
    _forms_cache[token] = result
    return result


_SPACE = re.compile(r"\s+")


def keyword_key(value: str, *, strip_at: bool = False) -> str:
    """Key of a whole keyword value (author, source, lang): folded like a word, whitespace collapsed."""
    value = _SPACE.sub(" ", normalize(value)).strip()
    if strip_at:
        value = value.lstrip("@")
    return fold(value)
