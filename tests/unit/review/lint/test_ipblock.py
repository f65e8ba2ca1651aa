"""PW007 ipblock-contains-cluster-addresses."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

A = "podSelector: {matchLabels: {app: a}}\npolicyTypes: [Egress]\n"
SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: y}
spec: {clusterIP: 198.19.0.10, selector: {app: a}, ports: [{port: 53, protocol: UDP}]}
---
"""
CASES = [
    Case("a block over the pod network",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.18.0.0/16}}]}]"),
         (("spec.egress[0].to[0].ipBlock", "contains the address of pod(s) x/a, x/b, y/a, y/b"),)),
    Case("a block over a Service's cluster IP",
         SERVICE + policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.19.0.0/24}}]}]"),
         (("spec.egress[0].to[0].ipBlock", "the cluster IP of service(s) y/dns"),)),
    Case("a block whose except leaves one pod in",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.18.0.0/16, except: [198.18.0.0/24]}}]}]"),
         (("spec.egress[0].to[0].ipBlock", "pod(s) y/a, y/b:"),)),
    Case("the same rule also selects those pods",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.18.0.0/16}}, {namespaceSelector: {}}]}]")),
    Case("a block outside the cluster", policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 203.0.113.0/24}}]}]")),
    Case("a host-network pod's (node) address is what an ipBlock is for",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.19.255.1/32}}]}]")),
    Case("excepting the pod network",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 198.18.0.0/15, except: [198.18.0.0/16]}}]}]")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_ipblock_contains_cluster_addresses(case: Case) -> None:
    assert_case("PW007", case)
