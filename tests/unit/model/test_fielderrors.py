"""Field errors print as apimachinery's field.Error does, and aggregate as utilerrors does."""

from __future__ import annotations

import pytest

from podwall.model.fielderrors import ErrorType, FieldError, aggregate, not_supported
from podwall.model.goquote import GoSlice


@pytest.mark.parametrize(
    ("error", "rendered"),
    [
        (
            FieldError(path="a.b", type=ErrorType.REQUIRED),
            "a.b: Required value",
        ),
        (
            FieldError(path="a", type=ErrorType.FORBIDDEN, detail="no"),
            "a: Forbidden: no",
        ),
        (
            FieldError(path="a", type=ErrorType.DUPLICATE, value="x"),
            'a: Duplicate value: "x"',
        ),
        (
            FieldError(path="a", type=ErrorType.TOO_LONG, value="xxx", detail="too"),
            "a: Too long: too",
        ),
        (
            FieldError(
                path="a", type=ErrorType.TOO_MANY, value=3, detail="must have at most 2 items"
            ),
            "a: Too many: 3: must have at most 2 items",
        ),
        (
            FieldError(path="a", type=ErrorType.INVALID, value=None, detail="d"),
            "a: Invalid value: null: d",
        ),
        (
            FieldError(path="a", type=ErrorType.INVALID, value='q"\n\x01é\u00a0', detail="d"),
            r'a: Invalid value: "q\"\n\x01é\u00a0": d',
        ),
    ],
    ids=[
        "Required prints no value and no empty detail",
        "Forbidden prints its detail but no value",
        "Duplicate prints its quoted value",
        "Too long hides the value",
        "Too many prints the count",
        "a nil value prints as null",
        "strings are quoted as Go's strconv.Quote does",
    ],
)
def test_render_matches_field_error(error: FieldError, rendered: str) -> None:
    assert error.render() == rendered


AGGREGATES = [
    ("one message stands alone", ["a: x"], "a: x"),
    ("several are bracketed and joined", ["a: x", "b: y"], "[a: x, b: y]"),
    ("repeats are dropped", ["a: x", "a: x"], "a: x"),
]


@pytest.mark.parametrize(
    ("messages", "text"), [c[1:] for c in AGGREGATES], ids=[c[0] for c in AGGREGATES]
)
def test_aggregate(messages: list[str], text: str) -> None:
    assert aggregate(messages) == text


def test_not_supported_lists_the_supported_values_quoted() -> None:
    error = not_supported("spec.policyTypes[0]", "Sideways", ("Ingress", "Egress"))
    assert error.render() == (
        'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'
    )


def test_a_go_slice_prints_as_percent_hash_v() -> None:
    error = FieldError(path="p", type=ErrorType.INVALID, value=GoSlice("T", ("a", "b")), detail="d")
    assert error.render() == 'p: Invalid value: []T{"a", "b"}: d'
