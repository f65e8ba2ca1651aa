"""PW003 named-port-undeclared."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

A = "podSelector: {matchLabels: {app: a}}\n"
CASES = [
    Case("an ingress port no selected pod declares",
         policy("p", "x", A + "ingress: [{ports: [{port: nope}]}]"),
         (("spec.ingress[0].ports[0].port", 'named port "nope" (TCP) is declared by no pod this policy selects'),)),
    Case("declared with another protocol",
         policy("p", "x", A + "ingress: [{ports: [{port: dns}]}]"),
         (("spec.ingress[0].ports[0].port", "(x/a declares it for UDP)"),)),
    Case("an egress port the peers' pods do not declare",
         policy("p", "x", A + "egress: [{to: [{namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: http}]}]"),
         (("spec.egress[0].ports[0].port", "no pod the rule's peers select"),)),
    Case("an ingress port the selected pod declares",
         policy("p", "x", A + "ingress: [{ports: [{port: http}]}]")),
    Case("the protocol it is declared with",
         policy("p", "x", A + "ingress: [{ports: [{port: dns, protocol: UDP}]}]")),
    Case("an egress port a peer's pod declares (x/b: http 8080)",
         policy("p", "x", A + "egress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: http}]}]")),
    Case("a number is not a name", policy("p", "x", A + "ingress: [{ports: [{port: 9999}]}]")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_named_port_undeclared(case: Case) -> None:
    assert_case("PW003", case)
