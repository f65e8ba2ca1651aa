"""Label and field selectors, as the `labelSelector` and `fieldSelector` query parameters say.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by
commas outside parentheses. Field selectors: `path=v`, `path==v`, `path!=v` over the fields each
kind supports upstream. Also the printers' rendering of a metav1.LabelSelector.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from podwall.apiserver.errors import ApiError, bad_request

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present

    def __str__(self) -> str:
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        return self.key if self.op == "exists" else f"!{self.key}"


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


_SET_TERM = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_KEY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$")


def parse_label_selector(text: str) -> list[Requirement]:
    """labels.Parse; raises a 400 ApiError on a malformed selector."""
    requirements = []
    for term in _split_terms(text):
        match = _SET_TERM.match(term)
        if match:
            values = tuple(v.strip() for v in match.group(3).split(",") if v.strip())
            requirements.append(Requirement(match.group(1), match.group(2), values))
            continue
        for op in ("!=", "==", "="):
            if op in term:
                key, _, value = term.partition(op)
                key, value = key.strip(), value.strip()
                requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
                break
        else:
            if term.startswith("!"):
                requirements.append(Requirement(term[1:].strip(), "!"))
            else:
                requirements.append(Requirement(term, "exists"))
    for req in requirements:
        if not _KEY.match(req.key):
            raise bad_request(f"unable to parse requirement: invalid label key {req.key!r}")
    return requirements


def label_selector_predicate(text: str | None) -> Predicate | None:
    if not text:
        return None
    requirements = parse_label_selector(text)

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in requirements)

    return matches


def selector_from_label_selector(selector: Mapping[str, Any] | None) -> list[Requirement]:
    """metav1.LabelSelectorAsSelector: matchLabels and matchExpressions, sorted by key."""
    requirements = [
        Requirement(k, "=", (str(v),))
        for k, v in ((selector or {}).get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in (selector or {}).get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")), "exists")
        requirements.append(Requirement(str(expr.get("key")), op, tuple(expr.get("values") or ())))
    return sorted(requirements, key=lambda r: r.key)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: `app=backend`, `<none>` for an empty selector."""
    text = ",".join(str(r) for r in selector_from_label_selector(selector))
    return text or "<none>"


def matches_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a metav1.LabelSelector (empty: everything) selects `labels`."""
    return all(r.matches(labels) for r in selector_from_label_selector(selector))


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    text = ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))
    return text or "<none>"


# Field selectors: the fields each kind's `GetAttrs` exposes upstream.
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        *_COMMON_FIELDS, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        *_COMMON_FIELDS, "involvedObject.kind", "involvedObject.namespace",
        "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
        "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type",
    ),
    "namespaces": (*_COMMON_FIELDS, "status.phase"),
    "replicasets.apps": (*_COMMON_FIELDS, "status.replicas"),
}  # fmt: skip


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    if path == "source":
        return str(((obj.get("source") or {}).get("component")) or "")
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        if path == "metadata.namespace":
            return ""
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector_predicate(resource_key: str, text: str | None) -> Predicate | None:
    """fields.ParseSelector plus the kind's supported field labels (400 otherwise)."""
    if not text:
        return None
    supported = _FIELDS.get(resource_key, _COMMON_FIELDS)
    terms: list[tuple[str, bool, str]] = []
    for term in _split_terms(text):
        for op in ("!=", "==", "="):
            if op in term:
                path, _, value = term.partition(op)
                terms.append((path.strip(), op == "!=", value.strip()))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
    for path, _, _ in terms:
        if path not in supported:
            raise bad_request(f"field label not supported: {path}")

    def matches(obj: Mapping[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negated for path, negated, value in terms)

    return matches


def combine(*predicates: Predicate | None) -> Predicate | None:
    active = [p for p in predicates if p is not None]
    if not active:
        return None
    return lambda obj: all(p(obj) for p in active)


__all__ = [
    "ApiError",
    "Predicate",
    "Requirement",
    "combine",
    "field_selector_predicate",
    "format_label_selector",
    "format_labels",
    "label_selector_predicate",
    "matches_label_selector",
    "parse_label_selector",
    "selector_from_label_selector",
]
