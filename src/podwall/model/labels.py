"""Labels and label selectors, with the matching rules of apimachinery's `labels` package.

Pure: no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum

from podwall.model.record import Record


class Labels(Mapping[str, str]):
    """An immutable, hashable label set; equal label sets are one identity."""

    __slots__ = ("_data", "_hash", "_key")

    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        self._data: dict[str, str] = dict(data or {})
        self._key: tuple[tuple[str, str], ...] = tuple(sorted(self._data.items()))
        self._hash = hash(self._key)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._key == other._key
        return isinstance(other, Mapping) and dict(other) == self._data

    def __repr__(self) -> str:
        return f"Labels({self._data!r})"

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        return self._key

    def merged(self, extra: Mapping[str, str]) -> Labels:
        return Labels({**self._data, **extra})

    def render(self) -> str:
        """`{a: 1, b: 2}` as the explanations print label sets."""
        return "{" + ", ".join(f"{k}: {v}" for k, v in self._key) + "}"


class Operator(StrEnum):
    """selection.Operator: metav1.LabelSelector's four, then those only the string syntax has."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"

    @classmethod
    def of_metav1(cls, name: str) -> Operator:
        """A metav1.LabelSelectorOperator; ValueError for anything else."""
        operator = cls(name)
        if operator not in METAV1_OPERATORS:
            raise ValueError(f"{name!r} is not a metav1 label selector operator")
        return operator


_DECIMAL = re.compile("[+-]?[0-9]+")
METAV1_OPERATORS = frozenset(
    {Operator.IN, Operator.NOT_IN, Operator.EXISTS, Operator.DOES_NOT_EXIST}
)
_INFIX = {
    Operator.EQUALS: "=",
    Operator.DOUBLE_EQUALS: "==",
    Operator.NOT_EQUALS: "!=",
    Operator.GREATER_THAN: ">",
    Operator.LESS_THAN: "<",
    Operator.IN: " in ",
    Operator.NOT_IN: " notin ",
}


class Requirement(Record):
    """One term of a selector: a `matchExpressions` entry, or one of the string syntax."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """labels.Requirement.Matches: NotIn, != and DoesNotExist match an absent key too."""
        # `is` chains, metav1's four first: the engine calls this in its innermost loops.
        op = self.operator
        if op is Operator.IN:
            return labels.get(self.key) in self.values
        if op is Operator.NOT_IN:
            value = labels.get(self.key)
            return value is None or value not in self.values
        if op is Operator.EXISTS:
            return self.key in labels
        if op is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        return self._matches_string_syntax(labels.get(self.key))

    def _matches_string_syntax(self, value: str | None) -> bool:
        """=, == and != as In and NotIn of one value; Gt and Lt compare int64s (a side that is
        not one matches nothing)."""
        op = self.operator
        if op is Operator.NOT_EQUALS:
            return value is None or value not in self.values
        if op is Operator.EQUALS or op is Operator.DOUBLE_EQUALS:
            return value in self.values
        have, bound = go_int64(value or ""), go_int64(min(self.values, default=""))
        if have is None or bound is None:
            return False
        return have > bound if op is Operator.GREATER_THAN else have < bound

    def render(self) -> str:
        """labels.Requirement.String(): `k in (a,b)`, `k!=v`, `k`, `!k`."""
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        values = ",".join(sorted(self.values))
        if self.operator in (Operator.IN, Operator.NOT_IN):
            values = f"({values})"
        return f"{self.key}{_INFIX[self.operator]}{values}"


def go_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64); None where it fails."""
    if not _DECIMAL.fullmatch(text) or not -(2**63) <= int(text) < 2**63:
        return None
    return int(text)


class LabelSelector(Record, cache_hash=True):  # a key of the engine's selector cache
    """A label selector; the empty selector matches every label set."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @staticmethod
    def from_set(labels: Mapping[str, str]) -> LabelSelector:
        """labels.SelectorFromSet: each key equal to its value (a Service's or a template's)."""
        return LabelSelector(match_labels=tuple(labels.items()))

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.match_expressions)

    def failing(self, labels: Mapping[str, str]) -> list[str]:
        """The terms of this selector that `labels` does not satisfy, rendered."""
        out = [f"{k}={v}" for k, v in self.match_labels if labels.get(k) != v]
        out += [r.render() for r in self.match_expressions if not r.matches(labels)]
        return out

    def render(self) -> str:
        """Like kubectl's POD-SELECTOR column: `app=backend,tier in (a,b)`; `<none>` if empty."""
        if self.is_empty:
            return "<none>"
        terms = [f"{k}={v}" for k, v in self.match_labels]
        terms += [r.render() for r in self.match_expressions]
        return ",".join(terms)

    def requirements(self) -> tuple[Requirement, ...]:
        """Every term as a Requirement, sorted by key (stably), as labels.Selector holds them."""
        equal = [
            Requirement(key=k, operator=Operator.EQUALS, values=frozenset({v}))
            for k, v in self.match_labels
        ]
        return tuple(sorted([*equal, *self.match_expressions], key=lambda r: r.key))

    def string(self) -> str:
        """labels.Selector.String(): the terms sorted by key, comma separated; "" if empty."""
        return ",".join(r.render() for r in self.requirements())

    def render_braces(self) -> str:
        """`{team: a}` as explanations print selectors; `{}` matches everything."""
        terms = [f"{k}: {v}" for k, v in self.match_labels]
        terms += [r.render() for r in self.match_expressions]
        return "{" + ", ".join(terms) + "}"


EVERYTHING = LabelSelector()
