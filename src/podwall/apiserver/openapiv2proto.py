"""An OpenAPI v2 JSON document encoded as gnostic's `openapi.v2.Document` protobuf message.

kube-apiserver serves `/openapi/v2` in that form to kubectl, which reads it for `explain`
(`--output=plaintext-openapiv2`, or when the server has no v3), for client-side validation and
for the `fieldValidation` check. The messages and their field numbers are read from gnostic's
own `OpenAPIv2.proto`, vendored unchanged with its license in `vendor/gnostic/`; this module
never keeps a field number of its own.

The encoding is done here, not by the `protobuf` package: that package is not a dependency of
podwall, and it would not spare the work that matters. gnostic turns JSON into messages with
rules of its own (`type` becomes a TypeItem, `properties` a list of NamedSchema, parameters a
oneof chosen by `in`, vendor extensions NamedAny whose value is YAML text); those rules are the
`_SHAPES` below, and the wire format left after them is a few lines (`_key`, `_varint`,
`_scalar`). As in gnostic's compiler, a JSON key with no field in its message is an error, never
dropped in silence, except the OpenAPI v3 keywords a v2 document cannot carry (`DROPPED`).

It owns the encoding only: what the document says is `openapiv2`'s.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

# OpenAPI v3 keywords with no field in a v2 Schema; kube-apiserver leaves them out of v2 too.
DROPPED = frozenset({"oneOf", "anyOf", "not", "nullable"})
_VARINT_TYPES = frozenset({"bool", "int32", "int64", "uint32", "uint64", "enum"})
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_MESSAGE = re.compile(r"^message (\w+) \{$")
_FIELD = re.compile(r"^(repeated )?([\w.]+) (\w+) = (\d+);$")


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    type: str  # a scalar type name, or a message name of the package
    repeated: bool


@functools.cache
def messages() -> dict[str, dict[str, Field]]:
    """message name -> proto field name -> Field, from the vendored OpenAPIv2.proto."""
    text = resources.files("podwall.apiserver").joinpath("vendor/gnostic/OpenAPIv2.proto")
    found: dict[str, dict[str, Field]] = {}
    current: dict[str, Field] | None = None
    for raw in text.read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        if (start := _MESSAGE.match(line)) is not None:
            current = found.setdefault(start.group(1), {})
        elif (field := _FIELD.match(line)) is not None and current is not None:
            repeated, kind, name, number = field.groups()
            current[name] = Field(int(number), kind, bool(repeated))
    return found


# --- the wire format ---------------------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s take ten bytes, as in Go
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _scalar(field: Field, value: Any) -> bytes:
    if field.type == "string":
        data = str(value).encode()
        return _key(field.number, 2) + _varint(len(data)) + data
    if field.type == "double":
        return _key(field.number, 1) + struct.pack("<d", float(value))
    if field.type in _VARINT_TYPES:
        return _key(field.number, 0) + _varint(int(value))
    raise ValueError(f"no encoding for the proto type {field.type}")


def encode(message: str, value: Mapping[str, Any]) -> bytes:
    """A message given as {proto field name: value}; proto3's zero values are left out."""
    fields = messages()[message]
    out = bytearray()
    for name, field in sorted(fields.items(), key=lambda item: item[1].number):
        item = value.get(name)
        if item is None or item == "" or item is False or item == 0 or item == []:
            continue
        for one in item if field.repeated else [item]:
            if field.type in messages():
                data = encode(field.type, one)
                out += _key(field.number, 2) + _varint(len(data)) + data
            else:
                out += _scalar(field, one)
    unknown = set(value) - set(fields)
    if unknown:
        raise ValueError(f"{message} has no field {sorted(unknown)[0]!r}")
    return bytes(out)


# --- gnostic's JSON-to-message rules -----------------------------------------------------

Shaped = dict[str, Any]


def _snake(name: str) -> str:
    return "_ref" if name == "$ref" else re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _any(value: Any) -> Shaped:
    # gnostic keeps an arbitrary value as YAML text, which kube-openapi reads back with a YAML
    # parser (the group-version-kind list, the patch strategies...). Not JSON text: YAML
    # refuses control characters that JSON leaves unescaped.
    text = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 30)
    return {"yaml": text}


def _named(pairs: Mapping[str, Any], message: str) -> list[Shaped]:
    return [{"name": name, "value": shape(message, value)} for name, value in pairs.items()]


def shape(message: str, value: Any) -> Any:
    """A JSON value of the OpenAPI document as the message `message`, ready to `encode`."""
    special = _SHAPES.get(message)
    if special is not None:
        return special(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"{message} must be an object, not {value!r}")
    fields = messages()[message]
    out: Shaped = {}
    extensions = {k: v for k, v in value.items() if k.startswith("x-")}
    if extensions:
        out["vendor_extension"] = [{"name": k, "value": _any(v)} for k, v in extensions.items()]
    for key, item in value.items():
        if key.startswith("x-") or key in DROPPED:
            continue
        name = _snake(key)
        field = fields.get(name)
        if field is None:
            raise ValueError(f"{message} has no field for {key!r}")
        if field.type not in messages() and field.type != "Any":
            out[name] = item
        elif field.repeated:
            out[name] = [shape(field.type, one) for one in item]
        else:
            out[name] = shape(field.type, item)
    return out


def _type_item(value: Any) -> Shaped:
    return {"value": list(value) if isinstance(value, list) else [value]}


def _items_item(value: Any) -> Shaped:
    items = value if isinstance(value, list) else [value]
    return {"schema": [shape("Schema", item) for item in items]}


def _additional_properties(value: Any) -> Shaped:
    if isinstance(value, bool):
        return {"boolean": value}
    return {"schema": shape("Schema", value)}


def _properties(value: Mapping[str, Any]) -> Shaped:
    return {"additional_properties": _named(value, "Schema")}


def _paths(value: Mapping[str, Any]) -> Shaped:
    paths = {k: v for k, v in value.items() if not k.startswith("x-")}
    extensions = [{"name": k, "value": _any(v)} for k, v in value.items() if k.startswith("x-")]
    return {"path": _named(paths, "PathItem"), "vendor_extension": extensions}


def _response_value(value: Mapping[str, Any]) -> Shaped:
    if "$ref" in value:
        return {"json_reference": shape("JsonReference", value)}
    return {"response": shape("Response", value)}


def _responses(value: Mapping[str, Any]) -> Shaped:
    codes = {k: v for k, v in value.items() if not k.startswith("x-")}
    extensions = [{"name": k, "value": _any(v)} for k, v in value.items() if k.startswith("x-")]
    return {"response_code": _named(codes, "ResponseValue"), "vendor_extension": extensions}


_NON_BODY = {
    "query": "query_parameter_sub_schema",
    "path": "path_parameter_sub_schema",
    "header": "header_parameter_sub_schema",
    "formData": "form_data_parameter_sub_schema",
}


def _parameter(value: Mapping[str, Any]) -> Shaped:
    where = value.get("in")
    if where == "body":
        return {"body_parameter": shape("BodyParameter", value)}
    if where not in _NON_BODY:
        raise ValueError(f"a parameter in {where!r}: must be body, query, path, header or formData")
    sub = _NON_BODY[where]
    message = messages()["NonBodyParameter"][sub].type
    return {"non_body_parameter": {sub: shape(message, value)}}


def _parameters_item(value: Mapping[str, Any]) -> Shaped:
    if "$ref" in value:
        return {"json_reference": shape("JsonReference", value)}
    return {"parameter": _parameter(value)}


def _schema_item(value: Mapping[str, Any]) -> Shaped:
    if value.get("type") == "file":
        return {"file_schema": shape("FileSchema", value)}
    return {"schema": shape("Schema", value)}


_SHAPES: dict[str, Callable[[Any], Any]] = {
    "Any": _any,
    "TypeItem": _type_item,
    "ItemsItem": _items_item,
    "AdditionalPropertiesItem": _additional_properties,
    "Properties": _properties,
    "Definitions": _properties,
    "Paths": _paths,
    "Responses": _responses,
    "ResponseValue": _response_value,
    "ParametersItem": _parameters_item,
    "SchemaItem": _schema_item,
}


def document(doc: Mapping[str, Any]) -> bytes:
    """The OpenAPI v2 JSON document `doc` as an encoded `openapi.v2.Document`."""
    return encode("Document", shape("Document", doc))
