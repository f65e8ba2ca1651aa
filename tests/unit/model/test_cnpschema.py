"""The ClusterNetworkPolicy schema is the CRD's, and its CEL rules mean what CEL says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from podwall.model.cnpschema import CEL, OBJECT, SPEC, is_cidr

CRD = (
    Path(__file__).parents[2]
    / "fixtures"
    / "cnp"
    / "policy.networking.k8s.io_clusternetworkpolicies.yaml"
)


def _without_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_without_descriptions(v) for v in value]
    return value


def _crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha2"
    return _without_descriptions(version["schema"]["openAPIV3Schema"])  # type: ignore[no-any-return]


def test_the_spec_schema_is_the_crds_without_descriptions() -> None:
    assert _crd_schema()["properties"]["spec"] == SPEC


def test_the_object_requires_what_the_crd_requires() -> None:
    crd = _crd_schema()
    assert crd["required"] == OBJECT["required"]
    assert set(crd["properties"]) == set(OBJECT["properties"])


def _rules(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {r["rule"] for r in value.get("x-kubernetes-validations", ())}
        return found.union(*(_rules(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_rules(v) for v in value))
    return set()


def test_every_cel_rule_of_the_crd_has_a_meaning() -> None:
    assert _rules(_crd_schema()["properties"]["spec"]) == set(CEL)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("10.0.0.0/8", True),
        ("10.0.0.1/8", True),  # netip.ParsePrefix keeps host bits
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("fd00::/8", True),
        ("10.0.0.0", False),
        ("10.0.0.0/33", False),
        ("010.0.0.0/8", False),  # no leading zeros in IPv4
        ("10.0.0.0/08", False),
        ("::ffff:10.0.0.0/104", False),  # IPv4-mapped IPv6 is refused
        ("fe80::1%eth0/64", False),
        ("10.0.0.0/-1", False),
        ("example.com/8", False),
    ],
)
def test_is_cidr_follows_the_kubernetes_cel_library(text: str, valid: bool) -> None:
    assert is_cidr(text) is valid


@pytest.mark.parametrize(
    ("rule_value", "ok"),
    [
        (
            {"to": [{"networks": ["10.0.0.0/8"]}], "protocols": [{"destinationNamedPort": "web"}]},
            False,
        ),
        ({"to": [{"nodes": {}}], "protocols": [{"destinationNamedPort": "web"}]}, False),
        ({"to": [{"namespaces": {}}], "protocols": [{"destinationNamedPort": "web"}]}, True),
        ({"to": [{"networks": ["10.0.0.0/8"]}], "protocols": [{"tcp": {}}]}, True),
        ({"to": [{"networks": ["10.0.0.0/8"]}]}, True),
    ],
)
def test_named_ports_are_refused_with_address_peers(rule_value: dict[str, Any], ok: bool) -> None:
    (rule,) = [r for r in CEL if r.startswith("!(self.to")]
    assert CEL[rule](rule_value) is ok
