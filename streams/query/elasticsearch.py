"""Translation of a query AST into the Elasticsearch 8 query DSL, for analysts' searches over the index.

The result is the query clause itself (put it under ``"query"`` of a search body)::

    lego AND NOT "lego movie"      {"bool": {"must": [{"multi_match": {"query": "lego", ...}}],
                                             "must_not": [{"multi_match": {"query": "lego movie", "type": "phrase", ...}}]}}
    a OR b                         {"bool": {"should": [...], "minimum_should_match": 1}}
    "rema 1000"                    match_phrase (one field) / multi_match type=phrase (several)
    boykott*                       prefix (bool.should over the fields)
    a NEAR/3 "b c"                 span_near(slop=2, in_order=false) of span_term / span_near(slop=0) / span_or,
                                   with span_multi(prefix) for wildcards, once per field (bool.should)
    lang:(da OR nb), source:x      term with case_insensitive (keyword fields); x* → prefix
    url:lego.com                   wildcard *lego.com* (case_insensitive) on the url keyword field

Field names come from a mapping of scope → index fields (see :data:`DEFAULT_FIELDS`); the default scope
searches the fields of ``title`` and ``text``.

How close this is to :meth:`Query.matches` (the streaming matcher is the reference):

* ES analyses text with the index's analyzer (assumed: the standard analyzer — lower case, no folding).
  Full-text clauses send the query words lower-cased; span and prefix clauses, which are not analysed,
  send lower-cased terms split the way the standard tokenizer splits (``h&m`` → ``h`` ``m``).
* The Nordic equivalences cannot be applied to the indexed text from here, so they are *expanded* on the
  query side: each word is also searched in its æ/ä, ø/ö and å/aa spellings and without other accents
  (``smør`` → smør OR smör; ``Aalborg`` → aalborg OR ålborg; ``café`` → café OR cafe). Only this direction
  works: the query ``cafe`` does not find an indexed ``café`` unless the index folds accents itself
  (asciifolding would also fold å/æ/ø, so use a mapping char filter for é→e etc. if that matters).
  A phrase with more than ``max_variants`` spellings falls back to its written and its modern spelling
  (æ ø å, no other accents). A prefix ending in ``a`` is not widened to å (``a*`` finds ``år`` in the stream, since
  år ≡ aar, but not in ES).
* The standard analyzer drops ``#`` and ``@``: ``#lego`` searches the word ``lego`` (the stream matcher
  finds only the hashtag). Possessive/apostrophe forms follow the analyzer (``lego's`` is its own token).
* Keyword scopes compare whole values case-insensitively; ``author:@lego`` searches ``lego`` (handles are
  assumed to be indexed without their ``@``, as the sources store them).
  ``url:`` is a substring match on the whole URL (``url:lego`` finds ``legoland.dk``; the stream matcher
  matches URL words); ``url:(a NEAR/n b)`` only requires both to occur.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .evaluate import DEFAULT_SCOPE
from .lexer import KEYWORD_FIELDS
from .parser import And, Field, Near, Node, Not, Or, Phrase, Term
from .text import fold, normalize, tokenize

__all__ = ["DEFAULT_FIELDS", "to_elasticsearch"]

DEFAULT_FIELDS: dict[str, list[str]] = {
    "title": ["title"],
    "text": ["text"],
    "url": ["url"],
    # As streams/sinks/elasticsearch/mapping.py maps them: handle is a keyword, display_name text + .keyword.
    "author": ["author.handle", "author.display_name.keyword"],
    "source": ["source"],
    "lang": ["lang"],
}

_ES_TERM = re.compile(r"[^\W_]+(?:['’_][^\W_]+)*")  # roughly what the standard tokenizer keeps as one token
# fold() spells å as aa; each of these in a folded word stands for either spelling.
_NORDIC_SWAP = {"æ": ("æ", "ä"), "ø": ("ø", "ö"), "aa": ("å", "aa")}
_NORDIC_RE = re.compile("(æ|ø|aa)")
_WILDCARD_SPECIAL = re.compile(r"([?*\\])")

Q = dict[str, Any]


def to_elasticsearch(
    node: Node,
    fields: Mapping[str, Sequence[str]] | None = None,
    *,
    default_scope: Sequence[str] = DEFAULT_SCOPE,
    wildcard_scopes: Collection[str] = ("url",),
    nordic_variants: bool = True,
    max_variants: int = 16,
) -> Q:
    """Translate ``node`` into an ES query clause. ``fields`` overrides :data:`DEFAULT_FIELDS` per scope."""
    merged = {**DEFAULT_FIELDS, **{k: list(v) for k, v in (fields or {}).items()}}
    return _Translator(merged, set(wildcard_scopes), nordic_variants, max_variants).node(node, tuple(default_scope))


class _Translator:
    def __init__(self, fields: dict[str, list[str]], wildcard_scopes: set[str], variants: bool, max_variants: int):
        self.fields = fields
        self.wildcard_scopes = wildcard_scopes
        self.variants_on = variants
        self.max_variants = max_variants

    # -- structure -----------------------------------------------------------------------------------
    def node(self, node: Node, scope: tuple[str, ...]) -> Q:
        if isinstance(node, Field):
            return self.node(node.child, (node.name,))
        if isinstance(node, Or):
            return _should([self.node(c, scope) for c in node.children])
        if isinstance(node, And):
            must = [self.node(c, scope) for c in node.children if not isinstance(c, Not)]
            must_not = [self.node(c.child, scope) for c in node.children if isinstance(c, Not)]
            body: Q = {}
            if must:
                body["must"] = must
            if must_not:
                body["must_not"] = must_not
            return {"bool": body}
        if isinstance(node, Not):
            return {"bool": {"must_not": [self.node(node.child, scope)]}}
        if scope[0] in KEYWORD_FIELDS:
            return self.keyword(node, scope[0])
        if scope[0] in self.wildcard_scopes:
            return self.contains(node, scope[0])
        names = self.field_names(scope)
        if isinstance(node, Near):
            return _should([self.span(node, name) for name in names])
        return self.text(node, names)

    def field_names(self, scope: tuple[str, ...]) -> list[str]:
        return list(dict.fromkeys(name for s in scope for name in self.fields.get(s, [s])))

    def variants(self, s: str) -> list[str]:
        """``s`` (lower-cased) in its Nordic/accent spellings; see the module docstring."""
        if not self.variants_on:
            return [s]
        parts = _NORDIC_RE.split(fold(s))
        choices = [_NORDIC_SWAP.get(p, (p,)) for p in parts]
        count = 1
        for c in choices:
            count *= len(c)
        if count > self.max_variants:
            return list(dict.fromkeys([s, fold(s).replace("aa", "å")]))  # as written + modern spelling
        return list(dict.fromkeys([s, *("".join(p) for p in itertools.product(*choices))]))

    # -- full text -----------------------------------------------------------------------------------
    def text(self, node: Term | Phrase, names: list[str]) -> Q:
        words = _es_words(node)
        if not any(prefix for _, prefix in words):
            phrase = " ".join(w for w, _ in words)
            return _should([_full_text(v, names) for v in self.variants(phrase)])
        if len(words) == 1:
            ((word, _),) = words
            split = [_es_terms(v) for v in self.variants(word)]
            if all(len(terms) == 1 for terms in split):  # else (h&m*) the analyzer splits it: spans below
                values = dict.fromkeys(terms[0] for terms in split)
                return _should([{"prefix": {name: {"value": v}}} for v in values for name in names])
        return _should([self.span(node, name) for name in names])

    # -- spans (NEAR, phrases with wildcards) ----------------------------------------------------------
    def span(self, node: Node, name: str) -> Q:
        if isinstance(node, Near):
            return {
                "span_near": {
                    "clauses": [self.span(node.left, name), self.span(node.right, name)],
                    # slop = words allowed in between; NEAR/1 means adjacent.
                    "slop": node.distance - 1,
                    "in_order": node.ordered,
                }
            }
        if isinstance(node, Or):
            return {"span_or": {"clauses": [self.span(c, name) for c in node.children]}}
        if isinstance(node, (Term, Phrase)):
            clauses = [self.span_word(word, prefix, name) for word, prefix in _es_words(node)]
            return _span_seq(clauses)
        raise TypeError(f"{type(node).__name__} cannot be a span")  # the parser rejects this earlier

    def span_word(self, word: str, prefix: bool, name: str) -> Q:
        alternatives = []
        for variant in self.variants(word):
            terms = _es_terms(variant)
            if not terms:
                continue
            clauses: list[Q] = [{"span_term": {name: t}} for t in terms]
            if prefix:
                clauses[-1] = {"span_multi": {"match": {"prefix": {name: {"value": terms[-1]}}}}}
            alternatives.append(_span_seq(clauses))
        if len(alternatives) == 1:
            return alternatives[0]
        return {"span_or": {"clauses": alternatives}}

    # -- whole-value scopes --------------------------------------------------------------------------
    def keyword(self, node: Node, scope: str) -> Q:
        value, prefix = _raw_value(node)
        if scope == "author":
            value = value.lstrip("@")
        values = self.variants(value.lower())
        kind = "prefix" if prefix else "term"
        return _should(
            [{kind: {name: {"value": v, "case_insensitive": True}}} for v in values for name in self.fields[scope]]
        )

    def contains(self, node: Node, scope: str) -> Q:
        if isinstance(node, Near):
            # Word distances inside a keyword URL are out of reach: both sides must occur, anywhere.
            return {"bool": {"must": [self.node(node.left, (scope,)), self.node(node.right, (scope,))]}}
        value, _ = _raw_value(node)  # a substring match: a trailing * changes nothing
        return _should(
            [
                {"wildcard": {name: {"value": f"*{_escape_wildcard(v)}*", "case_insensitive": True}}}
                for v in self.variants(value.lower())
                for name in self.fields[scope]
            ]
        )


def _es_words(node: Term | Phrase) -> list[tuple[str, bool]]:
    """(lower-cased word, is_prefix) per word of a term or phrase, split as the stream matcher splits."""
    words: list[tuple[str, bool]] = []
    for chunk in node.text.split():
        prefix = chunk.endswith("*")
        tokens = tokenize(chunk.rstrip("*"))
        words += [(t.lower(), prefix and i == len(tokens) - 1) for i, t in enumerate(tokens)]
    if isinstance(node, Term) and node.wildcard and words:
        words[-1] = (words[-1][0], True)
    return words


def _escape_wildcard(value: str) -> str:
    return _WILDCARD_SPECIAL.sub(r"\\\1", value)


def _es_terms(word: str) -> list[str]:
    return _ES_TERM.findall(word)


def _raw_value(node: Node) -> tuple[str, bool]:
    if isinstance(node, Term):
        return " ".join(normalize(node.text).split()), node.wildcard
    if isinstance(node, Phrase):
        raw = node.text.strip()
        return " ".join(normalize(raw.rstrip("*")).split()), raw.endswith("*")
    raise TypeError(f"{type(node).__name__} cannot be a whole value")  # the parser rejects NEAR here


def _full_text(phrase: str, names: list[str]) -> Q:
    # One plain word → match; anything the analyzer splits further (h&m, coca cola) → phrase.
    single = _ES_TERM.fullmatch(phrase) is not None
    if len(names) == 1:
        return {"match": {names[0]: {"query": phrase}}} if single else {"match_phrase": {names[0]: {"query": phrase}}}
    body: Q = {"query": phrase, "fields": names}
    if not single:
        body["type"] = "phrase"
    return {"multi_match": body}


def _span_seq(clauses: list[Q]) -> Q:
    if len(clauses) == 1:
        return clauses[0]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


def _should(clauses: list[Q]) -> Q:
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}
