"""Labels and label selectors, with the matching rules of apimachinery's `labels` package.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


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
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One `matchExpressions` entry."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        # apimachinery: NotIn and DoesNotExist also match when the key is absent.
        if self.operator is Operator.IN:
            return labels.get(self.key) in self.values
        if self.operator is Operator.NOT_IN:
            value = labels.get(self.key)
            return value is None or value not in self.values
        if self.operator is Operator.EXISTS:
            return self.key in labels
        return self.key not in labels

    def render(self) -> str:
        values = ",".join(sorted(self.values))
        if self.operator is Operator.IN:
            return f"{self.key} in ({values})"
        if self.operator is Operator.NOT_IN:
            return f"{self.key} notin ({values})"
        if self.operator is Operator.EXISTS:
            return self.key
        return f"!{self.key}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelector:
    """A label selector; the empty selector matches every label set."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

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

    def render_braces(self) -> str:
        """`{team: a}` as explanations print selectors; `{}` matches everything."""
        terms = [f"{k}: {v}" for k, v in self.match_labels]
        terms += [r.render() for r in self.match_expressions]
        return "{" + ", ".join(terms) + "}"


EVERYTHING = LabelSelector()
