"""PW006 shadowed-rule."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

A = "podSelector: {matchLabels: {app: a}}\n"
FROM_B = "{from: [{podSelector: {matchLabels: {app: b}}}]"
CASES = [
    Case("a rule after one that allows everything",
         policy("p", "x", A + f"ingress: [{{}}, {FROM_B}, ports: [{{port: 80}}]}}]"),
         (("spec.ingress[1]", "adds nothing: this policy's ingress[0] already allows"),)),
    Case("two identical rules: the later one",
         policy("p", "x", A + f"ingress: [{FROM_B}}}, {FROM_B}}}]"),
         (("spec.ingress[1]", "this policy's ingress[0]"),)),
    Case("a port inside another rule's range",
         policy("p", "x", A + f"ingress: [{FROM_B}, ports: [{{port: 80, endPort: 90}}]}}, {FROM_B}, ports: [{{port: 85}}]}}]"),
         (("spec.ingress[1]", "adds nothing"),)),
    Case("a rule of another policy that applies to all the pods this one does",
         policy("all", "x", "podSelector: {}\ningress: [{}]") + policy("p", "x", A + f"ingress: [{FROM_B}}}]"),
         (("spec.ingress[0]", "x/all's ingress[0]"),)),
    Case("an ipBlock inside another's, outside its excepts",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}, {to: [{ipBlock: {cidr: 10.2.0.0/16}}]}]"),
         (("spec.egress[1]", "adds nothing"),)),
    Case("an ipBlock that reaches into another's except",
         policy("p", "x", A + "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}, {to: [{ipBlock: {cidr: 10.1.2.0/24}}]}]")),
    Case("different ports", policy("p", "x", A + f"ingress: [{FROM_B}, ports: [{{port: 80}}]}}, {FROM_B}, ports: [{{port: 81}}]}}]")),
    Case("another protocol", policy("p", "x", A + f"ingress: [{FROM_B}, ports: [{{port: 80}}]}}, {FROM_B}, ports: [{{port: 80, protocol: UDP}}]}}]")),
    Case("another policy that does not apply to all of this one's pods",
         policy("b-only", "x", "podSelector: {matchLabels: {app: b}}\ningress: [{}]") + policy("p", "x", A + f"ingress: [{FROM_B}}}]")),
    Case("order does not matter: a narrower rule before a broader one",
         policy("p", "x", A + f"ingress: [{FROM_B}, ports: [{{port: 80}}]}}, {{}}]"),
         (("spec.ingress[0]", "this policy's ingress[1]"),)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_shadowed_rule(case: Case) -> None:
    assert_case("PW006", case)
