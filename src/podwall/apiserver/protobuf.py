"""The few Kubernetes protobuf request bodies podwall decodes.

`kubectl create namespace` (and the other `kubectl create <kind>` generators) send
`application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a runtime.Unknown wrapping the
object's own message. Decoding a kind needs its field numbers (k8s.io/api generated.proto);
podwall knows them for Namespace only. Other kinds are answered 415, and `kubectl apply -f`
(JSON) works for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from podwall.apiserver import errors

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


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


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            yield number, data[pos : pos + length]
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ValueError("expected a string")
    return value.decode()


def _message(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("expected a message")
    return value


def _string_map_entry(data: bytes) -> tuple[str, str]:
    entry = {n: _text(v) for n, v in _fields(data)}
    return entry.get(1, ""), entry.get(2, "")


def _object_meta(data: bytes) -> dict[str, Any]:
    """ObjectMeta: the fields a create request sets."""
    meta: dict[str, Any] = {}
    names = {1: "name", 2: "generateName", 3: "namespace"}
    for number, value in _fields(data):
        if number in names:
            meta[names[number]] = _text(value)
        elif number in (11, 12):
            key, item = _string_map_entry(_message(value))
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _namespace(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace"}
    for number, value in _fields(data):
        if number == 1:
            obj["metadata"] = _object_meta(_message(value))
        elif number == 2:
            finalizers = [_text(v) for n, v in _fields(_message(value)) if n == 1]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}
    return obj


_DECODERS = {("v1", "Namespace"): _namespace}


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf request body as a JSON object; 415 for kinds podwall cannot decode."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("the protobuf body does not start with the k8s magic")
    try:
        unknown = dict(_fields(body[len(MAGIC) :]))
        type_meta = {n: _text(v) for n, v in _fields(_message(unknown.get(1, b"")))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        decoder = _DECODERS.get((api_version, kind))
        if decoder is None:
            raise errors.ApiError(
                415,
                "UnsupportedMediaType",
                f"podwall decodes protobuf bodies of Namespaces only, not {kind or 'this kind'}: "
                "send JSON (kubectl apply -f, or kubectl create ... --dry-run=client -o yaml "
                "| kubectl apply -f -)",
            )
        return decoder(_message(unknown.get(2, b"")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the protobuf body could not be decoded: {exc}") from exc
