"""`/openapi/v2`: the upstream definitions of every served kind, in the shape kubectl parses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podwall.apiserver import openapi, openapiv2, schemas
from podwall.apiserver.resources import RESOURCES, Resource

DEFS = openapiv2.definitions()


def _schemas(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema inside a definition, with where it sits."""
    yield path, node
    for name, prop in node.get("properties", {}).items():
        yield from _schemas(prop, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _schemas(node[key], f"{path}.{key}")


ALL = [(where, s) for name, d in DEFS.items() for where, s in _schemas(d, name)]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.kind} {r.group_version}")
def test_every_served_kind_and_its_list_have_a_definition_with_their_gvk(
    resource: Resource,
) -> None:
    lists = [f"{resource.kind}List"] if "list" in resource.verbs else []  # reviews have none
    for kind in (resource.kind, *lists):
        name = openapi.schema_name(resource, kind)
        assert name in DEFS, f"{kind} has no definition"
        gvk = {"group": resource.group, "version": resource.version, "kind": kind}
        assert gvk in DEFS[name]["x-kubernetes-group-version-kind"]


def test_every_reference_resolves_inside_the_document() -> None:
    text = json.dumps(openapiv2.document())
    assert "#/components/" not in text
    refs = [s["$ref"] for _, s in ALL if "$ref" in s]
    refs += [
        p["schema"]["$ref"]
        for item in openapiv2.paths().values()
        for op in (item.get("post"), item.get("patch"))
        if op
        for p in op["parameters"]
        if "schema" in p
    ]
    assert refs
    assert {r.removeprefix("#/definitions/") for r in refs} <= set(DEFS)


def test_every_schema_is_one_kube_openapi_can_parse() -> None:
    # kube-openapi's proto.NewOpenAPIData: one type at most, arrays with exactly one item
    # schema, no v3 wrappers; any of these would fail every kubectl command that reads v2.
    for where, schema in ALL:
        assert isinstance(schema.get("type", ""), str), where
        assert not {"oneOf", "anyOf", "nullable"} & set(schema), where
        assert "allOf" not in schema, where
        if schema.get("type") == "array":
            assert isinstance(schema.get("items"), dict), where


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.kind} {r.group_version}")
def test_each_kind_has_the_operations_of_its_verbs(resource: Resource) -> None:
    actions = {
        op["x-kubernetes-action"]
        for item in openapiv2.paths().values()
        for op in (item.get("post"), item.get("patch"))
        if op and op["x-kubernetes-group-version-kind"]["kind"] == resource.kind
    }
    verbs = {"post": "create", "patch": "patch"}
    assert actions == {a for a, verb in verbs.items() if verb in resource.verbs}


@pytest.mark.parametrize(
    "resource", [r for r in RESOURCES if "patch" in r.verbs], ids=lambda r: r.key
)
def test_only_built_in_kinds_take_a_strategic_merge_patch(resource: Resource) -> None:
    # kubectl's client-side apply picks its patch type from `consumes`: a custom resource
    # offering a strategic merge patch would get one, and the 415 that answers it.
    (consumes,) = [
        item["patch"]["consumes"]
        for item in openapiv2.paths().values()
        if "patch" in item
        and item["patch"]["x-kubernetes-group-version-kind"]
        == {"group": resource.group, "kind": resource.kind, "version": resource.version}
    ]
    assert ("application/strategic-merge-patch+json" in consumes) is not resource.custom
    assert "application/merge-patch+json" in consumes


def test_a_reference_keeps_its_description_beside_it() -> None:
    spec = DEFS["io.k8s.api.networking.v1.NetworkPolicySpec"]["properties"]["podSelector"]
    assert spec["$ref"] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
    assert spec["description"].startswith("podSelector selects the pods")


def test_descriptions_are_upstreams_as_in_v3() -> None:
    v3 = openapi.group_version_schemas("networking.k8s.io", "v1")
    name = "io.k8s.api.networking.v1.NetworkPolicySpec"
    for field, prop in v3[name]["properties"].items():
        assert DEFS[name]["properties"][field]["description"] == prop["description"]


@pytest.mark.parametrize(
    "name",
    [schemas.INT_OR_STRING, schemas.QUANTITY],
    ids=["IntOrString", "Quantity"],
)
def test_int_or_string_and_quantity_are_strings_again(name: str) -> None:
    assert DEFS[name]["type"] == "string"
    if name == schemas.INT_OR_STRING:
        assert DEFS[name]["format"] == "int-or-string"


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", openapiv2.PROTOBUF),
        ("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", openapiv2.PROTOBUF),
        ("application/json", openapiv2.JSON),
        ("", openapiv2.JSON),
        ("*/*", openapiv2.JSON),
        ("application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
         openapiv2.PROTOBUF),
        ("application/json;q=0, */*;q=0.1", openapiv2.JSON),
        ("text/html", None),
        ("application/yaml", None),
    ],
    ids=[
        "kubectl's protobuf",
        "the dotted protobuf",
        "json",
        "no accept",
        "anything",
        "by quality",
        "q=0 is not acceptable, */* still is",
        "html",
        "yaml",
    ],
)  # fmt: skip
def test_the_accept_header_chooses_the_representation(
    accept: str, content_type: str | None
) -> None:
    found = openapiv2.negotiate(accept)
    assert (found.content_type if found else None) == content_type


def test_each_representation_is_built_once_with_its_own_etag() -> None:
    pb, js = openapiv2.protobuf_document(), openapiv2.json_document()
    assert openapiv2.protobuf_document() is pb
    assert pb.etag != js.etag
    assert json.loads(js.body) == openapiv2.document()


@pytest.mark.parametrize(
    ("header", "current"),
    [("", False), ('"A"', True), ('"B", "A"', True), ('W/"A"', True), ("*", True), ('"B"', False)],
    ids=["none", "the same", "one of a list", "weak", "any", "another"],
)
def test_if_none_match(header: str, current: bool) -> None:
    assert openapiv2.matches('"A"', header) is current
