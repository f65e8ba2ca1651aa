"""JSON merge patch: the RFC 7386 examples, what kubectl label/annotate/scale send, and laws."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.patch import MERGE_PATCH, PatchError, apply_patch
from podwall.apiserver.patch.merge import create_merge_patch, merge_patch

RFC_7386_APPENDIX_A = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(
    ("target", "patch", "want"),
    RFC_7386_APPENDIX_A,
    ids=[
        f"A.{i}: {json.dumps(t)} patched with {json.dumps(p)}"
        for i, (t, p, _) in enumerate(RFC_7386_APPENDIX_A, 1)
    ],
)
def test_rfc_7386_appendix_a(target: Any, patch: Any, want: Any) -> None:
    assert merge_patch(target, patch) == want


def test_rfc_7386_section_3_example() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }
    assert target["author"] == {"givenName": "John", "familyName": "Doe"}  # not modified


# ---- what kubectl sends (kubectl-api.md §6) -------------------------------------------------

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "a", "labels": {"app": "a", "tier": "db"}, "annotations": {"x": "1"}},
    "spec": {"containers": [{"name": "c", "image": "i"}]},
}


@pytest.mark.parametrize(
    ("body", "metadata"),
    [
        pytest.param(
            '{"metadata":{"labels":{"tier":"web"}}}',
            {"labels": {"app": "a", "tier": "web"}, "annotations": {"x": "1"}},
            id="kubectl label tier=web overwrites one label",
        ),
        pytest.param(
            '{"metadata":{"labels":{"app":null}}}',
            {"labels": {"tier": "db"}, "annotations": {"x": "1"}},
            id="kubectl label app- removes one label",
        ),
        pytest.param(
            '{"metadata":{"annotations":{"note":"hi"}}}',
            {"labels": {"app": "a", "tier": "db"}, "annotations": {"x": "1", "note": "hi"}},
            id="kubectl annotate adds one annotation",
        ),
    ],
)
def test_kubectl_label_and_annotate(body: str, metadata: dict[str, Any]) -> None:
    got = apply_patch(POD, body, MERGE_PATCH, "Pod")
    assert got["metadata"] == {"name": "a", **metadata}
    assert got["spec"] == POD["spec"]


def test_kubectl_scale_patches_the_scale_subresource() -> None:
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1},
        "status": {"replicas": 1},
    }
    got = apply_patch(
        scale, '{"spec":{"replicas":3}}', "application/merge-patch+json; charset=utf-8", "Scale"
    )
    assert got["spec"] == {"replicas": 3}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        pytest.param("{nope", 400, "Invalid JSON Patch", id="a body that is not JSON is a 400"),
        pytest.param("null", 400, "Invalid JSON Patch", id="a null patch is a 400"),
        pytest.param('"x"', 400, "Invalid JSON Patch", id="a string patch is a 400"),
        pytest.param(
            "[1]",
            422,
            'is invalid: patch: Invalid value: "[1]": json: cannot unmarshal array',
            id="an array patch replaces the object and fails to decode with a 422",
        ),
    ],
)
def test_merge_patches_that_cannot_make_an_object(body: str, code: int, message: str) -> None:
    with pytest.raises(PatchError) as info:
        apply_patch(POD, body, MERGE_PATCH, "Pod")
    assert info.value.code == code
    assert message in info.value.message


# ---- properties ----------------------------------------------------------------------------

scalars = st.booleans() | st.integers(-3, 3) | st.sampled_from(["x", "y", ""])
json_values = st.recursive(
    scalars | st.none(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=12,
)
# Documents a merge patch can reach: no null member in any object (null means "remove").
reachable = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner | st.none(), max_size=3)
        | st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from("abcd"), reachable, max_size=4)


@given(objects, objects)
def test_applying_the_diff_generated_patch_yields_the_target(
    original: dict[str, Any], target: dict[str, Any]
) -> None:
    assert merge_patch(original, create_merge_patch(original, target)) == target


@given(json_values, json_values)
def test_a_merge_patch_is_idempotent(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@given(objects)
def test_the_patch_between_equal_documents_is_empty(doc: dict[str, Any]) -> None:
    assert create_merge_patch(doc, doc) == {}
