"""Label selectors from what users write: the string syntax and metav1.LabelSelector.

Ports k8s.io/apimachinery's `labels.Parse` (lexer and parser of `app=web,tier in (a,b),!old`,
with its error messages), `labels.NewRequirement` (the checks every term passes) and
`metav1.LabelSelectorAsSelector`. Both give a `labels.LabelSelector` whose terms are sorted by
key, as upstream's selectors are; matching lives there. Errors raise SelectorError with
upstream's text, which the API server answers as a 400. Pure: no I/O here.

    <selector>    ::= <requirement> | <requirement> "," <selector>
    <requirement> ::= ["!"] KEY [ <set> | <exact> ]
    <set>         ::= ("in" | "notin") "(" VALUE ["," VALUE]... ")"
    <exact>       ::= ("=" | "==" | "!=" | ">" | "<") VALUE
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from enum import Enum, auto
from typing import Any

from podwall.model.fielderrors import FieldError, ValidationError, aggregate, invalid
from podwall.model.fieldpath import NIL, index, key
from podwall.model.goquote import GoSlice, go_quote
from podwall.model.labels import (
    METAV1_OPERATORS,
    LabelSelector,
    Operator,
    Requirement,
    go_int64,
)
from podwall.model.labelvalidation import is_qualified_name, is_valid_label_value
from podwall.model.record import Record


class SelectorError(ValidationError):
    """A label selector that does not parse or breaks a rule; the message is upstream's."""


class Token(Enum):
    END = auto()
    CLOSED_PAR = auto()
    COMMA = auto()
    DOES_NOT_EXIST = auto()
    DOUBLE_EQUALS = auto()
    EQUALS = auto()
    GREATER_THAN = auto()
    IDENTIFIER = auto()
    IN = auto()
    LESS_THAN = auto()
    NOT_EQUALS = auto()
    NOT_IN = auto()
    OPEN_PAR = auto()


_LITERALS = {
    ")": Token.CLOSED_PAR,
    ",": Token.COMMA,
    "!": Token.DOES_NOT_EXIST,
    "==": Token.DOUBLE_EQUALS,
    "=": Token.EQUALS,
    ">": Token.GREATER_THAN,
    "in": Token.IN,
    "<": Token.LESS_THAN,
    "!=": Token.NOT_EQUALS,
    "notin": Token.NOT_IN,
    "(": Token.OPEN_PAR,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_BINARY = {
    Token.IN: Operator.IN,
    Token.NOT_IN: Operator.NOT_IN,
    Token.EQUALS: Operator.EQUALS,
    Token.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
    Token.NOT_EQUALS: Operator.NOT_EQUALS,
    Token.GREATER_THAN: Operator.GREATER_THAN,
    Token.LESS_THAN: Operator.LESS_THAN,
}
_BINARY_NAMES = "in, notin, =, ==, !=, gt, lt"  # strings.Join(binaryOperators, ", ")


class Item(Record, kw_only=False):
    token: Token
    literal: str


def lex(text: str) -> list[Item]:
    """Lexer.Lex until the end: identifiers, keywords and operators, whitespace dropped.

    A NUL ends the text, as it does for Go's lexer (it reads 0 as end of string).
    """
    text = text.split("\0", 1)[0]
    items, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            items.append(Item(Token.END, ""))
            return items
        start = pos
        if text[pos] in _SPECIAL:
            pos = _special_end(text, pos)
            items.append(Item(_LITERALS[text[start:pos]], text[start:pos]))
        else:
            while pos < len(text) and text[pos] not in _SPECIAL | _WHITESPACE:
                pos += 1
            word = text[start:pos]
            items.append(Item(_LITERALS.get(word, Token.IDENTIFIER), word))


def _special_end(text: str, start: int) -> int:
    """scanSpecialSymbol: the longest run of symbols that is an operator, stopping at the first
    symbol that no longer extends one (every single symbol is an operator)."""
    end, pos = start, start
    while pos < len(text) and text[pos] in _SPECIAL:
        pos += 1
        if text[start:pos] in _LITERALS:
            end = pos
        else:
            break
    return end


class _Parser:
    """Parser: a recursive descent over the lexed items, one requirement at a time."""

    def __init__(self, text: str) -> None:
        self.items = lex(text)
        self.position = 0

    def lookahead(self, values: bool) -> Item:
        """The next item; in the Values context `in` and `notin` are identifiers."""
        return _as_value(self.items[self.position]) if values else self.items[self.position]

    def consume(self, values: bool) -> Item:
        item = self.lookahead(values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            item = self.lookahead(values=True)
            if item.token is Token.END:
                return requirements
            if item.token not in (Token.IDENTIFIER, Token.DOES_NOT_EXIST):
                raise SelectorError(
                    f"found '{item.literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                requirements.append(self.requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            after = self.consume(values=True)
            if after.token is Token.END:
                return requirements
            if after.token is not Token.COMMA:
                raise SelectorError(f"found '{after.literal}', expected: ',' or 'end of string'")
            following = self.lookahead(values=True)
            if following.token not in (Token.IDENTIFIER, Token.DOES_NOT_EXIST):
                raise SelectorError(f"found '{following.literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        name, operator = self.key_and_inferred_operator()
        if operator is not None:
            return new_requirement(name, operator, ())
        operator = self.operator()
        is_set = operator in (Operator.IN, Operator.NOT_IN)
        values = self.values() if is_set else self.exact_value()
        return new_requirement(name, operator, sorted(values))

    def key_and_inferred_operator(self) -> tuple[str, Operator | None]:
        """The key; Exists or DoesNotExist when nothing follows it, None when an operator does."""
        item = self.consume(values=True)
        operator = None
        if item.token is Token.DOES_NOT_EXIST:
            operator = Operator.DOES_NOT_EXIST
            item = self.consume(values=True)
        if item.token is not Token.IDENTIFIER:
            raise SelectorError(f"found '{item.literal}', expected: identifier")
        if errs := is_qualified_name(item.literal):
            raise SelectorError(invalid(NIL, item.literal, "; ".join(errs)).render())
        if operator is None and self.lookahead(values=True).token in (Token.END, Token.COMMA):
            operator = Operator.EXISTS
        return item.literal, operator

    def operator(self) -> Operator:
        item = self.consume(values=False)
        operator = _BINARY.get(item.token)
        if operator is None:
            raise SelectorError(f"found '{item.literal}', expected: {_BINARY_NAMES}")
        return operator

    def values(self) -> set[str]:
        """`(a,b)`: a set; `()` and empty places are the empty string."""
        item = self.consume(values=True)
        if item.token is not Token.OPEN_PAR:
            raise SelectorError(f"found '{item.literal}' expected: '('")
        first = self.lookahead(values=True)
        if first.token is Token.CLOSED_PAR:
            self.consume(values=True)
            return {""}
        if first.token not in (Token.IDENTIFIER, Token.COMMA):
            raise SelectorError(f"found '{first.literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        if self.consume(values=True).token is not Token.CLOSED_PAR:
            raise SelectorError(f"found '{first.literal}', expected: ')'")  # upstream's `lit`
        return values

    def identifiers(self) -> set[str]:
        """parseIdentifiersList: comma separated, possibly empty, identifiers up to `)`."""
        values: set[str] = set()
        while True:
            item = self.consume(values=True)
            if item.token is Token.IDENTIFIER:
                values.add(item.literal)
                following = self.lookahead(values=True)
                if following.token is Token.CLOSED_PAR:
                    return values
                if following.token is not Token.COMMA:
                    raise SelectorError(f"found '{following.literal}', expected: ',' or ')'")
            elif item.token is Token.COMMA:
                if not values:
                    values.add("")  # "(,"
                after = self.lookahead(values=True).token
                if after is Token.CLOSED_PAR:
                    values.add("")  # ",)"
                    return values
                if after is Token.COMMA:
                    self.consume(values=True)
                    values.add("")  # ",,"
            else:
                raise SelectorError(f"found '{item.literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.lookahead(values=True).token in (Token.END, Token.COMMA):
            return {""}
        item = self.consume(values=True)
        if item.token is not Token.IDENTIFIER:
            raise SelectorError(f"found '{item.literal}', expected: identifier")
        return {item.literal}


def _as_value(item: Item) -> Item:
    if item.token in (Token.IN, Token.NOT_IN):
        return Item(Token.IDENTIFIER, item.literal)
    return item


def parse(text: str) -> LabelSelector:
    """labels.Parse: the terms sorted by key; "" is the empty selector (everything)."""
    requirements = _Parser(text).parse()
    return LabelSelector(match_expressions=tuple(sorted(requirements, key=lambda r: r.key)))


def new_requirement(name: str, operator: Operator, values: Sequence[str]) -> Requirement:
    """labels.NewRequirement without a path: the key, the number of values, each value."""
    errs: list[FieldError] = []
    if msgs := is_qualified_name(name):
        errs.append(invalid("key", name, "; ".join(msgs)))
    errs += _count_errors(operator, values)
    for i, value in enumerate(values):
        if msgs := is_valid_label_value(value):
            errs.append(invalid(key(index("values", i), name), value, "; ".join(msgs)))
    if errs:
        raise SelectorError(aggregate([e.render() for e in errs]))
    return Requirement(key=name, operator=operator, values=frozenset(values))


def _count_errors(operator: Operator, values: Sequence[str]) -> list[FieldError]:
    """NewRequirement's switch on the operator: how many values it takes, and which."""
    as_go = GoSlice("string", tuple(values))
    detail = ""
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        detail = "for 'in', 'notin' operators, values set can't be empty"
    elif operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
        if len(values) != 1:
            detail = "exact-match compatibility requires one single value"
    elif operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        detail = "values set must be empty for exists and does not exist"
    elif operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
        return _comparison_errors(as_go, values)
    return [invalid("values", as_go, detail)] if detail else []


def _comparison_errors(as_go: GoSlice, values: Sequence[str]) -> list[FieldError]:
    errs = []
    if len(values) != 1:
        detail = "for 'Gt', 'Lt' operators, exactly one value is required"
        errs.append(invalid("values", as_go, detail))
    for i, value in enumerate(values):
        if go_int64(value) is None:
            detail = "for 'Gt', 'Lt' operators, the value must be an integer"
            errs.append(invalid(index("values", i), value, detail))
    return errs


def as_selector(raw: Mapping[str, Any] | None) -> LabelSelector | None:
    """metav1.LabelSelectorAsSelector: None (upstream's Nothing) for a null selector, the
    empty selector for `{}`; SelectorError for an operator or a term that is not valid."""
    if raw is None:
        return None
    terms: list[Requirement] = []
    for name, value in (raw.get("matchLabels") or {}).items():
        text = "" if value is None else str(value)  # JSON null decodes to "" in Go
        terms.append(new_requirement(str(name), Operator.EQUALS, [text]))
    for expr in raw.get("matchExpressions") or ():
        # JSON null decodes to the zero LabelSelectorRequirement in Go: no key, no operator.
        terms.append(_expression(expr if isinstance(expr, Mapping) else {}))
    return LabelSelector(match_expressions=tuple(sorted(terms, key=lambda r: r.key)))


def _expression(expr: Mapping[str, Any]) -> Requirement:
    name = str(expr.get("operator") or "")
    if name not in {str(op) for op in METAV1_OPERATORS}:
        raise SelectorError(f"{go_quote(name)} is not a valid label selector operator")
    values: Collection[Any] = expr.get("values") or ()
    return new_requirement(str(expr.get("key") or ""), Operator(name), [str(v) for v in values])
