"""Recursive-descent parser: tokens → an AST of frozen dataclasses.

Grammar (EBNF; upper-case words are the literal operators)::

    query     = or_expr EOF ;
    or_expr   = and_expr , { "OR" , and_expr } ;
    and_expr  = near_expr , { [ "AND" ] , near_expr } ;     (* adjacency = implicit AND *)
    near_expr = unary , { NEAR , unary } ;                  (* left-associative *)
    unary     = "NOT" , unary | primary ;
    primary   = [ FIELD ] , ( TERM | PHRASE | "(" , or_expr , ")" ) ;
    NEAR      = "NEAR/" , digit , { digit } , [ "f" ] ;     (* 1 <= n <= 1000; f = ordered *)
    FIELD     = ( "title" | "text" | "url" | "author" | "source" | "lang" ) , ":" ;  (* glued to what follows *)
    TERM      = char , { char } ;       (* char: anything but whitespace ( ) " ; at most one "*", at the end;
                                           not AND/OR/NOT/NEAR…, not starting with "-"; needs a letter or digit *)
    PHRASE    = '"' , { any char but '"' } , '"' ;  (* words may end in "*" *)

Precedence, tightest first: field scope, NOT, NEAR, AND (explicit or implicit), OR. So
``NOT a b OR c NEAR/3 d`` is ``((NOT a) AND b) OR (c NEAR/3 d)``.

Checks the grammar alone cannot express are made here too, with the position of the culprit:
NEAR operands must be positional (a term, phrase, wildcard, OR-group of those, or another NEAR), and
``author:``/``source:``/``lang:`` (whole-value scopes) cannot contain NEAR.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Union

from .lexer import KEYWORD_FIELDS, OPERAND_HINT, QuerySyntaxError, Token, lex
from .text import tokenize

__all__ = ["And", "Field", "Near", "Node", "Not", "Or", "Phrase", "Term", "parse"]


# `pos` (offset in the query) is excluded from equality so tests and callers can compare trees built by hand.
@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as typed, without the trailing *
    wildcard: bool = False  # trailing * = prefix match on a word
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return self.text + ("*" if self.wildcard else "")


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str  # between the quotes, as typed (may contain word* prefixes)
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f'"{self.text}"'


@dataclass(frozen=True, slots=True)
class And:
    children: tuple["Node", ...]
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return " AND ".join(_wrap(c, (And, Or, Near)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple["Node", ...]
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return " OR ".join(_wrap(c, (And, Or, Near)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    child: "Node"
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return "NOT " + _wrap(self.child, (And, Or, Near))


@dataclass(frozen=True, slots=True)
class Near:
    left: "Node"
    right: "Node"
    distance: int  # within this many words: 1 = adjacent
    ordered: bool = False  # NEAR/nf: left must come first
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        op = f"NEAR/{self.distance}{'f' if self.ordered else ''}"
        return f"{_wrap(self.left, (Or, Near, And))} {op} {_wrap(self.right, (Or, Near, And))}"


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # one of lexer.FIELDS
    child: "Node"
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.name}:{_wrap(self.child, (And, Or, Not, Near, Field))}"


Node = Union[Term, Phrase, And, Or, Not, Near, Field]


def _wrap(node: Node, kinds: tuple[type, ...]) -> str:
    return f"({node})" if isinstance(node, kinds) else str(node)


_OPERAND_START = frozenset({"TERM", "PHRASE", "FIELD", "LPAREN", "NOT"})


def parse(query: str) -> Node:
    """Parse ``query`` into an AST; raise :class:`QuerySyntaxError` with the position on malformed input."""
    parser = _Parser(query)
    try:
        node = parser.parse()
    except RecursionError:
        node = None
    # Hundreds of nested groups or NOTs: no brand watch needs that, and the compiled matcher recurses
    # once per level at match time, where a RecursionError would take down a stream worker.
    if node is None or _depth(node) > MAX_DEPTH:
        raise QuerySyntaxError(f"the query nests too deeply (more than {MAX_DEPTH} levels)", 0, query)
    return node


MAX_DEPTH = 100


def _depth(root: Node) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:  # iterative: the tree may be deep
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, (And, Or)):
            stack.extend((c, depth + 1) for c in node.children)
        elif isinstance(node, (Not, Field)):
            stack.append((node.child, depth + 1))
        elif isinstance(node, Near):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
    return deepest


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = lex(query)
        self.i = 0

    # -- helpers -------------------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, pos: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, pos, self.query)

    def expect_operand(self, after: Token | None) -> None:
        tok = self.peek()
        if tok.kind in _OPERAND_START:
            return
        if after is None:
            where = "at the start of the query"
        else:
            where = f"after '{after.text}'" if after.kind == "LPAREN" else f"after {after.text}"
        if tok.kind == "EOF":
            found = "but the query ends"
        elif tok.kind == "RPAREN":
            found = "but found ')'" + (" (empty parentheses)" if after is not None and after.kind == "LPAREN" else "")
        else:
            found = f"but found the operator {tok.text}"
        raise self.error(f"expected {OPERAND_HINT} {where}, {found}", tok.pos)

    # -- grammar -------------------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.peek().kind == "EOF":
            raise self.error('empty query: write a word, a "phrase" or a (group)', 0)
        self.expect_operand(None)
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.error("unbalanced parentheses: this ')' has no matching '('", tok.pos)
        if tok.kind != "EOF":  # unreachable with this grammar; kept as a guard
            raise self.error(f"unexpected {tok.text!r}", tok.pos)
        return node

    def or_expr(self) -> Node:
        first = self.and_expr()
        children = [first]
        while self.peek().kind == "OR":
            op = self.advance()
            self.expect_operand(op)
            children.append(self.and_expr())
        return first if len(children) == 1 else Or(tuple(children), first.pos)

    def and_expr(self) -> Node:
        first = self.near_expr()
        children = [first]
        while True:
            tok = self.peek()
            if tok.kind == "AND":
                self.advance()
                self.expect_operand(tok)
            elif tok.kind not in _OPERAND_START:  # adjacency (implicit AND) or the end of this level
                break
            children.append(self.near_expr())
        return first if len(children) == 1 else And(tuple(children), first.pos)

    def near_expr(self) -> Node:
        left = self.unary()
        while self.peek().kind == "NEAR":
            op = self.advance()
            self.expect_operand(op)
            right = self.unary()
            for side in (left, right):
                self.check_positional(side, op)
            distance, ordered = op.value
            left = Near(left, right, distance, ordered, op.pos)
        return left

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "NOT":
            self.advance()
            self.expect_operand(tok)
            return Not(self.unary(), tok.pos)
        return self.primary()

    def primary(self) -> Node:
        tok = self.advance()
        if tok.kind == "FIELD":
            nxt = self.peek()
            if nxt.kind not in ("TERM", "PHRASE", "LPAREN"):
                hint = f"; to negate, put NOT before the scope: NOT {tok.text}…" if nxt.kind == "NOT" else ""
                raise self.error(f"expected a term, phrase or '(' after {tok.text}{hint}", nxt.pos)
            node = Field(tok.value, self.primary(), tok.pos)
            if tok.value in KEYWORD_FIELDS:
                self.check_keyword_scope(node.child, tok)
            return node
        if tok.kind == "TERM":
            word, wildcard = tok.value
            self.check_searchable(word, tok)
            return Term(word, wildcard, tok.pos)
        if tok.kind == "PHRASE":
            self.check_searchable(tok.value.replace("*", " "), tok)
            return Phrase(tok.value, tok.pos)
        if tok.kind == "LPAREN":
            self.expect_operand(tok)
            inner = self.or_expr()
            close = self.peek()
            if close.kind != "RPAREN":
                raise self.error("unbalanced parentheses: this '(' is never closed", tok.pos)
            self.advance()
            # Point later messages about the group at its '(' (a NEAR keeps pointing at its operator).
            return inner if isinstance(inner, Near) else dataclasses.replace(inner, pos=tok.pos)
        raise self.error(f"expected {OPERAND_HINT}, found {tok.text!r}", tok.pos)  # guarded by expect_operand

    # -- checks --------------------------------------------------------------------------------------
    def check_searchable(self, text: str, tok: Token) -> None:
        if not tokenize(text):
            raise self.error(f"nothing to search for in {tok.text!r}: a term needs a letter or a digit", tok.pos)

    def check_positional(self, node: Node, op: Token) -> None:
        """NEAR measures word distances, so each side must stand at positions in the text."""
        if isinstance(node, (Term, Phrase, Near)):
            return
        if isinstance(node, Or):
            for child in node.children:
                self.check_positional(child, op)
            return
        if isinstance(node, Not):
            raise self.error(
                f"NOT cannot be an operand of {op.text} (NOT binds tighter than NEAR); "
                f"write (a {op.text} b) AND NOT c",
                node.pos,
            )
        if isinstance(node, And):
            raise self.error(
                f"an AND-group cannot be an operand of {op.text}: use a \"quoted phrase\", "
                "an OR-group, or nest NEARs",
                node.pos,
            )
        if isinstance(node, Field):
            raise self.error(
                f"a field scope cannot stand inside {op.text}: scope the whole NEAR, "
                f"e.g. {node.name}:(a {op.text} b)",
                node.pos,
            )

    def check_keyword_scope(self, node: Node, scope: Token) -> None:
        """author:, source: and lang: compare whole values, where word positions mean nothing."""
        if isinstance(node, Near):
            raise self.error(
                f"NEAR cannot be used inside {scope.text} ({scope.text} matches a whole value)", node.pos
            )
        if isinstance(node, Phrase) and "*" in node.text.rstrip().rstrip("*"):
            raise self.error(
                f"inside {scope.text} a wildcard may only end the whole value, e.g. {scope.text}\"lego gr*\"",
                node.pos,
            )
        if isinstance(node, (And, Or)):
            for child in node.children:
                self.check_keyword_scope(child, scope)
        elif isinstance(node, Not):
            self.check_keyword_scope(node.child, scope)
        # A nested Field was checked for its own scope when it was built.
