"""Label and field selectors as the query parameters spell them."""

from __future__ import annotations

import pytest

from podwall.apiserver.errors import ApiError
from podwall.apiserver.selectors import (
    field_selector_predicate,
    format_label_selector,
    label_selector_predicate,
)

LABELS = {"app": "web", "tier": "front"}
CASES = [
    ("equality", "app=web", True),
    ("double equals", "app==web", True),
    ("inequality of a present key", "app!=web", False),
    ("inequality of a missing key matches", "zone!=a", True),
    ("set membership", "tier in (front, back)", True),
    ("set exclusion", "tier notin (front)", False),
    ("set exclusion of a missing key matches", "zone notin (a)", True),
    ("existence", "tier", True),
    ("absence", "!tier", False),
    ("every term must hold", "app=web,tier in (back)", False),
    ("commas inside parentheses do not split", "app in (x,web),tier", True),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_label_selectors(text: str, expected: bool) -> None:
    predicate = label_selector_predicate(text)
    assert predicate is not None
    assert predicate({"metadata": {"labels": LABELS}}) is expected


def test_an_empty_label_selector_is_no_filter() -> None:
    assert label_selector_predicate("") is None


def test_a_bad_label_key_is_bad_request() -> None:
    with pytest.raises(ApiError, match="invalid label key"):
        label_selector_predicate("a b=c")


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
