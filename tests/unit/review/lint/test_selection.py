"""PW001 policy-selects-nothing and PW002 peer-selects-nothing."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

SELECTS = [
    Case("a label no pod has", policy("p", "x", "podSelector: {matchLabels: {app: nope}}"),
         (("spec.podSelector", "podSelector {app: nope} matches no pod in namespace x"),)),
    Case("a namespace without pods", policy("p", "z", "podSelector: {}"),
         (("spec.podSelector", "namespace z has no pods in the manifests given"),)),
    Case("only a host-network pod, which policy does not govern",
         policy("p", "y", "podSelector: {matchLabels: {app: host}}"),
         (("spec.podSelector", "selects no pod"),)),
    Case("the empty selector selects every pod of the namespace", policy("p", "x", "podSelector: {}")),
    Case("a label pods have", policy("p", "x", "podSelector: {matchLabels: {app: a}}")),
]  # fmt: skip

PEERS = [
    Case("a podSelector no pod of the namespace matches",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: nope}}}]}]"),
         (("spec.ingress[0].from[0]", "no pod of namespace x has those labels"),)),
    Case("a namespaceSelector no namespace matches",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: green}}}]}]"),
         (("spec.ingress[0].from[0]", "no namespace has those labels"),)),
    Case("both selectors, no pod in the namespaces selected",
         policy("p", "x", "podSelector: {}\negress: [{to: [{namespaceSelector: {matchLabels: {team: red}}, podSelector: {matchLabels: {tier: db}}}]}]"),
         (("spec.egress[0].to[0]", "no pod matches in namespace(s) x"),)),
    Case("the empty namespaceSelector selects every pod",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]")),
    Case("an ipBlock is not a selector",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]")),
    Case("a podSelector a pod matches",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]")),
    Case("a split peer is PW005's, not reported twice",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}, {podSelector: {matchLabels: {tier: db}}}]}]")),
]  # fmt: skip


@pytest.mark.parametrize("case", SELECTS, ids=lambda c: c.id)
def test_policy_selects_nothing(case: Case) -> None:
    assert_case("PW001", case)


@pytest.mark.parametrize("case", PEERS, ids=lambda c: c.id)
def test_peer_selects_nothing(case: Case) -> None:
    assert_case("PW002", case)
