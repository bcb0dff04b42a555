"""The Boolean query language brand teams write their watches and searches in.

Brandwatch / Meltwater / Talkwalker-style syntax::

    (lego OR "lego group" OR #lego) AND lang:(da OR nb) NOT author:legobot
    ørsted NEAR/5 (boykott* OR protest*)
    title:"rema 1000" OR url:rema1000.dk

Syntax
    ``word``               a word, matched case-insensitively (see Normalisation)
    ``word*``              a prefix: any word starting with ``word`` (``*lego``, ``le*go`` and a lone ``*`` are errors)
    ``"a phrase"``         consecutive words; ``"lego frie*"`` may end words with ``*``
    ``a AND b``, ``a b``   both; adjacent operands are joined by an implicit AND
    ``a OR b``             either
    ``NOT a``              not ``a``; ``a NOT b`` is ``a AND NOT b`` (implicit AND)
    ``a NEAR/n b``         within ``n`` words of each other, either order (``NEAR/1`` = adjacent);
                           operands: words, phrases, wildcards, OR-groups of those, or NEARs
    ``a NEAR/nf b``        ``a`` followed by ``b`` within ``n`` words
    ``( … )``              grouping
    ``scope:x``            ``x`` (a term, phrase or ``( … )`` group) in one field. Scopes: ``title:``, ``text:``,
                           ``url:`` (searched word by word) and ``author:``, ``source:``, ``lang:`` (whole values,
                           e.g. ``lang:(da OR nb)``, ``author:@lego``, ``source:red*``). Without a scope a query
                           searches title + text.

Operators are upper case; ``and``, ``or``, ``not`` in lower case are ordinary words, and the upper-case
words themselves can be searched in quotes (``"AND"``). ``-word`` is an error (write ``NOT word``), not a
search for ``word``. Limits: NEAR/1 … NEAR/1000, at most 100 levels of nesting.

Precedence, tightest first: field scope, NOT, NEAR, AND (explicit or implicit), OR. Hence
``a OR b c`` = ``a OR (b AND c)``, ``NOT a b`` = ``(NOT a) AND b``, ``a b NEAR/2 c`` = ``a AND (b NEAR/2 c)``.
NEAR is left-associative: ``a NEAR/2 b NEAR/3 c`` = ``(a NEAR/2 b) NEAR/3 c``.

Normalisation (:mod:`streams.query.text`): NFC, case-insensitive; æ ø å stay letters of their own
(``år`` ≠ ``ar``) but æ≡ä, ø≡ö and aa≡å (``smør`` = ``smör``, ``Aalborg`` = ``Ålborg``); other accents fold
(``café`` = ``cafe``). A wildcard matches when some spelling of it begins some spelling of the word
(``å*`` and ``aal*`` find ``Aalborg``; ``a*`` also finds ``år``). ``#lego`` is found by ``lego`` and ``#lego``;
``@lego`` by ``lego`` and ``@lego``; ``H&M`` is one word; ``Coca-Cola`` is the two words ``coca cola``
(written as a term it is matched as that phrase); ``McDonald's`` is found by ``mcdonald`` and ``mcdonalds``.

Usage::

    query = compile_query('ørsted NEAR/5 boykott*')      # parse once (raises QuerySyntaxError)
    doc = Document.from_mapping(mention_dict)             # prepare each mention once ...
    hits = [q for q in brand_queries if q.matches(doc)]   # ... and run every query on it
    es_body = {"query": query.to_elasticsearch()}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .elasticsearch import DEFAULT_FIELDS
from .elasticsearch import to_elasticsearch as _to_elasticsearch
from .evaluate import DEFAULT_SCOPE, Document, Matcher, compile_matcher
from .lexer import FIELDS, QuerySyntaxError
from .parser import And, Field, Near, Node, Not, Or, Phrase, Term, parse

__all__ = [
    "DEFAULT_FIELDS",
    "FIELDS",
    "And",
    "Document",
    "Field",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Query",
    "QuerySyntaxError",
    "Term",
    "compile_query",
]


@dataclass(frozen=True)
class Query:
    """A parsed and compiled query. Immutable and thread-safe; build it with :func:`compile_query`."""

    source: str
    ast: Node
    _matcher: Matcher = field(repr=False, compare=False)

    def matches(self, doc: Document | Mapping[str, Any]) -> bool:
        """Whether the mention matches. Pass a :class:`Document` when running many queries on one mention."""
        if not isinstance(doc, Document):
            doc = Document.from_mapping(doc)
        return self._matcher(doc)

    def to_elasticsearch(
        self,
        fields: Mapping[str, Sequence[str]] | None = None,
        *,
        default_scope: Sequence[str] = DEFAULT_SCOPE,
        wildcard_scopes: Collection[str] = ("url",),
        nordic_variants: bool = True,
        max_variants: int = 16,
    ) -> dict[str, Any]:
        """The Elasticsearch query clause (see :mod:`streams.query.elasticsearch` for shapes and approximations)."""
        return _to_elasticsearch(
            self.ast,
            fields,
            default_scope=default_scope,
            wildcard_scopes=wildcard_scopes,
            nordic_variants=nordic_variants,
            max_variants=max_variants,
        )

    def __str__(self) -> str:
        """The query fully parenthesised, as the parser understood it."""
        return str(self.ast)

    def __reduce__(self):
        # The compiled closures do not pickle; the source text recompiles to the same query.
        return (compile_query, (self.source,))


def compile_query(text: str) -> Query:
    """Parse and compile ``text``; raise :class:`QuerySyntaxError` (with the column) if it is malformed."""
    if not isinstance(text, str):
        raise TypeError(f"query must be a str, not {type(text).__name__}")
    ast = parse(text)
    return Query(text, ast, compile_matcher(ast))
