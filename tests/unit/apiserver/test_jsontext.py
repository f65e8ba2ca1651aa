"""jsontext answers what the standard library's json answers (floats: the same numbers)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver import jsontext


def _stdlib(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.text()  # every code point: control characters, quotes, non-ASCII, U+2028
)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )


@given(_trees(_SCALARS))
def test_without_floats_the_text_is_the_standard_librarys(obj: Any) -> None:
    assert jsontext.dumps(obj) == _stdlib(obj)


@given(_trees(_SCALARS | _FLOATS))
def test_with_floats_the_text_reads_back_as_the_same_value(obj: Any) -> None:
    assert json.loads(jsontext.dumps(obj)) == obj


@given(_trees(_SCALARS | _FLOATS))
def test_loads_reads_what_the_standard_library_reads(obj: Any) -> None:
    for text in (_stdlib(obj), json.dumps(obj), json.dumps(obj, indent=2)):
        assert jsontext.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'\xef\xbb\xbf{"a":1}', id="byte-order-mark"),
        pytest.param('{"a":"\u00e9"}'.encode("utf-16"), id="utf-16"),
        pytest.param(b'{"s":"\\ud800"}', id="lone-surrogate"),
        pytest.param(b'{"big":123456789012345678901234567890}', id="big-int"),
        pytest.param(b'{"a":1,"a":2}', id="duplicate-key-last-wins"),
        pytest.param(b'{"x":1e400}', id="overflowing-float"),
    ],
)
def test_loads_falls_back_where_msgspec_refuses(raw: bytes) -> None:
    assert jsontext.loads(raw) == json.loads(raw)


def test_loads_of_python_nan_is_the_standard_librarys() -> None:
    assert math.isnan(jsontext.loads(b'{"x":NaN}')["x"])


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a":}', b"apiVersion: v1"], ids=repr)
def test_loads_of_what_is_not_json_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):  # what json.loads raises, a ValueError
        jsontext.loads(raw)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({"x": math.nan}, id="nan"),
        pytest.param({"x": [math.inf, None]}, id="infinity"),
        pytest.param({"x": [None, 1]}, id="a-null-in-a-list"),
        pytest.param({1: "int-key", None: "null-key"}, id="non-string-keys"),
        pytest.param({"s": "\ud800"}, id="lone-surrogate"),
    ],
)
def test_dumps_of_what_msgspec_writes_otherwise_is_the_standard_librarys(obj: Any) -> None:
    assert jsontext.dumps(obj) == _stdlib(obj)


def test_dumps_of_what_json_cannot_encode_raises_as_json_does() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
