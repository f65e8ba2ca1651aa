"""The AdminNetworkPolicy and BaselineAdminNetworkPolicy schemas are the v0.1.7 CRDs', and their
CEL rules mean what CEL says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from podwall.model.anpschema import ANP_OBJECT, ANP_SPEC, BANP_OBJECT, BANP_SPEC, CEL
from podwall.model.openapischema import Schema

FIXTURES = Path(__file__).parents[2] / "fixtures" / "anp"
CRDS = {
    "anp": (FIXTURES / "policy.networking.k8s.io_adminnetworkpolicies.yaml", ANP_SPEC, ANP_OBJECT),
    "banp": (
        FIXTURES / "policy.networking.k8s.io_baselineadminnetworkpolicies.yaml",
        BANP_SPEC,
        BANP_OBJECT,
    ),
}


def _without_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_without_descriptions(v) for v in value]
    return value


def _crd_schema(path: Path) -> dict[str, Any]:
    crd = yaml.safe_load(path.read_text())
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1"
    return _without_descriptions(version["schema"]["openAPIV3Schema"])  # type: ignore[no-any-return]


def _rules(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {r["rule"] for r in value.get("x-kubernetes-validations", ())}
        return found.union(*(_rules(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_rules(v) for v in value))
    return set()


@pytest.mark.parametrize("kind", list(CRDS))
def test_the_spec_schema_is_the_crds_without_descriptions(kind: str) -> None:
    path, spec, _ = CRDS[kind]
    assert _crd_schema(path)["properties"]["spec"] == spec


@pytest.mark.parametrize("kind", list(CRDS))
def test_the_object_requires_and_checks_what_the_crd_does(kind: str) -> None:
    path, _, obj = CRDS[kind]
    crd = _crd_schema(path)
    assert crd["required"] == obj["required"]
    assert set(crd["properties"]) == set(obj["properties"])
    assert crd.get("x-kubernetes-validations") == obj.get("x-kubernetes-validations")


def test_every_cel_rule_of_the_crds_has_a_meaning() -> None:
    found: set[str] = set()
    for path, _, _ in CRDS.values():
        crd = _crd_schema(path)
        found |= _rules(crd["properties"]["spec"]) | _rules(
            {"x-kubernetes-validations": crd.get("x-kubernetes-validations", [])}
        )
    assert found == set(CEL)


def _rule_of(schema: Schema, text: str) -> str:
    (rule,) = (r["rule"] for r in _rule_list(schema) if text in r["rule"])
    return rule


def _rule_list(value: Any) -> list[dict[str, str]]:
    if isinstance(value, dict):
        out = list(value.get("x-kubernetes-validations", ()))
        for v in value.values():
            out += _rule_list(v)
        return out
    if isinstance(value, list):
        return [r for v in value for r in _rule_list(v)]
    return []


@pytest.mark.parametrize(
    ("kind", "rule", "value", "holds"),
    [
        pytest.param("anp", "namedPort", {"to": [{"pods": {}}], "ports": [{"namedPort": "w"}]},
                     True, id="anp-named-port-to-pods"),
        pytest.param("anp", "namedPort", {"to": [{"networks": []}], "ports": [{"namedPort": "w"}]},
                     False, id="anp-named-port-to-networks"),
        pytest.param("anp", "namedPort", {"to": [{"domainNames": []}],
                     "ports": [{"namedPort": "w"}]}, False, id="anp-named-port-to-domain-names"),
        pytest.param("anp", "namedPort", {"to": [{"nodes": {}}],
                     "ports": [{"portNumber": {"port": 1}}]}, True, id="anp-number-to-nodes"),
        pytest.param("banp", "namedPort", {"to": [{"nodes": {}}], "ports": [{"namedPort": "w"}]},
                     False, id="banp-named-port-to-nodes"),
        pytest.param("banp", "namedPort", {"to": [{"domainNames": []}],
                     "ports": [{"namedPort": "w"}]}, True,
                     id="banp-rule-does-not-know-domain-names"),
        pytest.param("banp", "metadata.name", {"metadata": {"name": "default"}}, True,
                     id="banp-named-default"),
        pytest.param("banp", "metadata.name", {"metadata": {"name": "other"}}, False,
                     id="banp-named-other"),
    ],
)  # fmt: skip
def test_cel_rules(kind: str, rule: str, value: dict[str, Any], holds: bool) -> None:
    _, _, obj = CRDS[kind]
    assert CEL[_rule_of(obj, rule)](value) is holds
