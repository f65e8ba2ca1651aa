"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).

`kubectl create deployment`, `create service`, `run` and the other generators send the magic
`k8s\\0`, then a runtime.Unknown (typeMeta = 1, raw = 2) wrapping the object's own message. The
object is decoded by `protodecode` with the field numbers generated from the upstream
generated.proto files, for every kind podwall serves; a kind without them is answered 415.
"""

from __future__ import annotations

from typing import Any

from podwall.apiserver import errors, protodecode, schemas

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ValueError("expected a string")
    return value.decode()


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("expected a message")
    return value


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf request body as a JSON object; 415 for kinds podwall cannot decode."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("the protobuf body does not start with the k8s magic")
    try:
        unknown = dict(protodecode.fields(body[len(MAGIC) :]))
        type_meta = {n: _text(v) for n, v in protodecode.fields(_bytes(unknown.get(1, b"")))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        group, _, version = api_version.rpartition("/")
        name = schemas.name_for(group, version, kind)
        if name is None or name not in protodecode.messages():
            raise errors.ApiError(
                415,
                "UnsupportedMediaType",
                f"podwall has no protobuf field numbers for {kind or 'this kind'} "
                f"({api_version or 'no apiVersion'}): send JSON",
            )
        obj = protodecode.decode(name, _bytes(unknown.get(2, b"")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the protobuf body could not be decoded: {exc}") from exc
    return {"apiVersion": api_version, "kind": kind, **obj}
