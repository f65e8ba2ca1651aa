"""A custom resource against its structural schema: apiextensions' errors, word for word."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.openapischema import StructuralSchema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["tier"],
            "properties": {
                "tier": {"type": "string", "enum": ["Admin", "Baseline"]},
                "priority": {"type": "integer", "minimum": 0, "maximum": 1000},
                "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
                "one": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                },
                "list": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "set",
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "range": {
                    "type": "object",
                    "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
                    "x-kubernetes-validations": [
                        {"rule": "self.start < self.end", "message": "Start must be less"}
                    ],
                },
            },
        },
        "metadata": {"type": "object"},
    },
}
VALIDATOR = StructuralSchema(
    schema=SCHEMA, cel={"self.start < self.end": lambda v: v["start"] < v["end"]}
)
BLOCKED = (
    '<nil>: Invalid value: "null": some validation rules were not checked because the object '
    "was invalid; correct the existing errors to complete validation"
)


def _errors(spec: dict[str, Any]) -> list[str]:
    return [e.render() for e in VALIDATOR.validate({"spec": {"tier": "Admin", **spec}})]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="a valid object has no error"),
        pytest.param({"tier": None}, ["spec.tier: Required value", BLOCKED], id="null is absent"),
        pytest.param(
            {"tier": "Foo"},
            ['spec.tier: Unsupported value: "Foo": supported values: "Admin", "Baseline"', BLOCKED],
            id="an enum names every supported value",
        ),
        pytest.param(
            {"priority": "high"},
            [
                'spec.priority: Invalid value: "string": spec.priority in body must be of type '
                'integer: "string"',
                BLOCKED,
            ],
            id="a wrong type is reported with the JSON type it has",
        ),
        pytest.param(
            {"priority": 1001},
            [
                "spec.priority: Invalid value: 1001: spec.priority in body should be less than "
                "or equal to 1000"
            ],
            id="maximum",
        ),
        pytest.param(
            {"priority": -1},
            [
                "spec.priority: Invalid value: -1: spec.priority in body should be greater than "
                "or equal to 0"
            ],
            id="minimum",
        ),
        pytest.param(
            {"name": "abcd"},
            ["spec.name: Too long: must have at most 3 bytes", BLOCKED],
            id="maxLength is field.TooLong and blocks CEL",
        ),
        pytest.param(
            {"name": "A"},
            ["spec.name: Invalid value: \"A\": spec.name in body should match '^[a-z]+$'"],
            id="pattern",
        ),
        pytest.param(
            {"one": {}},
            ["spec.one: Invalid value: 0: spec.one in body should have at least 1 properties"],
            id="minProperties",
        ),
        pytest.param(
            {"one": {"a": "x", "b": 1}},
            ["spec.one: Too many: 2: must have at most 1 item", BLOCKED],
            id="maxProperties stops the object's other checks",
        ),
        pytest.param(
            {"list": []},
            ["spec.list: Invalid value: 0: spec.list in body should have at least 1 items"],
            id="minItems",
        ),
        pytest.param(
            {"list": ["a", "b", "a"]},
            [
                "spec.list: Too many: 3: must have at most 2 items",
                'spec.list[2]: Duplicate value: "a"',
                BLOCKED,
            ],
            id="maxItems and a set's duplicates",
        ),
        pytest.param(
            {"labels": {"a": 1}},
            [
                'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type '
                'string: "integer"',
                BLOCKED,
            ],
            id="additionalProperties types every value",
        ),
        pytest.param(
            {"range": {"start": 9, "end": 8}},
            ['spec.range: Invalid value: "object": Start must be less'],
            id="a CEL rule reports the schema type and its message",
        ),
    ],
)
def test_errors_are_the_api_servers(spec: dict[str, Any], expected: list[str]) -> None:
    assert _errors(spec) == expected


def test_a_missing_required_object_is_reported_at_the_root() -> None:
    assert [e.render() for e in VALIDATOR.validate({})] == ["spec: Required value", BLOCKED]


def test_earlier_blocking_errors_skip_the_cel_rules() -> None:
    from podwall.model.fielderrors import required

    body = {"spec": {"tier": "Admin", "range": {"start": 9, "end": 8}}}
    errs = VALIDATOR.validate(body, earlier=[required("metadata.name")])
    assert [e.render() for e in errs] == [BLOCKED]


def test_unknown_fields_are_those_the_schema_does_not_declare() -> None:
    body = {
        "spec": {"tier": "Admin", "tierr": 1, "labels": {"free": "x"}, "one": {"c": "x"}},
        "metadata": {"anything": 1},
        "extra": True,
    }
    assert sorted(VALIDATOR.unknown_fields(body)) == ["extra", "spec.one.c", "spec.tierr"]
