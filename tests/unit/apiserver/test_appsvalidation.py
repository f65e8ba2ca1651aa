"""The apps/v1 checks' shared parts; each kind's own cases are in test_admission (through
`admission.validate`, as the API server runs them)."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.apiserver.appsvalidation import nonnegative, selector_matches_template

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param({"matchLabels": {"app": "web"}}, [], id="picks-the-template"),
        pytest.param({}, [], id="empty-selector-left-to-its-own-check"),
        pytest.param(
            {"matchLabels": {"app": "db"}},
            ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web", '
             '"tier":"front"}: `selector` does not match template `labels`'],
            id="does-not-pick-the-template",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "app", "operator": "Near"}]},
            ['spec.selector: Invalid value: {"matchExpressions": [{"key": "app", '
             '"operator": "Near"}]}: invalid label selector'],
            id="does-not-parse",
        ),
    ],
)  # fmt: skip
def test_selector_matches_template(selector: dict[str, Any], expected: list[str]) -> None:
    assert [e.render() for e in selector_matches_template(selector, LABELS)] == expected


@pytest.mark.parametrize(
    ("value", "count"),
    [
        pytest.param(None, 0, id="unset"),
        pytest.param(0, 0, id="zero"),
        pytest.param(3, 0, id="positive"),
        pytest.param(-1, 1, id="negative"),
        pytest.param("-1", 0, id="not-a-number-is-the-type-checks-job"),
    ],
)
def test_nonnegative(value: object, count: int) -> None:
    errs = nonnegative(value, "spec.replicas")
    assert len(errs) == count
    assert all(e.render().endswith("must be greater than or equal to 0") for e in errs)
