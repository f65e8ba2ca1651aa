"""AdminNetworkPolicy and BaselineAdminNetworkPolicy validation: the CRDs' words with field
paths, and podwall's own checks."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from podwall.model.anpvalidation import defaulted, unknown_fields, validate

ANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: guardrails
spec:
  priority: 10
  subject:
    pods:
      namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
  ingress:
  - name: pass-monitoring
    action: Pass
    from:
    - namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
    ports:
    - portNumber: {protocol: TCP, port: 9090}
    - portRange: {protocol: UDP, start: 5000, end: 5010}
    - namedPort: metrics
  egress:
  - action: Deny
    to:
    - networks: [0.0.0.0/0, "::/0"]
    - nodes: {matchLabels: {kubernetes.io/os: linux}}
    - pods: {namespaceSelector: {}, podSelector: {}}
"""
BANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
  ingress:
  - name: deny-all
    action: Deny
    from:
    - namespaces: {}
  egress:
  - action: Allow
    to:
    - networks: [10.0.0.0/8]
    ports:
    - portNumber: {port: 53, protocol: UDP}
"""
BLOCKED = (
    '<nil>: Invalid value: "null": some validation rules were not checked because the object '
    "was invalid; correct the existing errors to complete validation"
)
DOCS = {"AdminNetworkPolicy": ANP, "BaselineAdminNetworkPolicy": BANP}


def _body(kind: str, patch: str = "") -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load(DOCS[kind])
    for key, value in (yaml.safe_load(textwrap.dedent(patch)) or {}).items():
        target = body
        *parents, last = key.split(".")
        for step in parents:
            target = target[int(step)] if isinstance(target, list) else target[step]
        if value == "<delete>":
            del target[last]
        else:
            target[last] = value
    return body


@pytest.mark.parametrize("kind", list(DOCS))
def test_a_valid_policy_has_no_error(kind: str) -> None:
    assert validate(kind, _body(kind)) == []
    assert unknown_fields(kind, _body(kind)) == []


ANP_CASES = [
    pytest.param(
        "apiVersion: policy.networking.k8s.io/v1alpha2",
        [
            'apiVersion: Invalid value: "policy.networking.k8s.io/v1alpha2": no matches for '
            'kind "AdminNetworkPolicy" in version "policy.networking.k8s.io/v1alpha2" '
            "(podwall knows policy.networking.k8s.io/v1alpha1)"
        ],
        id="only v1alpha1 is served",
    ),
    pytest.param(
        "metadata.name: <delete>",
        ["metadata.name: Required value: name or generateName is required", BLOCKED],
        id="a name is required",
    ),
    pytest.param("metadata.namespace: default", [], id="a namespace is dropped as kubectl does"),
    pytest.param(
        "spec.priority: <delete>",
        ["spec.priority: Required value", BLOCKED],
        id="priority is required",
    ),
    pytest.param(
        "spec.priority: 1001",
        [
            "spec.priority: Invalid value: 1001: spec.priority in body should be less than "
            "or equal to 1000"
        ],
        id="priority is at most 1000",
    ),
    pytest.param(
        "spec.priority: -1",
        [
            "spec.priority: Invalid value: -1: spec.priority in body should be greater than "
            "or equal to 0"
        ],
        id="priority is at least 0",
    ),
    pytest.param(
        "spec.subject: {}",
        ["spec.subject: Invalid value: 0: spec.subject in body should have at least 1 properties"],
        id="a subject needs one field",
    ),
    pytest.param(
        "spec.subject: {pods: {podSelector: {}}}",
        ["spec.subject.pods.namespaceSelector: Required value", BLOCKED],
        id="a pods subject needs its namespaceSelector",
    ),
    pytest.param(
        "spec.ingress.0.action: Accept",
        [
            'spec.ingress[0].action: Unsupported value: "Accept": supported values: '
            '"Allow", "Deny", "Pass"',
            BLOCKED,
        ],
        id="actions are Allow, Deny and Pass",
    ),
    pytest.param(
        "spec.ingress.0.name: " + "n" * 101,
        ["spec.ingress[0].name: Too long: must have at most 100 bytes", BLOCKED],
        id="a rule name is at most 100 characters",
    ),
    pytest.param(
        "spec.ingress.0.from: []",
        [
            "spec.ingress[0].from: Invalid value: 0: spec.ingress[0].from in body should "
            "have at least 1 items"
        ],
        id="a rule needs a peer",
    ),
    pytest.param(
        "spec.ingress.0.from: [{nodes: {}}]",
        ["spec.ingress[0].from[0].nodes"],
        id="an ingress peer has no nodes field",
    ),
    pytest.param(
        "spec.ingress.0.ports: []",
        [
            "spec.ingress[0].ports: Invalid value: 0: spec.ingress[0].ports in body should "
            "have at least 1 items"
        ],
        id="ports when given are not empty",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portNumber: {port: 80}, namedPort: web}]",
        [
            "spec.ingress[0].ports[0]: Too many: 2: must have at most 1 item",
            BLOCKED,
        ],
        id="a port has one field",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portNumber: {port: 0}}]",
        [
            "spec.ingress[0].ports[0].portNumber.port: Invalid value: 0: "
            "spec.ingress[0].ports[0].portNumber.port in body should be greater than or equal "
            "to 1"
        ],
        id="a port number is at least 1",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portNumber: {port: 80}}]",
        [],
        id="a port's protocol defaults to TCP",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portNumber: {port: 80, protocol: ICMP}}]",
        [
            'spec.ingress[0].ports[0].portNumber.protocol: Unsupported value: "ICMP": '
            'supported values: "SCTP", "TCP", "UDP"'
        ],
        id="a protocol podwall cannot match is refused",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portRange: {start: 90, end: 80}}]",
        [
            'spec.ingress[0].ports[0].portRange: Invalid value: "object": Start port must be '
            "less than End port"
        ],
        id="a range starts below its end",
    ),
    pytest.param(
        "spec.ingress.0.ports: [{portRange: {start: 90}}]",
        ["spec.ingress[0].ports[0].portRange.end: Required value", BLOCKED],
        id="a range has an end",
    ),
    pytest.param(
        "spec.egress.0.to.0.networks: [10.0.0.0/8, 10.0.0.0/8, 10.0.0/8]",
        [
            'spec.egress[0].to[0].networks[1]: Duplicate value: "10.0.0.0/8"',
            'spec.egress[0].to[0].networks[2]: Invalid value: "string": Invalid CIDR format '
            "provided",
        ],
        id="networks are a set of CIDRs",
    ),
    pytest.param(
        "spec.egress.0.ports: [{namedPort: web}]",
        [
            'spec.egress[0]: Invalid value: "object": networks/nodes/domainNames peer '
            "cannot be set with namedPorts since there are no namedPorts for "
            "networks/nodes/domainNames"
        ],
        id="named ports are refused with address peers (CEL)",
    ),
    pytest.param(
        "spec.egress.0.to: [{domainNames: [example.com]}]",
        [
            "spec.egress[0].to[0].domainNames: Forbidden: not supported by podwall: a "
            "domainNames peer needs DNS-aware enforcement, which podwall does not implement; "
            "write the addresses as a networks peer instead"
        ],
        id="domainNames are valid but unsupported",
    ),
    pytest.param(
        "spec.egress.0.to: [{pods: {namespaceSelector: {matchExpressions: "
        "[{key: a, operator: Foo}]}, podSelector: {}}}]",
        [
            "spec.egress[0].to[0].pods.namespaceSelector.matchExpressions[0].operator: "
            'Invalid value: "Foo": not a valid selector operator'
        ],
        id="selectors are checked as they would be parsed",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), ANP_CASES)
def test_admin_network_policy_errors(patch: str, expected: list[str]) -> None:
    kind = "AdminNetworkPolicy"
    body = _body(kind, patch)
    found = [e.render() for e in validate(kind, body)] + unknown_fields(kind, body)
    assert found == expected


BANP_CASES = [
    pytest.param(
        "metadata.name: other",
        [
            '<nil>: Invalid value: "object": Only one baseline admin network policy with '
            'metadata.name="default" can be created in the cluster'
        ],
        id="the name must be default (CEL)",
    ),
    pytest.param(
        "spec.priority: 5", ["spec.priority"], id="there is no priority (an unknown field)"
    ),
    pytest.param(
        "spec.ingress.0.action: Pass",
        [
            'spec.ingress[0].action: Unsupported value: "Pass": supported values: "Allow", "Deny"',
            BLOCKED,
        ],
        id="actions are Allow and Deny",
    ),
    pytest.param(
        "spec.egress.0.to: [{domainNames: [example.com]}]",
        ["spec.egress[0].to[0].domainNames"],
        id="there are no domainNames peers (an unknown field)",
    ),
    pytest.param(
        "spec.egress.0.ports: [{namedPort: dns}]",
        [
            'spec.egress[0]: Invalid value: "object": networks/nodes peer cannot be set with '
            "namedPorts since there are no namedPorts for networks/nodes"
        ],
        id="named ports are refused with address peers (CEL)",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), BANP_CASES)
def test_baseline_admin_network_policy_errors(patch: str, expected: list[str]) -> None:
    kind = "BaselineAdminNetworkPolicy"
    body = _body(kind, patch)
    found = [e.render() for e in validate(kind, body)] + unknown_fields(kind, body)
    assert found == expected


def test_defaulting_fills_protocols_and_leaves_the_input_alone() -> None:
    body = _body("AdminNetworkPolicy", "spec.ingress.0.ports: [{portRange: {start: 1, end: 2}}]")
    out = defaulted(body)
    assert out["spec"]["ingress"][0]["ports"] == [
        {"portRange": {"start": 1, "end": 2, "protocol": "TCP"}}
    ]
    assert "protocol" not in body["spec"]["ingress"][0]["ports"][0]["portRange"]


def test_a_document_that_is_not_an_object_is_one_error() -> None:
    found = validate("AdminNetworkPolicy", [])  # type: ignore[arg-type]
    assert [e.render() for e in found] == ["<document>: Invalid value: []: must be an object"]
