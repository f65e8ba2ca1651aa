"""Label and field selectors, as the `labelSelector` and `fieldSelector` query parameters say.

Label selectors are model.labelselectors' (labels.Parse, metav1.LabelSelectorAsSelector) and
match as model.labels says; this module applies them to stored objects and answers their
errors as the API server does: 400 BadRequest with upstream's message. Field selectors are the
API server's own: fields.ParseSelector (`path=v`, `path==v`, `path!=v`; a comma or equals sign
in a value escaped with a backslash) over the fields each kind supports upstream. Also the
printers' rendering of selectors and labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from podwall.apiserver.errors import ApiError, bad_request, internal
from podwall.model.labelselectors import SelectorError, as_selector, parse

Predicate = Callable[[Mapping[str, Any]], bool]
T = TypeVar("T")


def _parsed(parser: Callable[[str], T], text: str) -> T:
    """`parser(text)`; a selector that does not parse is the API server's 400 BadRequest."""
    try:
        return parser(text)
    except SelectorError as exc:
        raise bad_request(str(exc)) from None


def label_selector_predicate(text: str | None) -> Predicate | None:
    """labels.Parse of a `labelSelector` parameter; 400 BadRequest when it does not parse."""
    if not text:
        return None
    selector = _parsed(parse, text)

    def matches(obj: Mapping[str, Any]) -> bool:
        return selector.matches((obj.get("metadata") or {}).get("labels") or {})

    return matches


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: `app=backend`, `<none>` if empty, `<error>` if invalid."""
    try:
        chosen = as_selector(selector)
    except SelectorError:
        return "<error>"
    return (chosen.string() if chosen is not None else "") or "<none>"


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """LabelSelectorAsSelector(...).String(), as a Scale's `status.selector`; 500 if invalid."""
    try:
        chosen = as_selector(selector)
    except SelectorError as exc:
        raise internal(str(exc)) from None
    return chosen.string() if chosen is not None else ""


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
    "replicationcontrollers": (*_COMMON_FIELDS, "status.replicas"),
}  # fmt: skip


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    if path == "source":
        return str(((obj.get("source") or {}).get("component")) or "")
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector_predicate(resource_key: str, text: str | None) -> Predicate | None:
    """fields.ParseSelector, then the kind's supported field labels; 400 BadRequest otherwise."""
    if not text:
        return None
    terms = _parsed(parse_field_selector, text)
    supported = _FIELDS.get(resource_key, _COMMON_FIELDS)
    for path, _, _ in terms:
        if path not in supported:
            raise bad_request(f"field label not supported: {path}")

    def matches(obj: Mapping[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negated for path, negated, value in terms)

    return matches


FieldTerm = tuple[str, bool, str]  # (field path, negated, value)
_FIELD_OPERATORS = ("!=", "==", "=")  # "==" before "=", so no "=" is left on the value


def parse_field_selector(text: str) -> list[FieldTerm]:
    """fields.ParseSelector: terms in sorted order; SelectorError with upstream's message."""
    terms = []
    for part in sorted(_split_field_terms(text)):
        if not part:
            continue
        split = _split_field_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        path, operator, value = split
        terms.append((path, operator == "!=", _unescape(value)))
    return terms


def _split_field_terms(text: str) -> list[str]:
    """splitTerms: split on commas, except a backslash-escaped one (kept with its backslash)."""
    terms, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    return [*terms, text[start:]]


def _split_field_term(term: str) -> tuple[str, str, str] | None:
    """splitTerm: at the first place where an operator starts; no escaping on the left."""
    for i in range(len(term)):
        for operator in _FIELD_OPERATORS:
            if term.startswith(operator, i):
                return term[:i], operator, term[i + len(operator) :]
    return None


def _unescape(value: str) -> str:
    """UnescapeValue: a backslash makes the next backslash, comma or equals sign plain; a bare
    comma or equals sign, or any other escape, is an error."""
    out, escaped = [], False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorError(
                f"invalid field selector: unescapedRune character in value: {ord(ch)}"
            )
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def combine(*predicates: Predicate | None) -> Predicate | None:
    active = [p for p in predicates if p is not None]
    if not active:
        return None
    return lambda obj: all(p(obj) for p in active)


__all__ = [
    "ApiError",
    "Predicate",
    "combine",
    "field_selector_predicate",
    "format_label_selector",
    "format_labels",
    "label_selector_predicate",
    "parse_field_selector",
    "selector_string",
]
