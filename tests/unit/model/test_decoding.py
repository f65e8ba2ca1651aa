"""Raw values decode as encoding/json would, each refusal one field error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from podwall.model.decoding import (
    MALFORMED,
    decode_int32,
    decode_int_or_string,
    decode_string_map,
    object_rules,
)
from podwall.model.fielderrors import FieldError, invalid


@object_rules
def _names(obj: Mapping[str, Any], path: str, errs: list[FieldError], wanted: str) -> None:
    if wanted not in obj:
        errs.append(invalid(path, sorted(obj), f"has no {wanted}"))


RULES: list[tuple[str, object, list[str]]] = [
    ("an object is checked", {"a": 1}, ['p: Invalid value: ["a"]: has no b']),
    ("null is checked as an empty object", None, ["p: Invalid value: []: has no b"]),
    ("a list is not checked", [1], ["p: Invalid value: [1]: must be an object"]),
    ("a string is not an object", "x", ['p: Invalid value: "x": must be an object']),
    ("an object that passes has no error", {"b": 0}, []),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "rendered"), [c[1:] for c in RULES], ids=[c[0] for c in RULES])
def test_object_rules(raw: object, rendered: list[str]) -> None:
    assert [e.render() for e in _names(raw, "p", "b")] == rendered


INTS: list[tuple[str, object, object, list[str]]] = [
    ("null is the zero value", None, None, []),
    ("an int32 passes", 2**31 - 1, 2**31 - 1, []),
    ("a bool is not a number", True, MALFORMED, ["p: Invalid value: true: must be an integer"]),
    ("past int32", 2**31, MALFORMED,
     ["p: Invalid value: 2147483648: must be an integer between -2147483648 and 2147483647"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "value", "rendered"), [c[1:] for c in INTS], ids=[c[0] for c in INTS]
)
def test_decode_int32(raw: object, value: object, rendered: list[str]) -> None:
    errs: list[FieldError] = []
    assert decode_int32(raw, "p", errs) == value
    assert [e.render() for e in errs] == rendered


def test_int_or_string_takes_either_and_nothing_else() -> None:
    errs: list[FieldError] = []
    assert decode_int_or_string("http", "p", errs) == "http"
    assert decode_int_or_string(80, "p", errs) == 80
    assert decode_int_or_string(1.5, "p", errs) is MALFORMED
    assert [e.render() for e in errs] == ["p: Invalid value: 1.5: must be an integer or a string"]


def test_a_string_map_decodes_null_values_to_empty_strings() -> None:
    errs: list[FieldError] = []
    assert decode_string_map({"a": None, "b": "x", "c": 3}, "m", errs) == {"a": "", "b": "x"}
    assert [e.render() for e in errs] == ["m[c]: Invalid value: 3: must be a string"]
