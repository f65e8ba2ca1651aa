"""List and watch options: upstream's validation messages, RV semantics, continue tokens."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver import listoptions
from podwall.apiserver.errors import ApiError
from podwall.apiserver.listoptions import ReadAt, decode_continue, encode_continue, parse

INVALID = {
    "match without resourceVersion": (
        {"resourceVersionMatch": "Exact"},
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
        "resourceVersionMatch is forbidden unless resourceVersion is provided",
    ),
    "match with continue": (
        {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "5", "continue": "x"},
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is "
        "provided",
    ),
    "unknown match": (
        {"resourceVersionMatch": "Sometime", "resourceVersion": "5"},
        'resourceVersionMatch: Unsupported value: "Sometime": supported values: "Exact", '
        '"NotOlderThan", ""',
    ),
    "exact 0": (
        {"resourceVersionMatch": "Exact", "resourceVersion": "0"},
        'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    ),
    "initial events on a list": (
        {"sendInitialEvents": "true"},
        "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
    ),
    "initial events without NotOlderThan": (
        {"watch": "true", "sendInitialEvents": "true"},
        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
    ),
    "watch match without initial events": (
        {"watch": "true", "resourceVersionMatch": "NotOlderThan", "resourceVersion": "1"},
        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
    ),
}


@pytest.mark.parametrize(("params", "message"), INVALID.values(), ids=list(INVALID))
def test_invalid_options_are_422_in_upstream_words(params: dict[str, str], message: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse(params)
    assert raised.value.code == 422
    assert raised.value.reason == "Invalid"
    assert message in raised.value.message


def test_a_watch_list_request_is_valid() -> None:
    options = parse(
        {
            "watch": "true",
            "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true",
        }
    )
    assert options.watch
    assert options.send_initial_events
    assert options.allow_bookmarks


def test_a_resource_version_that_is_no_number_is_bad_request() -> None:
    with pytest.raises(ApiError) as raised:
        parse({"resourceVersion": "abc"})
    assert raised.value.code == 400


READ_AT = {
    "unset: most recent": ({}, ReadAt(0, None)),
    "0: any": ({"resourceVersion": "0", "limit": "500"}, ReadAt(0, None)),
    "N: not older than": ({"resourceVersion": "7"}, ReadAt(7, None)),
    "N with a limit: exact": ({"resourceVersion": "7", "limit": "500"}, ReadAt(7, 7)),
    "N Exact": ({"resourceVersion": "7", "resourceVersionMatch": "Exact"}, ReadAt(7, 7)),
    "N NotOlderThan with a limit": (
        {"resourceVersion": "7", "resourceVersionMatch": "NotOlderThan", "limit": "5"},
        ReadAt(7, None),
    ),
}


@pytest.mark.parametrize(("params", "expected"), READ_AT.values(), ids=list(READ_AT))
def test_which_resource_version_a_list_is_read_at(params: dict[str, str], expected: ReadAt) -> None:
    assert listoptions.read_at(parse(params)) == expected


NAME = st.text("abcz-.0", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@given(st.one_of(st.none(), NAME), NAME, NAME, st.integers(1, 2**40))
def test_a_continue_token_decodes_to_what_it_encodes(
    namespace: str | None, ns: str, name: str, rv: int
) -> None:
    key = (namespace if namespace is not None else ns, name)
    token = decode_continue(encode_continue(key, rv, namespace), namespace)
    assert (token.after, token.resource_version) == (key, rv)


def test_the_token_is_upstreams_format() -> None:
    token = encode_continue(("default", "web"), 42, None)
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert raw == {"v": "meta.k8s.io/v1", "rv": 42, "start": "default/web\x00"}
    assert "=" not in token
    assert (
        decode_continue(encode_continue(("default", "web"), -1, None), None).resource_version
        is None
    )


def _token(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


BAD_TOKENS = {
    "not base64": ("%%%", "invalid continue token: continue key is not valid"),
    "other version": (
        _token({"v": "v2", "rv": 1, "start": "a"}),
        'server does not recognize this encoded version "v2"',
    ),
    "rv 0": (
        _token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}),
        "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    ),
    "empty start": (
        _token({"v": "meta.k8s.io/v1", "rv": 3, "start": ""}),
        "encoded start key empty (version meta.k8s.io/v1)",
    ),
    "path traversal": (
        _token({"v": "meta.k8s.io/v1", "rv": 3, "start": "../secrets/x"}),
        "continue key is not valid: ../secrets/x",
    ),
}


@pytest.mark.parametrize(("token", "message"), BAD_TOKENS.values(), ids=list(BAD_TOKENS))
def test_a_bad_continue_token_is_400(token: str, message: str) -> None:
    with pytest.raises(ApiError) as raised:
        decode_continue(token, None)
    assert raised.value.code == 400
    assert message in raised.value.message


def test_an_expired_continue_carries_a_token_for_the_rest() -> None:
    error = listoptions.continue_expired(("default", "web"), None)
    status = error.status()
    assert (status["code"], status["reason"]) == (410, "Expired")
    assert status["message"].startswith("The provided continue parameter is too old")
    rest = decode_continue(status["metadata"]["continue"], None)
    assert (rest.after, rest.resource_version) == (("default", "web"), None)


def test_too_large_a_resource_version_is_a_timeout_with_a_cause() -> None:
    status = listoptions.too_large(99, 12).status()
    assert status["code"] == 504
    assert status["message"] == "Timeout: Too large resource version: 99, current: 12"
    assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
