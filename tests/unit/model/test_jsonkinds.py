"""Decoded JSON values sorted into kinds, and the words Go and kube-openapi have for each."""

from __future__ import annotations

import pytest

from podwall.model.jsonkinds import JsonKind, go_json_type, go_kind, json_kind, openapi_type

# value, its kind, encoding/json's word, reflect's kind, kube-openapi's type
CASES = [
    pytest.param(None, JsonKind.NULL, "null", "nil", "null", id="null"),
    pytest.param(True, JsonKind.BOOL, "bool", "bool", "boolean", id="bool-not-int"),
    pytest.param(7, JsonKind.INT, "number", "int64", "integer", id="int"),
    pytest.param(7.5, JsonKind.FLOAT, "number", "float64", "number", id="float"),
    pytest.param(7.0, JsonKind.FLOAT, "number", "float64", "integer", id="whole-float"),
    pytest.param("x", JsonKind.STRING, "string", "string", "string", id="string"),
    pytest.param([1], JsonKind.ARRAY, "array", "list", "array", id="array"),
    pytest.param({"a": 1}, JsonKind.OBJECT, "object", "map", "object", id="object"),
    pytest.param(b"x", JsonKind.OTHER, "null", "nil", "bytes", id="not-json"),
]
FIELDS = ("value", "kind", "go_json", "reflect", "openapi")


@pytest.mark.parametrize(FIELDS, CASES)
def test_each_decoded_value_has_one_kind(
    value: object, kind: JsonKind, go_json: str, reflect: str, openapi: str
) -> None:
    assert json_kind(value) is kind


@pytest.mark.parametrize(FIELDS, CASES)
def test_each_vocabulary_names_the_kind_as_its_source_does(
    value: object, kind: JsonKind, go_json: str, reflect: str, openapi: str
) -> None:
    assert (go_json_type(value), go_kind(value), openapi_type(value)) == (go_json, reflect, openapi)
