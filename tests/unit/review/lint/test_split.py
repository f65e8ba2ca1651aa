"""PW005 split-peer: the indentation mistake, and the intended OR it must not report."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

P = "podSelector: {}\n"
BLUE = "{namespaceSelector: {matchLabels: {team: blue}}}"
CASES = [
    Case("pods labelled tier=db exist only in the namespaces selected",
         policy("p", "x", P + f"ingress: [{{from: [{BLUE}, {{podSelector: {{matchLabels: {{tier: db}}}}}}]}}]"),
         (("spec.ingress[0].from[1]", "if one peer was meant (namespaceSelector {team: blue} and podSelector {tier: db})"),)),
    Case("the other order, in egress",
         policy("p", "x", P + f"egress: [{{to: [{{podSelector: {{matchLabels: {{tier: db}}}}}}, {BLUE}]}}]"),
         (("spec.egress[0].to[1]", "to[0] and to[1] are two peers"),)),
    Case("no pods given: the shape alone",
         policy("p", "x", P + f"ingress: [{{from: [{BLUE}, {{podSelector: {{matchLabels: {{tier: db}}}}}}]}}]"),
         (("spec.ingress[0].from[1]", "are two peers"),), base=""),
    Case("the podSelector item matches pods of its own namespace: an intended OR",
         policy("p", "x", P + f"ingress: [{{from: [{BLUE}, {{podSelector: {{matchLabels: {{app: b}}}}}}]}}]")),
    Case("one item with both selectors",
         policy("p", "x", P + "ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {tier: db}}}]}]")),
    Case("not adjacent",
         policy("p", "x", P + f"ingress: [{{from: [{BLUE}, {{ipBlock: {{cidr: 203.0.113.0/24}}}}, {{podSelector: {{matchLabels: {{tier: db}}}}}}]}}]")),
    Case("together they would select nothing either",
         policy("p", "x", P + f"ingress: [{{from: [{BLUE}, {{podSelector: {{matchLabels: {{tier: web}}}}}}]}}]")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_split_peer(case: Case) -> None:
    assert_case("PW005", case)
