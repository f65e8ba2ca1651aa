"""Decoded JSON values sorted into kinds, and encoding/json's word for each."""

from __future__ import annotations

import pytest

from podwall.model.jsonkinds import JsonKind, go_json_type, json_kind

CASES = [
    pytest.param(None, JsonKind.NULL, "null", id="null"),
    pytest.param(True, JsonKind.BOOL, "bool", id="bool-not-int"),
    pytest.param(7, JsonKind.INT, "number", id="int"),
    pytest.param(7.5, JsonKind.FLOAT, "number", id="float"),
    pytest.param("x", JsonKind.STRING, "string", id="string"),
    pytest.param([1], JsonKind.ARRAY, "array", id="array"),
    pytest.param({"a": 1}, JsonKind.OBJECT, "object", id="object"),
    pytest.param(b"x", JsonKind.OTHER, "null", id="not-json"),
]


@pytest.mark.parametrize(("value", "kind", "word"), CASES)
def test_each_decoded_value_has_one_kind(value: object, kind: JsonKind, word: str) -> None:
    assert json_kind(value) is kind


@pytest.mark.parametrize(("value", "kind", "word"), CASES)
def test_go_names_a_kind_as_encoding_json_does(value: object, kind: JsonKind, word: str) -> None:
    assert go_json_type(value) == word
