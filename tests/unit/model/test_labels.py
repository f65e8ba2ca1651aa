"""Label selectors match as apimachinery's `labels` package does and render as kubectl does."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.labels import Labels, LabelSelector, Operator
from podwall.model.rawobject import selector

WEB = {"app": "web", "tier": "front"}

MATCHES: list[tuple[str, dict[str, Any] | None, dict[str, str], bool]] = [
    ("the empty selector matches everything", {}, WEB, True),
    ("an absent selector matches everything", None, {}, True),
    ("the empty selector matches a pod without labels", {}, {}, True),
    ("matchLabels matches an equal value", {"matchLabels": {"app": "web"}}, WEB, True),
    ("matchLabels fails on another value", {"matchLabels": {"app": "db"}}, WEB, False),
    ("matchLabels fails when the key is absent", {"matchLabels": {"team": "a"}}, WEB, False),
    (
        "every matchLabels entry must match",
        {"matchLabels": {"app": "web", "tier": "back"}},
        WEB,
        False,
    ),
    (
        "In matches one of the values",
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]},
        WEB,
        True,
    ),
    (
        "In fails when the key is absent",
        {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]},
        WEB,
        False,
    ),
    (
        "NotIn fails on a listed value",
        {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
        WEB,
        False,
    ),
    (
        "NotIn matches another value",
        {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]},
        WEB,
        True,
    ),
    (
        "NotIn matches when the key is absent",
        {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]},
        WEB,
        True,
    ),
    (
        "Exists matches any value of the key",
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        WEB,
        True,
    ),
    (
        "Exists fails when the key is absent",
        {"matchExpressions": [{"key": "team", "operator": "Exists"}]},
        WEB,
        False,
    ),
    (
        "DoesNotExist matches when the key is absent",
        {"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]},
        WEB,
        True,
    ),
    (
        "DoesNotExist fails when the key is there, whatever its value",
        {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
        WEB,
        False,
    ),
    (
        "matchLabels and matchExpressions must all match",
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}],
        },
        WEB,
        False,
    ),
    (
        "an empty string value is a value",
        {"matchLabels": {"canary": ""}},
        {"canary": ""},
        True,
    ),
    (
        "a null matchLabels value is the empty string",
        {"matchLabels": {"canary": None}},
        {"canary": ""},
        True,
    ),
    (
        "an empty string value does not match an absent key",
        {"matchLabels": {"canary": ""}},
        {},
        False,
    ),
]


@pytest.mark.parametrize(
    ("raw", "labels", "expected"), [c[1:] for c in MATCHES], ids=[c[0] for c in MATCHES]
)
def test_selector_matches(
    raw: dict[str, Any] | None, labels: dict[str, str], expected: bool
) -> None:
    assert selector(raw).matches(Labels(labels)) is expected


RENDERED = [
    ("the empty selector renders as <none>", {}, "<none>"),
    ("matchLabels render as key=value", {"matchLabels": {"app": "backend"}}, "app=backend"),
    (
        "several matchLabels are sorted and comma separated",
        {"matchLabels": {"tier": "db", "app": "backend"}},
        "app=backend,tier=db",
    ),
    (
        "In and NotIn render their sorted values",
        {
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
            ]
        },
        "env in (dev,prod),zone notin (b)",
    ),
    (
        "Exists renders the key and DoesNotExist a negated key",
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "canary", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        },
        "app=web,canary,!legacy",
    ),
]


@pytest.mark.parametrize(("raw", "text"), [c[1:] for c in RENDERED], ids=[c[0] for c in RENDERED])
def test_selector_renders_like_kubectl(raw: dict[str, Any], text: str) -> None:
    assert selector(raw).render() == text


def test_failing_lists_the_terms_that_do_not_match() -> None:
    sel = selector(
        {
            "matchLabels": {"app": "web", "tier": "back"},
            "matchExpressions": [{"key": "team", "operator": "Exists"}],
        }
    )
    assert sel.failing(Labels(WEB)) == ["tier=back", "team"]


def test_equal_label_sets_are_one_identity() -> None:
    assert Labels({"a": "1", "b": "2"}) == Labels({"b": "2", "a": "1"})
    assert hash(Labels({"a": "1", "b": "2"})) == hash(Labels({"b": "2", "a": "1"}))
    assert Labels({"a": "1"}).render() == "{a: 1}"


def test_a_metav1_selector_knows_four_operators_only() -> None:
    assert Operator.of_metav1("NotIn") is Operator.NOT_IN
    with pytest.raises(ValueError, match="not a metav1"):
        Operator.of_metav1("=")
    with pytest.raises(ValueError, match="not a metav1"):
        selector({"matchExpressions": [{"key": "a", "operator": "!=", "values": ["1"]}]})


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        pytest.param({}, {"app": "web"}, True, id="empty-matches-all"),
        pytest.param({"app": "web"}, {"app": "web", "tier": "a"}, True, id="subset"),
        pytest.param({"app": "web"}, {"app": "db"}, False, id="other-value"),
        pytest.param({"app": "web"}, {}, False, id="absent-key"),
    ],
)
def test_a_selector_from_a_set_is_equality_on_each_key(
    selector: dict[str, str], labels: dict[str, str], expected: bool
) -> None:
    assert LabelSelector.from_set(selector).matches(labels) is expected
