"""gnostic's openapi_v2 messages: the vendored .proto's field table, the encoding, and the
document decoded back (field by field, with the same table) to the JSON it was made from."""

from __future__ import annotations

import struct
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver import openapiv2, openapiv2proto, protodecode
from podwall.apiserver.openapiv2proto import Field, messages

SCALARS = {"string", "bool", "int64", "double", "google.protobuf.Any"}


# --- a decoder, driven by the same table ---------------------------------------------------


def _field_by_number(message: str, number: int) -> tuple[str, Field]:
    found = [(n, f) for n, f in messages()[message].items() if f.number == number]
    assert found, f"{message} has no field {number}"
    return found[0]


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind == "string":
        assert isinstance(value, bytes)
        return value.decode()
    assert isinstance(value, int)
    if kind == "bool":
        return bool(value)
    if kind == "double":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    return value - (1 << 64) if value >> 63 else value


def decode(message: str, data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, value in protodecode.fields(data):
        name, field = _field_by_number(message, number)
        if field.type in messages():
            assert isinstance(value, bytes)
            item: Any = decode(field.type, value)
        else:
            item = _scalar(field.type, value)
        if field.repeated:
            out.setdefault(name, []).append(item)
        else:
            assert name not in out, f"{message}.{name} twice"
            out[name] = item
    return out


# --- a decompiler of schemas, the inverse of gnostic's rules -------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def schema_json(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in schema.items():
        if name == "vendor_extension":
            out.update({e["name"]: yaml.safe_load(e["value"]["yaml"]) for e in value})
        elif name == "_ref":
            out["$ref"] = value
        elif name == "type":
            out["type"] = value["value"][0] if len(value["value"]) == 1 else value["value"]
        elif name == "items":
            items = [schema_json(s) for s in value["schema"]]
            out["items"] = items[0] if len(items) == 1 else items
        elif name == "properties":
            props = value.get("additional_properties", [])
            out["properties"] = {p["name"]: schema_json(p.get("value", {})) for p in props}
        elif name == "additional_properties":
            sub = value.get("schema")
            out["additionalProperties"] = schema_json(sub) if sub else value.get("boolean", False)
        elif name == "all_of":
            out["allOf"] = [schema_json(s) for s in value]
        elif name == "enum":
            out["enum"] = [yaml.safe_load(a["yaml"]) for a in value]
        elif name in ("default", "example"):
            out[name] = yaml.safe_load(value["yaml"])
        else:
            out[_camel(name)] = value
    return out


# --- the table -----------------------------------------------------------------------------


def test_the_vendored_proto_gives_every_message_of_the_document() -> None:
    table = messages()
    assert {"Document", "Schema", "Operation", "NamedSchema", "NonBodyParameter"} <= set(table)
    for name, fields in table.items():
        numbers = [f.number for f in fields.values()]
        assert len(numbers) == len(set(numbers)), f"{name} repeats a field number"
        for field in fields.values():
            assert field.type in table or field.type in SCALARS, f"{name}: {field.type}"


# --- the encoding --------------------------------------------------------------------------


def test_proto3_zero_values_are_left_out() -> None:
    assert openapiv2proto.encode("Info", {"title": "", "version": ""}) == b""
    assert openapiv2proto.encode("Schema", {"read_only": False, "max_length": 0}) == b""


def test_an_empty_message_is_still_present() -> None:
    # `properties: {}` differs from no properties: a present, empty message.
    shaped = openapiv2proto.shape("Schema", {"type": "object", "properties": {}})
    assert decode("Schema", openapiv2proto.encode("Schema", shaped))["properties"] == {}


@pytest.mark.parametrize(
    ("message", "value", "says"),
    [
        ("Schema", {"type": "object", "bogus": 1}, "Schema has no field for 'bogus'"),
        ("ParametersItem", {"name": "x", "in": "cookie"}, "a parameter in 'cookie'"),
        ("Info", "a string", "Info must be an object"),
    ],
    ids=["an unknown schema keyword", "a parameter nowhere", "not an object"],
)
def test_what_gnostic_would_refuse_is_an_error_naming_it(
    message: str, value: Any, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        openapiv2proto.shape(message, value)


def test_v3_only_keywords_are_left_out() -> None:
    shaped = openapiv2proto.shape("Schema", {"type": "string", "nullable": True, "oneOf": []})
    assert shaped == {"type": {"value": ["string"]}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "boolean", "number"])},
        optional={
            "description": st.text(max_size=20),
            "format": st.sampled_from(["int32", "int64", "date-time", "int-or-string"]),
            "maxLength": st.integers(1, 2**40),
            "minimum": st.floats(allow_nan=False, allow_infinity=False),
            "enum": st.lists(json_values, min_size=1, max_size=3),
            "default": json_values,
            "x-kubernetes-list-type": st.sampled_from(["atomic", "map", "set"]),
        },
    )
    ref = st.fixed_dictionaries(
        {"$ref": st.text(min_size=1, max_size=10).map(lambda s: "#/definitions/" + s)},
        optional={"description": st.text(max_size=20)},
    )
    return st.recursive(
        leaf | ref,
        lambda inner: (
            st.fixed_dictionaries(
                {"type": st.just("object")},
                optional={
                    "properties": st.dictionaries(
                        st.text(min_size=1, max_size=6), inner, max_size=3
                    ),
                    "additionalProperties": st.booleans() | inner,
                    "required": st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3),
                    "x-kubernetes-group-version-kind": st.lists(
                        st.fixed_dictionaries({"group": st.text(), "kind": st.text()}), max_size=2
                    ),
                },
            )
            | st.fixed_dictionaries({"type": st.just("array"), "items": inner})
        ),
        max_leaves=8,
    )


def _is_data(key: str) -> bool:
    """A keyword whose value is carried whole (YAML text, or a oneof), zero or not."""
    return key in ("enum", "default", "additionalProperties") or key.startswith("x-")


def _without_zeros(schema: dict[str, Any]) -> dict[str, Any]:
    """What proto3 keeps of a JSON schema: no empty strings, zeros or false flags."""
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            kept[key] = {name: _without_zeros(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            kept[key] = _without_zeros(value)
        elif _is_data(key) or value not in ("", 0, False, []):
            kept[key] = value
    return kept


@given(_schemas())
def test_any_schema_decodes_back_to_itself(schema: dict[str, Any]) -> None:
    encoded = openapiv2proto.encode("Schema", openapiv2proto.shape("Schema", schema))
    assert schema_json(decode("Schema", encoded)) == _without_zeros(schema)


# --- the served document -------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    return decode("Document", openapiv2.protobuf_document().body)


def test_the_served_protobuf_decodes_to_the_served_json(served: dict[str, Any]) -> None:
    doc = openapiv2.document()
    assert served["swagger"] == "2.0"
    assert served["info"] == doc["info"]
    decoded = {
        d["name"]: schema_json(d["value"]) for d in served["definitions"]["additional_properties"]
    }
    assert decoded == {name: _without_zeros(d) for name, d in doc["definitions"].items()}
    assert [p["name"] for p in served["paths"]["path"]] == list(doc["paths"])


def test_each_patch_operation_carries_its_gvk_and_the_field_validation_parameter(
    served: dict[str, Any],
) -> None:
    # kubectl 1.27's check: the PATCH of the object's GVK has a `fieldValidation` query param.
    patches = [p["value"]["patch"] for p in served["paths"]["path"] if "patch" in p["value"]]
    assert len(patches) == len([k for k in openapiv2.paths() if k.endswith("{name}")])
    for op in patches:
        extensions = {e["name"]: yaml.safe_load(e["value"]["yaml"]) for e in op["vendor_extension"]}
        assert set(extensions["x-kubernetes-group-version-kind"]) == {"group", "version", "kind"}
        queries = [
            p["parameter"]["non_body_parameter"]["query_parameter_sub_schema"]["name"]
            for p in op["parameters"]
            if "non_body_parameter" in p.get("parameter", {})
        ]
        assert "fieldValidation" in queries
