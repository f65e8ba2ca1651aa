# Table tests keep one case per row: a patch reads better unwrapped (as in engine/test_decide).
# ruff: noqa: E501
"""JSON patch: the RFC 6902 Appendix A examples, RFC 6901 pointers, and the API server's errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.patch import JSON_PATCH, PatchError, apply_patch
from podwall.apiserver.patch.jsonpatch import apply_json_patch, escape_token, parse_pointer


@dataclass(frozen=True)
class Example:
    id: str
    doc: dict[str, Any]
    patch: list[dict[str, Any]]
    want: dict[str, Any] | None  # None: the patch must fail


RFC_6902_APPENDIX_A = [
    Example("A.1 adding an object member", {"foo": "bar"},
            [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    Example("A.2 adding an array element", {"foo": ["bar", "baz"]},
            [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    Example("A.3 removing an object member", {"baz": "qux", "foo": "bar"},
            [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    Example("A.4 removing an array element", {"foo": ["bar", "qux", "baz"]},
            [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    Example("A.5 replacing a value", {"baz": "qux", "foo": "bar"},
            [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    Example("A.6 moving a value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    Example("A.7 moving an array element", {"foo": ["all", "grass", "cows", "eat"]},
            [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    Example("A.8 testing a value succeeds", {"baz": "qux", "foo": ["a", 2, "c"]},
            [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
            {"baz": "qux", "foo": ["a", 2, "c"]}),
    Example("A.9 testing a value fails", {"baz": "qux"},
            [{"op": "test", "path": "/baz", "value": "bar"}], None),
    Example("A.10 adding a nested member object", {"foo": "bar"},
            [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
            {"foo": "bar", "child": {"grandchild": {}}}),
    Example("A.11 ignoring unrecognized elements", {"foo": "bar"},
            [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    Example("A.12 adding to a nonexistent target fails", {"foo": "bar"},
            [{"op": "add", "path": "/baz/bat", "value": "qux"}], None),
    Example("A.14 ~ escape ordering", {"/": 9, "~1": 10},
            [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    Example("A.15 comparing strings and numbers fails", {"/": 9, "~1": 10},
            [{"op": "test", "path": "/~01", "value": "10"}], None),
    Example("A.16 adding an array value", {"foo": ["bar"]},
            [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
]  # fmt: skip


@pytest.mark.parametrize("example", RFC_6902_APPENDIX_A, ids=[e.id for e in RFC_6902_APPENDIX_A])
def test_rfc_6902_appendix_a(example: Example) -> None:
    if example.want is None:
        with pytest.raises(PatchError) as info:
            apply_json_patch(example.doc, example.patch)
        assert info.value.code == 422
    else:
        assert apply_json_patch(example.doc, example.patch) == example.want


def test_rfc_6902_a13_a_patch_with_duplicate_op_members_fails() -> None:
    # A.13: the body repeats "op"; JSON decoders keep the last, "remove", whose target is absent.
    body = '[{"op": "add", "path": "/baz", "value": "qux", "op": "remove"}]'
    with pytest.raises(PatchError) as info:
        apply_patch({"foo": "bar"}, body, JSON_PATCH, "ConfigMap")
    assert info.value.code == 422


RFC_6901_DOC = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
}
RFC_6901_SECTION_5 = [
    ("/foo", ["bar", "baz"]),
    ("/foo/0", "bar"),
    ("/", 0),
    ("/a~1b", 1),
    ("/c%d", 2),
    ("/e^f", 3),
    ("/g|h", 4),
    ("/i\\j", 5),
    ('/k"l', 6),
    ("/ ", 7),
    ("/m~0n", 8),
]


@pytest.mark.parametrize(
    ("pointer", "value"), RFC_6901_SECTION_5, ids=[p for p, _ in RFC_6901_SECTION_5]
)
def test_rfc_6901_section_5_pointers_reach_their_values(pointer: str, value: Any) -> None:
    assert (
        apply_json_patch(RFC_6901_DOC, [{"op": "test", "path": pointer, "value": value}])
        == RFC_6901_DOC
    )


def test_rfc_6901_the_empty_pointer_is_the_whole_document() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/") == [""]
    assert parse_pointer("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"]


# ---- what kubectl patch --type=json does against a Deployment -----------------------------

DEPLOY: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}}},
}


def test_kubectl_patch_type_json_replaces_the_replica_count() -> None:
    body = json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 3}])
    got = apply_patch(DEPLOY, body, JSON_PATCH, "Deployment")
    assert got["spec"]["replicas"] == 3
    assert DEPLOY["spec"]["replicas"] == 1  # the input is not modified


def test_kubectl_patch_type_json_edits_a_container_image_and_a_label_with_a_slash() -> None:
    body = json.dumps(
        [
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "a:2"},
            {"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"},
        ]
    )
    got = apply_patch(DEPLOY, body, JSON_PATCH, "Deployment")
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "a:2"
    assert got["metadata"]["labels"] == {"app": "web", "app.kubernetes.io/name": "web"}


# ---- evanphx/json-patch v4 behaviour and messages ------------------------------------------


@dataclass(frozen=True)
class V4Case:
    id: str
    patch: list[dict[str, Any]]
    want: dict[str, Any] | str  # a str: the 422's cause must contain it


V4_CASES = [
    V4Case("replace of a missing member adds it, as v4 does",
           [{"op": "replace", "path": "/b", "value": 2}], {"a": [1, 2, 3], "b": 2}),
    V4Case("a negative index adds counting from the new end (-1 appends)",
           [{"op": "add", "path": "/a/-1", "value": 9}], {"a": [1, 2, 3, 9]}),
    V4Case("a negative index of -2 adds before the last element",
           [{"op": "add", "path": "/a/-2", "value": 9}], {"a": [1, 2, 9, 3]}),
    V4Case("a negative index removes counting from the end",
           [{"op": "remove", "path": "/a/-1"}], {"a": [1, 2]}),
    V4Case("test of a missing member against null passes",
           [{"op": "test", "path": "/zzz", "value": None}], {"a": [1, 2, 3]}),
    V4Case("copy duplicates a value",
           [{"op": "copy", "from": "/a/0", "path": "/b"}], {"a": [1, 2, 3], "b": 1}),
    V4Case("remove of a missing member fails",
           [{"op": "remove", "path": "/zzz"}],
           "error in remove for path: '/zzz': Unable to remove nonexistent key: zzz: missing value"),
    V4Case("add past the end of an array fails",
           [{"op": "add", "path": "/a/7", "value": 0}],
           "error in add for path: '/a/7': Unable to access invalid index: 7: invalid index referenced"),
    V4Case("add under a missing parent fails",
           [{"op": "add", "path": "/x/y", "value": 0}],
           'add operation does not apply: doc is missing path: "/x/y": missing value'),
    V4Case("replace past the end of an array fails",
           [{"op": "replace", "path": "/a/3", "value": 0}],
           "replace operation does not apply: doc is missing key: /a/3: missing value"),
    V4Case("a failed test names its path",
           [{"op": "test", "path": "/a", "value": [1, 2]}], "testing value /a failed: test failed"),
    V4Case("test compares objects both ways, unlike v4",
           [{"op": "add", "path": "/o", "value": {"x": 1, "y": 2}}, {"op": "test", "path": "/o", "value": {"x": 1}}],
           "testing value /o failed: test failed"),
    V4Case("an unknown op is refused", [{"op": "frob", "path": "/a"}], "Unexpected kind: frob"),
    V4Case("an op without a path is refused", [{"op": "remove"}],
           "remove operation failed to decode path: missing value"),
    V4Case("move without from is refused", [{"op": "move", "path": "/b"}],
           "move operation failed to decode from: operation, missing from field: missing value"),
    V4Case("moving a value into its own child fails", [{"op": "move", "from": "/a", "path": "/a/0"}],
           "move operation does not apply: doc is missing destination path: /a/0: missing value"),
    V4Case("the whole-document pointer is refused", [{"op": "replace", "path": "", "value": {}}],
           "replace operation does not apply: doc is missing path: : missing value"),
    V4Case("a pointer without a leading slash is refused", [{"op": "add", "path": "a", "value": 1}],
           'add operation does not apply: doc is missing path: "a": missing value'),
]  # fmt: skip


@pytest.mark.parametrize("case", V4_CASES, ids=[c.id for c in V4_CASES])
def test_json_patch_as_the_api_server_applies_it(case: V4Case) -> None:
    doc = {"a": [1, 2, 3]}
    if isinstance(case.want, dict):
        assert apply_json_patch(doc, case.patch) == case.want
        return
    with pytest.raises(PatchError) as info:
        apply_json_patch(doc, case.patch)
    error = info.value
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message == "the server rejected our request due to an error in our request"
    assert error.details is not None
    assert case.want in error.details["causes"][0]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            '{"op": "add"}',
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
            id="an object instead of an array is a 400",
        ),
        pytest.param(
            '["add"]',
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation",
            id="an array of strings is a 400",
        ),
        pytest.param("[{", "Expecting", id="a body that is not JSON is a 400"),
    ],
)
def test_a_malformed_json_patch_is_a_bad_request(body: str, message: str) -> None:
    with pytest.raises(PatchError) as info:
        apply_patch({"a": 1}, body, JSON_PATCH, "ConfigMap")
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    assert message in info.value.message


def test_a_null_json_patch_changes_nothing() -> None:
    assert apply_patch({"a": 1}, "null", JSON_PATCH, "ConfigMap") == {"a": 1}


# ---- properties ----------------------------------------------------------------------------

keys = st.text(alphabet="ab/~01 ", max_size=4)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)


@given(st.lists(keys, max_size=4))
def test_escaping_then_parsing_a_pointer_gives_back_its_tokens(tokens: list[str]) -> None:
    pointer = "".join("/" + escape_token(t) for t in tokens)
    assert parse_pointer(pointer) == tokens


@given(st.dictionaries(keys, scalars, max_size=4), keys, scalars)
def test_adding_a_new_member_then_removing_it_is_the_identity(
    doc: dict[str, Any], key: str, value: Any
) -> None:
    doc.pop(key, None)
    path = "/" + escape_token(key)
    ops = [{"op": "add", "path": path, "value": value}, {"op": "remove", "path": path}]
    assert apply_json_patch(doc, ops) == doc


@given(st.dictionaries(keys, scalars, max_size=4), keys, scalars)
def test_a_test_after_an_add_of_the_same_value_passes(
    doc: dict[str, Any], key: str, value: Any
) -> None:
    path = "/" + escape_token(key)
    ops = [
        {"op": "add", "path": path, "value": value},
        {"op": "test", "path": path, "value": value},
    ]
    assert apply_json_patch(doc, ops)[key] == value
