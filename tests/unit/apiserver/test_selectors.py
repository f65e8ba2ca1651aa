"""Label and field selectors as the query parameters spell them."""

from __future__ import annotations

import pytest

from podwall.apiserver.errors import ApiError
from podwall.apiserver.selectors import (
    field_selector_predicate,
    format_label_selector,
    label_selector_predicate,
    parse_field_selector,
    selector_string,
)
from podwall.model.labelselectors import SelectorError

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(("text", "expected"), [("app=web", True), ("tier notin (front)", False)])
def test_label_selectors_filter_by_the_object_s_labels(text: str, expected: bool) -> None:
    predicate = label_selector_predicate(text)
    assert predicate is not None
    assert predicate({"metadata": {"labels": LABELS}}) is expected
    assert predicate({"metadata": {}}) is (text.startswith("tier notin"))


def test_an_empty_label_selector_is_no_filter() -> None:
    assert label_selector_predicate("") is None


def test_a_bad_label_selector_is_bad_request_in_upstream_s_words() -> None:
    with pytest.raises(ApiError) as error:
        label_selector_predicate("a b=c")
    assert (error.value.code, error.value.reason) == (400, "BadRequest")
    assert error.value.message == (
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    )


POD = {
    "metadata": {"name": "p", "namespace": "default"},
    "spec": {"nodeName": "node-1"},
    "status": {"phase": "Running"},
}
FIELD_CASES = [
    ("name", "metadata.name=p", True),
    ("namespace", "metadata.namespace=default", True),
    ("node name", "spec.nodeName=node-1", True),
    ("phase", "status.phase!=Running", False),
    ("several terms", "metadata.name=p,status.phase=Running", True),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES]
)
def test_pod_field_selectors(text: str, expected: bool) -> None:
    predicate = field_selector_predicate("pods", text)
    assert predicate is not None
    assert predicate(POD) is expected


def test_event_field_selectors_as_describe_sends_them() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "uid": "u1"},
    }
    text = "involvedObject.name=p,involvedObject.namespace=default,involvedObject.uid=u1"
    predicate = field_selector_predicate("events", text)
    assert predicate is not None
    assert predicate(event)


def test_an_unsupported_field_is_bad_request() -> None:
    with pytest.raises(ApiError, match=r"field label not supported: spec\.nodeName"):
        field_selector_predicate("services", "spec.nodeName=x")


def test_format_label_selector_with_every_operator() -> None:
    selector = {
        "matchExpressions": [
            {"key": "a", "operator": "NotIn", "values": ["y", "x"]},
            {"key": "b", "operator": "DoesNotExist"},
        ]
    }
    assert format_label_selector(selector) == "a notin (x,y),!b"


def test_format_label_selector_of_an_invalid_selector_is_error() -> None:
    bad = {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}
    assert format_label_selector(bad) == "<error>"
    assert format_label_selector(None) == "<none>"
    with pytest.raises(ApiError, match="not a valid label selector operator"):
        selector_string(bad)


FIELD_TERMS = [
    ("terms come sorted", "b=1,a!=2", [("a", True, "2"), ("b", False, "1")]),
    ("== is equality, its = not left on the value", "a==1", [("a", False, "1")]),
    ("escaped comma and equals sign in a value", "a=x\\,y\\=z", [("a", False, "x,y=z")]),
    ("an escaped backslash", "a=x\\\\", [("a", False, "x\\")]),
    ("empty terms are skipped", ",a=1,", [("a", False, "1")]),
    ("no whitespace is trimmed", "a = 1", [("a ", False, " 1")]),
    ("an empty value", "a=", [("a", False, "")]),
]


@pytest.mark.parametrize(
    ("text", "terms"), [c[1:] for c in FIELD_TERMS], ids=[c[0] for c in FIELD_TERMS]
)
def test_parse_field_selector(text: str, terms: list[tuple[str, bool, str]]) -> None:
    assert parse_field_selector(text) == terms


FIELD_ERRORS = [
    ("a term without an operator", "a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'"),
    ("an unescaped equals sign in a value", "a=b=c",
     "invalid field selector: unescapedRune character in value: 61"),
    ("an unknown escape", "a=\\x", "invalid field selector: invalid escape sequence: \\x"),
    ("a trailing backslash", "a=x\\", "invalid field selector: invalid escape sequence: \\"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in FIELD_ERRORS], ids=[c[0] for c in FIELD_ERRORS]
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as error:
        parse_field_selector(text)
    assert str(error.value) == message
    with pytest.raises(ApiError) as answered:
        field_selector_predicate("pods", text)
    assert (answered.value.code, answered.value.message) == (400, message)
