"""Protobuf request bodies: what `kubectl create namespace` sends, captured from kubectl 1.32."""

from __future__ import annotations

import pytest

from podwall.apiserver.errors import ApiError
from podwall.apiserver.protobuf import decode

# `kubectl create ns team-c -v=9`, the "Request Body" dump.
CREATE_NAMESPACE = bytes.fromhex(
    "6b387300 0a0f0a02 76311209 4e616d65 73706163 65121e0a 160a0674 65616d2d"
    "6312001a 0022002a 00320038 00420012 001a020a 001a0022 00"
)


def test_kubectl_create_namespace() -> None:
    assert decode(CREATE_NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-c", "generation": 0},  # "" dropped, as omitempty does
        "spec": {},
        "status": {},
    }


def field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_labels_are_decoded() -> None:
    label = field(11, field(1, b"team") + field(2, b"a"))
    namespace = field(1, field(1, b"x") + label)
    body = b"k8s\x00" + field(1, field(1, b"v1") + field(2, b"Namespace")) + field(2, namespace)
    assert decode(body)["metadata"] == {"name": "x", "labels": {"team": "a"}}


def test_a_service_port_with_a_named_target_port() -> None:
    target = field(4, bytes([0x08, 0x01]) + field(3, b"http"))  # IntOrString{type: String}
    spec = field(1, bytes([0x18, 0x50]) + target)  # ServiceSpec.ports{port=3: 80}
    service = field(1, field(1, b"web")) + field(2, spec)
    body = b"k8s\x00" + field(1, field(1, b"v1") + field(2, b"Service")) + field(2, service)
    decoded = decode(body)
    assert decoded["spec"]["ports"] == [{"port": 80, "targetPort": "http"}]


def test_kinds_not_served_are_unsupported_media_type() -> None:
    body = b"k8s\x00" + field(1, field(1, b"v1") + field(2, b"PodTemplate"))
    with pytest.raises(ApiError, match="no protobuf field numbers for PodTemplate") as caught:
        decode(body)
    assert caught.value.code == 415


def test_garbage_is_bad_request() -> None:
    with pytest.raises(ApiError, match="could not be decoded") as caught:
        decode(b"k8s\x00\x0a\x7f")
    assert caught.value.code == 400
