"""The upstream schemas, turned back into OpenAPI's shape."""

from __future__ import annotations

import json

import pytest

from podwall.apiserver import schemas
from podwall.apiserver.resources import RESOURCES


@pytest.mark.parametrize("resource", [r for r in RESOURCES if not r.custom], ids=lambda r: r.key)
def test_every_built_in_kind_has_its_upstream_schema(resource: object) -> None:
    r = resource
    name = schemas.name_for(r.group, r.version, r.kind)  # type: ignore[attr-defined]
    assert name is not None
    schema = schemas.definitions()[name]
    assert schema["description"]
    assert {"metadata", "apiVersion", "kind"} <= set(schema["properties"])


def test_optional_fields_are_plain_openapi_types_without_null() -> None:
    text = json.dumps(schemas.definitions())
    assert '"null"' not in text
    assert "#/$defs/" not in text


def test_a_reference_with_a_description_is_wrapped_in_all_of_as_upstream() -> None:
    spec = schemas.definitions()["io.k8s.api.networking.v1.NetworkPolicy"]["properties"]["spec"]
    assert spec["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.networking.v1.NetworkPolicySpec"}
    ]
    assert schemas.ref_name(spec) == "io.k8s.api.networking.v1.NetworkPolicySpec"
    assert spec["description"].startswith("spec represents the specification")


def test_patch_strategies_and_kind_enums() -> None:
    defs = schemas.definitions()
    containers = defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert "enum" not in defs["io.k8s.api.core.v1.Pod"]["properties"]["kind"]
    assert defs[schemas.INT_OR_STRING]["format"] == "int-or-string"


def test_closure_reaches_everything_a_kind_references() -> None:
    names = schemas.closure(["io.k8s.api.networking.v1.NetworkPolicy"])
    assert "io.k8s.api.networking.v1.NetworkPolicyPeer" in names
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in names
    assert "io.k8s.api.core.v1.Pod" not in names
