"""Kubernetes protobuf messages decoded generically, into the JSON the API would have received.

The wire format is read field by field; `protofields.json` (generated from the upstream
generated.proto files by scripts/gen_protofields.py, never edited by hand) gives each message's
field numbers, their JSON names, labels and types. A few apimachinery messages have a JSON form
of their own (Time, IntOrString, Quantity, RawExtension...): those are converted here.

Zero values are dropped where JSON's `omitempty` would drop them (empty strings, lists, maps and
times), so that defaulting sees what it sees for a JSON body.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import struct
from collections.abc import Iterator
from importlib import resources
from typing import Any

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float"}
Wire = int | bytes


@functools.cache
def messages() -> dict[str, dict[int, tuple[str, str, str]]]:
    """message name -> field number -> (JSON name, "" when inlined; label; type)."""
    text = resources.files("podwall.apiserver").joinpath("protofields.json").read_text()
    raw = json.loads(text)["messages"]
    return {
        name: {int(n): (f[0], f[1], f[2]) for n, f in fields.items()}
        for name, fields in raw.items()
    }


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data: bytes) -> Iterator[tuple[int, Wire]]:
    """(field number, value): ints for varints and fixed-width fields, bytes for the others."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(data):
                raise ValueError("truncated field")
            yield number, int.from_bytes(data[pos : pos + width], "little")
            pos += width
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            yield number, data[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported wire type {wire}")


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    value = value - (1 << 64) if value >> 63 else value
    low = value & ((1 << bits) - 1)
    return low - (1 << bits) if low >> (bits - 1) else low


def _scalar(kind: str, value: Wire) -> Any:
    if kind in ("string", "bytes"):
        if not isinstance(value, bytes):
            raise ValueError(f"expected a {kind}")
        return value.decode() if kind == "string" else base64.b64encode(value).decode()
    if isinstance(value, bytes):
        raise ValueError(f"expected a {kind}")
    if kind == "bool":
        return bool(value)
    if kind == "double":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if kind == "float":
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    return _signed(value, 32 if kind == "int32" else 64)


def _packed(kind: str, data: bytes) -> list[Any]:
    return [_scalar(kind, value) for _, value in _values_of(data)]


def _values_of(data: bytes) -> Iterator[tuple[int, int]]:
    pos = 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        yield 0, value


def _time(data: bytes, micro: bool) -> str | None:
    parts = dict(fields(data))
    seconds = _signed(int(parts.get(1, 0)), 64)
    nanos = _signed(int(parts.get(2, 0)), 32)
    if seconds == 0 and nanos == 0:
        return None
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    if micro:
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


_EXTRA_VALUES = {
    "io.k8s.api.authentication.v1.ExtraValue",
    "io.k8s.api.authorization.v1.ExtraValue",
}  # `[]string` types: their JSON is the list itself


def _special(name: str, data: bytes) -> Any:
    if name in _EXTRA_VALUES:
        return [_scalar("string", value) for number, value in fields(data) if number == 1]
    parts = dict(fields(data))
    if name in (_META + "Time", _META + "MicroTime"):
        return _time(data, name.endswith("MicroTime"))
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        if parts.get(1, 0) == 1:
            return _scalar("string", parts.get(3, b""))
        return _signed(int(parts.get(2, 0)), 32)
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return _scalar("string", parts.get(1, b""))
    if name == _META + "Duration":
        return f"{_signed(int(parts.get(1, 0)), 64) / 1e9:g}s"
    raw = parts.get(1, b"")  # RawExtension, FieldsV1: JSON bytes
    return json.loads(raw) if isinstance(raw, bytes) and raw else None


_SPECIAL = {
    _META + "Time",
    _META + "MicroTime",
    _META + "Duration",
    _META + "FieldsV1",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    *_EXTRA_VALUES,
}


def _value(kind: str, value: Wire) -> Any:
    if kind in _SCALARS:
        return _scalar(kind, value)
    if not isinstance(value, bytes):
        raise ValueError(f"expected a {kind.rpartition('.')[2]} message")
    return decode(kind, value)


def decode(name: str, data: bytes) -> Any:
    """The JSON form of message `name` (an OpenAPI schema name) encoded in `data`."""
    if name in _SPECIAL:
        return _special(name, data)
    known = messages().get(name)
    if known is None:
        raise LookupError(name)
    out: dict[str, Any] = {}
    for number, value in fields(data):
        spec = known.get(number)
        if spec is None:
            continue  # a newer field than these descriptors: ignored, as an unknown JSON field
        json_name, label, kind = spec
        if label == "map":
            key_kind, _, value_kind = kind.partition(":")
            entry = dict(fields(_message(value)))
            key = _scalar(key_kind, entry.get(1, b"" if key_kind == "string" else 0))
            item = entry.get(2, b"" if value_kind not in ("bool", "int32", "int64") else 0)
            out.setdefault(json_name, {})[key] = _value(value_kind, item)
        elif label == "repeated":
            if isinstance(value, bytes) and kind in ("int32", "int64", "bool"):
                out.setdefault(json_name, []).extend(_packed(kind, value))
            else:
                out.setdefault(json_name, []).append(_value(kind, value))
        elif json_name == "":
            out.update(_value(kind, value))
        else:
            item = _value(kind, value)
            if item is None or item == "":  # omitempty (an empty struct stays, as in JSON)
                out.pop(json_name, None)
            else:
                out[json_name] = item
    return out


def _message(value: Wire) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("expected a message")
    return value
