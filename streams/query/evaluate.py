"""Evaluation: a prepared :class:`Document` and an AST compiled into plain closures.

The stream checks every brand's query against every mention, so the expensive part — NFC, tokenising,
folding — happens once per mention in :meth:`Document.from_mapping`, and the result is shared by all
queries. A query is compiled once into nested closures (no AST walking, no isinstance per document),
and a single word then costs one dict lookup per searched field.

Semantics:

* The default scope is title + text; each word of a query is looked up in either. A phrase or a NEAR
  must lie within one field (a phrase does not run from the title on into the text).
* ``title:``/``text:``/``url:`` search word by word; ``author:``/``source:``/``lang:`` compare the whole
  value (case-insensitively, folded like words; a leading ``@`` of a handle is ignored), and ``x*`` there
  is a prefix of the whole value. ``author`` holds the handle and the display name; either may match.
* ``a NEAR/n b``: some occurrence of ``a`` and some non-overlapping occurrence of ``b`` are at most
  ``n`` word positions apart, i.e. at most ``n - 1`` words between them (``NEAR/1`` = adjacent), in either
  order; ``NEAR/nf`` requires ``a`` first. For phrases the distance is counted between their nearest ends.
  A NEAR's own occurrence spans both operands, which is what an enclosing NEAR measures from.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .lexer import FIELDS, KEYWORD_FIELDS
from .parser import And, Field, Near, Node, Not, Or, Phrase, Term
from .text import _forms_cache, forms, keyword_key, query_key, tokenize

__all__ = ["DEFAULT_SCOPE", "Document", "FieldIndex", "Matcher", "compile_matcher", "query_words"]

DEFAULT_SCOPE = ("title", "text")

Span = tuple[int, int]  # [start, end) in word positions
Matcher = Callable[["Document"], bool]
SpanFn = Callable[["FieldIndex"], list[Span]]


class FieldIndex:
    """Positions of every form of every word of one field: ``{form: [position, ...]}``."""

    __slots__ = ("positions", "_keys")

    def __init__(self, text: str) -> None:
        positions: dict[str, list[int]] = {}
        if text:
            get, cached = positions.get, _forms_cache.get  # locals: this loop runs for every word of every mention
            for pos, token in enumerate(tokenize(text)):
                for form in cached(token) or forms(token):
                    bucket = get(form)
                    if bucket is None:
                        positions[form] = [pos]
                    else:
                        bucket.append(pos)
        self.positions = positions
        self._keys: list[str] | None = None

    def prefixed(self, prefix: str) -> list[str]:
        """Forms starting with ``prefix`` (bisect on the sorted forms, sorted once on first use)."""
        keys = self._keys
        if keys is None:
            keys = self._keys = sorted(self.positions)
        out = []
        for i in range(bisect_left(keys, prefix), len(keys)):
            if not keys[i].startswith(prefix):
                break
            out.append(keys[i])
        return out


_EMPTY = FieldIndex("")


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):  # an Author: {"handle": ..., "display_name": ...}
        return [v for k in ("handle", "display_name", "name") if isinstance(v := value.get(k), str)]
    if isinstance(value, Iterable):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


class _Lazy(dict):
    """``{field: prepared value}``, each prepared on first use: a mention is only tokenised for the
    fields some query looks at (url:, author: … are rare), and then once for all queries."""

    __slots__ = ("_raw", "_prepare")

    def __init__(self, raw: dict[str, Any], prepare: Callable[[str, Any], Any]) -> None:
        super().__init__()
        self._raw = raw
        self._prepare = prepare

    def __missing__(self, name: str) -> Any:
        value = self[name] = self._prepare(name, self._raw.get(name))
        return value


def _field_index(name: str, value: Any) -> FieldIndex:
    return FieldIndex(" \n ".join(_strings(value))) if value else _EMPTY


def _keyword_keys(name: str, value: Any) -> frozenset[str]:
    keys = (keyword_key(v, strip_at=name == "author") for v in _strings(value))
    return frozenset(k for k in keys if k)


class Document:
    """A mention prepared for matching; build it once and evaluate any number of queries against it.

    ``fields[name]`` is the :class:`FieldIndex` of title/text/url, ``keywords[name]`` the set of folded
    whole values of author/source/lang; both are filled on first use.
    """

    __slots__ = ("fields", "keywords")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        values = {name: raw.get(name) for name in FIELDS}  # a snapshot: later edits of raw do not leak in
        self.fields: dict[str, FieldIndex] = _Lazy(values, _field_index)
        self.keywords: dict[str, frozenset[str]] = _Lazy(values, _keyword_keys)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> "Document":
        """From a mapping with "title", "text", "author", "source", "lang", "url" (missing = empty).

        ``author`` may be a string, a mapping with ``handle``/``display_name``/``name``, or a list of either;
        so the dict of :meth:`EnrichedMention.to_document` can be passed as it is.
        """
        if isinstance(mapping, Document):
            return mapping
        return cls(mapping)


# -- query words ---------------------------------------------------------------------------------


def query_words(text: str, wildcard: bool = False) -> list[tuple[str, bool]]:
    """The (key, is_prefix) words of a term or phrase text; ``word*`` inside a phrase is a prefix."""
    words: list[tuple[str, bool]] = []
    for chunk in text.split():
        prefix = chunk.endswith("*")
        tokens = tokenize(chunk.rstrip("*"))
        for i, token in enumerate(tokens):
            words.append((query_key(token), prefix and i == len(tokens) - 1))
    if wildcard and words:
        words[-1] = (words[-1][0], True)
    return words


# -- compilation ---------------------------------------------------------------------------------


def compile_matcher(node: Node, scope: Sequence[str] = DEFAULT_SCOPE) -> Matcher:
    """Compile an AST into ``f(document) -> bool``."""
    scope = tuple(scope)
    if isinstance(node, Field):
        return compile_matcher(node.child, (node.name,))
    # AND and OR commute: test the cheap children first, so that short-circuiting skips the dear ones.
    if isinstance(node, Or):
        return _any([compile_matcher(c, scope) for c in sorted(node.children, key=_cost)])
    if isinstance(node, And):
        return _all([compile_matcher(c, scope) for c in sorted(node.children, key=_cost)])
    if isinstance(node, Not):
        inner = compile_matcher(node.child, scope)
        return lambda doc: not inner(doc)
    if scope[0] in KEYWORD_FIELDS:
        return _keyword_matcher(node, scope[0])
    if isinstance(node, Term) and not node.wildcard:
        words = query_words(node.text)
        if len(words) == 1:
            return _word_matcher(words[0][0], scope)
    spans = compile_spans(node)
    if len(scope) == 1:
        (name,) = scope
        return lambda doc: bool(spans(doc.fields[name]))
    return lambda doc: any(spans(doc.fields[name]) for name in scope)


def _cost(node: Node) -> int:
    """A rough cost rank for ordering; only relative order matters."""
    if isinstance(node, Term):
        return 1 if not node.wildcard else 3
    if isinstance(node, Phrase):
        return 3 if "*" in node.text else 2
    if isinstance(node, (Field, Not)):
        return _cost(node.child) + (isinstance(node, Not))
    if isinstance(node, Near):
        return 2 + _cost(node.left) + _cost(node.right)
    return 1 + sum(_cost(c) for c in node.children)


def _word_matcher(key: str, scope: tuple[str, ...]) -> Matcher:
    # The hot path: one dict membership test per field.
    if len(scope) == 1:
        (a,) = scope
        return lambda doc: key in doc.fields[a].positions
    if len(scope) == 2:
        a, b = scope
        return lambda doc: key in doc.fields[a].positions or key in doc.fields[b].positions
    return lambda doc: any(key in doc.fields[name].positions for name in scope)


def _any(fns: list[Matcher]) -> Matcher:
    if len(fns) == 2:
        f, g = fns
        return lambda doc: f(doc) or g(doc)

    def match(doc: Document) -> bool:
        for fn in fns:
            if fn(doc):
                return True
        return False

    return match


def _all(fns: list[Matcher]) -> Matcher:
    if len(fns) == 2:
        f, g = fns
        return lambda doc: f(doc) and g(doc)

    def match(doc: Document) -> bool:
        for fn in fns:
            if not fn(doc):
                return False
        return True

    return match


def _keyword_matcher(node: Node, name: str) -> Matcher:
    strip_at = name == "author"
    if isinstance(node, Term):
        key = keyword_key(node.text, strip_at=strip_at)
        wildcard = node.wildcard
    elif isinstance(node, Phrase):
        raw = node.text.strip()
        wildcard = raw.endswith("*")
        key = keyword_key(raw.rstrip("*"), strip_at=strip_at)
    else:  # the parser allows no NEAR here, and Field/And/Or/Not were handled by the caller
        raise TypeError(f"unexpected {type(node).__name__} in {name}:")
    if wildcard:
        return lambda doc: any(value.startswith(key) for value in doc.keywords[name])
    return lambda doc: key in doc.keywords[name]


# -- positional (spans) --------------------------------------------------------------------------


def compile_spans(node: Node) -> SpanFn:
    """Compile a positional node into ``f(field_index) -> sorted list of (start, end)``."""
    if isinstance(node, (Term, Phrase)):
        words = query_words(node.text, node.wildcard if isinstance(node, Term) else False)
        if len(words) == 1 and not words[0][1]:
            key = words[0][0]
            return lambda fi: [(p, p + 1) for p in fi.positions.get(key, ())]
        return lambda fi: _phrase_spans(fi, words)
    if isinstance(node, Or):
        children = [compile_spans(c) for c in node.children]

        def union(fi: FieldIndex) -> list[Span]:
            out: set[Span] = set()
            for child in children:
                out.update(child(fi))
            return sorted(out)

        return union
    if isinstance(node, Near):
        left, right = compile_spans(node.left), compile_spans(node.right)
        distance, ordered = node.distance, node.ordered
        left_first = _cost(node.left) <= _cost(node.right)

        def near(fi: FieldIndex) -> list[Span]:
            # Most mentions lack one side altogether: find that out with the cheaper side first.
            if left_first:
                a = left(fi)
                return _near(a, right(fi), distance, ordered) if a else []
            b = right(fi)
            return _near(left(fi), b, distance, ordered) if b else []

        return near
    raise TypeError(f"{type(node).__name__} has no word positions")  # the parser rejects this earlier


def _positions(fi: FieldIndex, key: str, prefix: bool) -> list[int]:
    if not prefix:
        return fi.positions.get(key, [])
    found: set[int] = set()
    for form in fi.prefixed(key):
        found.update(fi.positions[form])
    return sorted(found)


def _phrase_spans(fi: FieldIndex, words: list[tuple[str, bool]]) -> list[Span]:
    if not fi.positions:
        return []
    starts = _positions(fi, *words[0])
    for offset, (key, prefix) in enumerate(words[1:], 1):
        if not starts:
            return []
        at = set(_positions(fi, key, prefix))
        starts = [p for p in starts if p + offset in at]
    n = len(words)
    return [(p, p + n) for p in starts]


def _near(a: list[Span], b: list[Span], distance: int, ordered: bool) -> list[Span]:
    if not a or not b:
        return []
    b_starts = [s for s, _ in b]
    longest_b = max(e - s for s, e in b)
    out: list[Span] = []
    for s1, e1 in a:
        # Candidates in b by start: after a, up to distance-1 words between; before a, b's end within reach.
        lo = bisect_left(b_starts, e1 if ordered else s1 - distance + 1 - longest_b)
        hi = bisect_right(b_starts, e1 + distance - 1)
        for j in range(lo, hi):
            s2, e2 = b[j]
            if s2 >= e1:
                gap = s2 - e1 + 1
            elif not ordered and s1 >= e2:
                gap = s1 - e2 + 1
            else:
                continue  # overlapping occurrences are not two things near each other
            if gap <= distance:
                out.append((min(s1, s2), max(e1, e2)))
    if len(out) > 1:
        out = sorted(set(out))
    return out

