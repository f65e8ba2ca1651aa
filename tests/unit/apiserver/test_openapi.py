"""The OpenAPI documents: what kubectl apply and kubectl explain read."""

from __future__ import annotations

import json

import pytest

from podwall.apiserver import openapi
from podwall.apiserver.resources import GROUP_VERSIONS, in_group_version


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@pytest.mark.parametrize(("group", "version"), GROUP_VERSIONS, ids=lambda v: v or "core")
def test_each_group_version_carries_the_schemas_of_its_kinds_and_their_references(
    group: str, version: str
) -> None:
    doc = openapi.document_for(_key(group, version))
    assert doc is not None
    components = json.loads(doc)["components"]["schemas"]
    kinds = {
        gvk["kind"]
        for schema in components.values()
        for gvk in schema.get("x-kubernetes-group-version-kind", [])
        if (gvk["group"], gvk["version"]) == (group, version)
    }
    assert {r.kind for r in in_group_version(group, version)} <= kinds
    refs = {ref.removeprefix("#/components/schemas/") for ref in _refs(components)}
    assert refs <= set(components), "every reference resolves inside the document"


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        # A string: JSONSchemaProps (the CRD kind's schema) has a property named "$ref".
        found = [v for k, v in node.items() if k == "$ref" and isinstance(v, str)]
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_explain_finds_descriptions_down_the_field_path() -> None:
    doc = json.loads(openapi.document_for("apis/networking.k8s.io/v1") or b"{}")
    spec = doc["components"]["schemas"]["io.k8s.api.networking.v1.NetworkPolicySpec"]
    assert spec["properties"]["ingress"]["description"].startswith("ingress is a list")
