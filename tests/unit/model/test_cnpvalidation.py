"""ClusterNetworkPolicy validation: the CRD's words with field paths, and podwall's own two."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from podwall.model.cnpvalidation import unknown_fields, validate_cluster_network_policy

VALID = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: guardrails
spec:
  tier: Admin
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
    protocols:
    - tcp: {destinationPort: {number: 9090}}
    - udp: {destinationPort: {range: {start: 5000, end: 5010}}}
    - destinationNamedPort: metrics
  egress:
  - action: Deny
    to:
    - networks: [0.0.0.0/0, "::/0"]
    - nodes: {matchLabels: {kubernetes.io/os: linux}}
    - pods: {podSelector: {}}
"""
BLOCKED = (
    '<nil>: Invalid value: "null": some validation rules were not checked because the object '
    "was invalid; correct the existing errors to complete validation"
)


def _body(patch: str = "") -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load(VALID)
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


def _errors(patch: str) -> list[str]:
    return [e.render() for e in validate_cluster_network_policy(_body(patch))]


def test_a_valid_policy_has_no_error() -> None:
    assert validate_cluster_network_policy(_body()) == []
    assert unknown_fields(_body()) == []


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param(
            "apiVersion: policy.networking.k8s.io/v1alpha1",
            [
                'apiVersion: Invalid value: "policy.networking.k8s.io/v1alpha1": no matches for '
                'kind "ClusterNetworkPolicy" in version "policy.networking.k8s.io/v1alpha1" '
                "(podwall knows policy.networking.k8s.io/v1alpha2)"
            ],
            id="only v1alpha2 is served",
        ),
        pytest.param(
            "metadata.name: <delete>",
            ["metadata.name: Required value: name or generateName is required", BLOCKED],
            id="a name is required, and its absence blocks the CEL rules",
        ),
        pytest.param(
            "metadata.namespace: default", [], id="a namespace is dropped as kubectl does"
        ),
        pytest.param(
            "spec.tier: <delete>", ["spec.tier: Required value", BLOCKED], id="tier is required"
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
            "spec.subject: {}",
            [
                "spec.subject: Invalid value: 0: spec.subject in body should have at least 1 "
                "properties"
            ],
            id="a subject needs one field",
        ),
        pytest.param(
            "spec.ingress.0.action: Allow",
            [
                'spec.ingress[0].action: Unsupported value: "Allow": supported values: '
                '"Accept", "Deny", "Pass"',
                BLOCKED,
            ],
            id="actions are Accept, Deny and Pass",
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
            "spec.ingress.0.from: [{}]",
            [
                "spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body "
                "should have at least 1 properties"
            ],
            id="a peer needs one field",
        ),
        pytest.param(
            "spec.ingress.0.protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]",
            [
                'spec.ingress[0].protocols[0].tcp.destinationPort.range: Invalid value: "object": '
                "Start port must be less than End port"
            ],
            id="a range starts below its end (CEL)",
        ),
        pytest.param(
            "spec.ingress.0.protocols: [{tcp: {destinationPort: {number: 0}}}]",
            [
                "spec.ingress[0].protocols[0].tcp.destinationPort.number: Invalid value: 0: "
                "spec.ingress[0].protocols[0].tcp.destinationPort.number in body should be "
                "greater than or equal to 1"
            ],
            id="a port number is at least 1",
        ),
        pytest.param(
            "spec.ingress.0.protocols: [{tcp: {}}]",
            [
                "spec.ingress[0].protocols[0].tcp: Invalid value: 0: "
                "spec.ingress[0].protocols[0].tcp in body should have at least 1 properties"
            ],
            id="a protocol needs a destination port",
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
            "spec.egress.0.protocols: [{destinationNamedPort: web}]",
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
            "spec.subject: {namespaces: {matchExpressions: [{key: a, operator: Foo}]}}",
            [
                'spec.subject.namespaces.matchExpressions[0].operator: Invalid value: "Foo": '
                "not a valid selector operator"
            ],
            id="selectors are checked as they would be parsed",
        ),
        pytest.param(
            "spec.subject: {namespaces: {matchExpressions: [{key: a, operator: Foo}]}, pods: {}}",
            ["spec.subject: Too many: 2: must have at most 1 item", BLOCKED],
            id="a selector under a broken field is not checked again",
        ),
    ],
)
def test_errors_name_the_field_in_the_crds_words(patch: str, expected: list[str]) -> None:
    assert _errors(patch) == expected


def test_unknown_fields_are_found_in_the_spec_and_the_metadata() -> None:
    body = _body("spec.ingress.0.form: []\nmetadata.nmae: x")
    assert unknown_fields(body) == ["metadata.nmae", "spec.ingress[0].form"]


def test_a_document_that_is_not_an_object_is_one_error() -> None:
    assert [e.render() for e in validate_cluster_network_policy([])] == [  # type: ignore[arg-type]
        "<document>: Invalid value: []: must be an object"
    ]
