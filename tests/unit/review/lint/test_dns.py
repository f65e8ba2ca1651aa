"""PW004 egress-without-dns."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

A = "podSelector: {matchLabels: {app: a}}\npolicyTypes: [Egress]\n"
TO_B = "egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]"
DNS_POD = """
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: c, ports: [{name: dns, containerPort: 53, protocol: UDP}]}]}
status: {podIP: 198.18.9.9}
---
"""
TO_DNS = (
    "egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},"
    " podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: UDP, port: 53}]}]"
)
CASES = [
    Case("egress allowed to one pod only", policy("p", "x", A + TO_B),
         (("spec.egress", "isolates x/a for egress and no egress rule allows them DNS"),)),
    Case("the real DNS pods given, and no rule to them", DNS_POD + policy("p", "x", A + TO_B),
         (("spec.egress", "name lookups will fail"),)),
    Case("a rule to port 53 of an ipBlock that is not everywhere, over TCP only",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 10.0.0.10/32}}], ports: [{port: 53}]}]"),
         (("spec.egress", "name lookups will fail"),)),
    Case("UDP 53 to anywhere", policy("p", "x", A + "egress: [{ports: [{protocol: UDP, port: 53}]}]")),
    Case("UDP 53 to the assumed kube-dns pods", policy("p", "x", A + TO_DNS)),
    Case("UDP 53 to the DNS pods given", DNS_POD + policy("p", "x", A + TO_DNS)),
    Case("in another policy selecting the same pods",
         policy("p", "x", A + TO_B) + policy("dns", "x", A + TO_DNS)),
    Case("every address, every port", policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]")),
    Case("UDP 53 to a resolver by address",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 10.0.0.10/32}}], ports: [{protocol: UDP, port: 53}]}]")),
    Case("a deny of all egress is meant to deny DNS too", policy("p", "x", A)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_egress_without_dns(case: Case) -> None:
    assert_case("PW004", case)
