"""Lexer: query text → tokens, and the :class:`QuerySyntaxError` every stage raises.

Tokens: ``(`` ``)``, the upper-case operators ``AND`` ``OR`` ``NOT`` ``NEAR/n`` (``NEAR/nf`` = ordered),
``"quoted phrases"``, field scopes (``author:`` directly followed by a term, phrase or group) and terms
(anything else up to whitespace, a parenthesis or a quote). Lower-case ``and``/``or``/``not`` are ordinary
words (``not`` is one in English); to search for the upper-case word, quote it: ``"AND"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FIELDS", "KEYWORD_FIELDS", "TEXT_FIELDS", "QuerySyntaxError", "Token", "lex"]

#: Field scopes searched word by word, like the default scope (title + text).
TEXT_FIELDS = ("title", "text", "url")
#: Field scopes matched as whole values (a handle, a source name, a language code).
KEYWORD_FIELDS = ("author", "source", "lang")
FIELDS = TEXT_FIELDS + KEYWORD_FIELDS

OPERAND_HINT = "a term, phrase, '(' or NOT"
#: Larger NEAR distances are "anywhere in the text" in practice (and overflow nothing downstream).
MAX_NEAR = 1000


class QuerySyntaxError(ValueError):
    """A malformed query. ``position`` is the 0-based offset into the query; the text says column ``position + 1``.

    ``str(error)`` is meant for the analyst who typed the query, e.g.::

        expected a term, phrase, '(' or NOT after AND, but the query ends (column 9)
          lego AND
                  ^
    """

    def __init__(self, message: str, position: int, query: str = "") -> None:
        self.message = message
        self.position = max(0, position)
        self.query = query
        super().__init__(self._render())

    @property
    def column(self) -> int:
        return self.position + 1

    def _render(self) -> str:
        text = f"{self.message} (column {self.column})"
        if self.query:
            # Tabs and newlines would throw the caret off; to the lexer they are just whitespace.
            shown = "".join(" " if ch.isspace() else ch for ch in self.query)
            text += f"\n  {shown}\n  {' ' * self.position}^"
        return text

    def __reduce__(self):  # keep it picklable (faust ships exceptions between processes)
        return (type(self), (self.message, self.position, self.query))


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # TERM PHRASE FIELD LPAREN RPAREN AND OR NOT NEAR EOF
    text: str  # the slice of the query, for messages
    pos: int
    value: Any = None  # TERM: (word, wildcard); PHRASE: inner text; FIELD: name; NEAR: (distance, ordered)


_FIELD_RE = re.compile(r"[^\W\d_]\w*:")
_NEAR_RE = re.compile(r"NEAR/(\d+)([fF]?)")
_STOP = frozenset(' \t\r\n\f\v()"')


def check_wildcards(word: str, pos: int, query: str) -> tuple[str, bool]:
    """Validate the ``*`` in one word; return (word without the trailing ``*``, is_prefix)."""
    star = word.find("*")
    if star < 0:
        return word, False
    if word.strip("*") == "":
        raise QuerySyntaxError(
            "a lone * would match every word: put at least one letter before it, e.g. lego*", pos, query
        )
    if star == 0:
        raise QuerySyntaxError(
            f"leading wildcards are not supported ({word!r}): * may only end a word, e.g. boykott*", pos, query
        )
    if star != len(word) - 1:
        raise QuerySyntaxError(
            f"* may only end a word (a prefix match such as boykott*), not stand inside {word!r}", pos + star, query
        )
    return word[:-1], True


def lex(query: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            tokens.append(Token("LPAREN" if ch == "(" else "RPAREN", ch, i))
            i += 1
            continue
        if ch == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('unterminated quote: this phrase has no closing "', i, query)
            inner = query[i + 1 : end]
            if not inner.strip():
                raise QuerySyntaxError('empty phrase: put words between the quotes', i, query)
            # Validate wildcards word by word so the caret lands on the offending word.
            for m in re.finditer(r"\S+", inner):
                check_wildcards(m.group(), i + 1 + m.start(), query)
            tokens.append(Token("PHRASE", query[i : end + 1], i, inner))
            i = end + 1
            continue
        # A field scope: `name:` glued to what it scopes. Not right after another scope, so that
        # url:https://lego.com scopes the term https://lego.com instead of failing on "https:".
        m = _FIELD_RE.match(query, i)
        if m and not (tokens and tokens[-1].kind == "FIELD" and tokens[-1].pos + len(tokens[-1].text) == i):
            name = m.group()[:-1]
            if name.lower() not in FIELDS:
                raise QuerySyntaxError(
                    f"unknown field scope {name + ':'!r}; valid scopes are "
                    + ", ".join(f + ":" for f in sorted(FIELDS))
                    + ' (quote the text to search for it literally: "' + name + ':…")',
                    i,
                    query,
                )
            after = m.end()
            if after >= n or query[after].isspace() or query[after] == ")":
                raise QuerySyntaxError(
                    f"expected a term, phrase or '(' directly after {name}: (no space in between)", after, query
                )
            tokens.append(Token("FIELD", m.group(), i, name.lower()))
            i = after
            continue
        j = i
        while j < n and query[j] not in _STOP:
            j += 1
        word = query[i:j]
        tokens.append(_word_token(word, i, query))
        i = j
    tokens.append(Token("EOF", "", n))
    return tokens


def _word_token(word: str, pos: int, query: str) -> Token:
    if word in ("AND", "OR", "NOT"):
        return Token(word, word, pos)
    if word == "NEAR" or word.startswith("NEAR/"):
        m = _NEAR_RE.fullmatch(word)
        if m is None:
            rest = word[5:]
            if word == "NEAR":
                raise QuerySyntaxError("NEAR needs a distance: write NEAR/5 (within 5 words)", pos, query)
            digits = re.match(r"\d*", rest).group()
            if not digits:
                raise QuerySyntaxError(
                    f"expected a number after NEAR/ (e.g. NEAR/5), found {rest[:10]!r}" if rest
                    else "expected a number after NEAR/ (e.g. NEAR/5)",
                    pos + 5,
                    query,
                )
            raise QuerySyntaxError(
                f"unexpected {rest[len(digits):]!r} after NEAR/{digits}: expected NEAR/n or NEAR/nf (f = in this order)",
                pos + 5 + len(digits),
                query,
            )
        distance = int(m.group(1))
        if distance < 1:
            raise QuerySyntaxError("NEAR distance must be at least 1 (NEAR/1 = next to each other)", pos + 5, query)
        if distance > MAX_NEAR:
            raise QuerySyntaxError(f"NEAR distance must be at most {MAX_NEAR} words", pos + 5, query)
        return Token("NEAR", word, pos, (distance, bool(m.group(2))))
    if len(word) > 1 and word[0] == "-" and (word[1].isalnum() or word[1] in '#@"'):
        # -movie would otherwise be searched as "movie": the opposite of what a search-engine user means.
        raise QuerySyntaxError(
            f"a leading - does not exclude here: write NOT {word[1:]} instead of {word}", pos, query
        )
    if re.fullmatch(r"(?i)near/\S*", word):
        # near/5 is never a word anybody searches for; it is a NEAR typed in the wrong case.
        raise QuerySyntaxError(f"operators are upper case: write {word.upper()!r}", pos, query)
    return Token("TERM", word, pos, check_wildcards(word, pos, query))
