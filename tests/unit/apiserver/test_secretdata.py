"""Secrets between body and store: stringData folded into data, Go's base64 errors, key rules."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.secretdata import base64_error, fold, validate


@pytest.mark.parametrize(
    ("text", "at"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("YQ==", None, id="padded"),
        pytest.param("YWJj\r\nZGVm", None, id="newlines skipped"),
        pytest.param("abc", 0, id="short quantum: its start"),
        pytest.param("YWJjZA", 4, id="short second quantum"),
        pytest.param("ab!d", 2, id="a character outside the alphabet"),
        pytest.param("=", 0, id="padding first"),
        pytest.param("YQ=", 3, id="one of two pads: the end"),
        pytest.param("YQ=x", 2, id="one of two pads then a symbol"),
        pytest.param("YWI=x", 4, id="data after the padding"),
    ],
)
def test_base64_errors_name_the_byte_gos_decoder_stops_at(text: str, at: int | None) -> None:
    assert base64_error(text) == at


@given(st.binary(max_size=64))
def test_what_base64_encodes_is_valid(raw: bytes) -> None:
    assert base64_error(base64.b64encode(raw).decode()) is None


def test_string_data_is_folded_into_data_over_the_same_key_and_not_kept() -> None:
    secret: dict[str, Any] = {
        "data": {"a": "YQ==", "b": "Yg=="},
        "stringData": {"b": "new", "c": "ç"},
    }
    assert fold(secret) is None
    assert "stringData" not in secret
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"a": "a", "b": "new", "c": "ç"}
    assert secret["type"] == "Opaque"


def test_a_given_type_is_kept() -> None:
    secret: dict[str, Any] = {"type": "kubernetes.io/tls", "data": {}}
    assert fold(secret) is None
    assert secret["type"] == "kubernetes.io/tls"


def test_bad_base64_is_reported_and_nothing_folded() -> None:
    secret: dict[str, Any] = {"data": {"a": "not base64!"}, "stringData": {"b": "x"}}
    assert fold(secret) == "illegal base64 data at input byte 3"
    assert secret["stringData"] == {"b": "x"}


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        pytest.param("tls.crt", True, id="dotted"),
        pytest.param("KEY_NAME-1", True, id="underscore and dash"),
        pytest.param("a/b", False, id="slash"),
        pytest.param(".", False, id="dot"),
        pytest.param("..x", False, id="leading dots"),
    ],
)
def test_data_keys_are_config_keys(key: str, valid: bool) -> None:
    errors = validate({"data": {key: ""}})
    assert (errors == []) == valid
    assert all(e.path == f"data[{key}]" for e in errors)
