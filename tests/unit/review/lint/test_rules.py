"""PW008 ignored-rules and PW009 unsaid-default-deny."""

from __future__ import annotations

import pytest

from tests.unit.review.lint.cases import Case, assert_case, policy

A = "podSelector: {matchLabels: {app: a}}\n"
IN = "ingress: [{from: [{podSelector: {}}]}]\n"
OUT = "egress: [{to: [{podSelector: {}}]}]\n"
IGNORED = [
    Case("ingress rules under policyTypes [Egress]",
         policy("p", "x", A + "policyTypes: [Egress]\n" + IN + OUT),
         (("spec.ingress", "1 ingress rule(s) are ignored: policyTypes is [Egress]"),)),
    Case("egress rules under policyTypes [Ingress]",
         policy("p", "x", A + "policyTypes: [Ingress]\n" + IN + OUT),
         (("spec.egress", "1 egress rule(s) are ignored"),)),
    Case("both directions listed", policy("p", "x", A + "policyTypes: [Ingress, Egress]\n" + IN + OUT)),
    Case("policyTypes left to its default", policy("p", "x", A + IN + OUT)),
]  # fmt: skip

UNSAID = [
    Case("egress rules and no policyTypes: all ingress denied too",
         policy("p", "x", A + OUT),
         (("spec", "policyTypes is not set, so it defaults to [Ingress, Egress], a default deny for ingress"),)),
    Case("Egress listed with ingress rules only",
         policy("p", "x", A + "policyTypes: [Ingress, Egress]\n" + IN),
         (("spec.policyTypes", "isolates its pods for egress and allows no egress"),)),
    Case("no policyTypes, no rules, a name that does not say deny",
         policy("web", "x", A), (("spec", "a default deny for ingress"),)),
    Case("the documented default-deny shape", policy("web", "x", A + "policyTypes: [Ingress, Egress]")),
    Case("a name that says deny", policy("default-deny", "x", A)),
    Case("rules for every direction it lists", policy("p", "x", A + "policyTypes: [Ingress]\n" + IN)),
    Case("a policy that selects nothing is PW001's",
         policy("web", "x", "podSelector: {matchLabels: {app: nope}}\n" + OUT)),
]  # fmt: skip


@pytest.mark.parametrize("case", IGNORED, ids=lambda c: c.id)
def test_ignored_rules(case: Case) -> None:
    assert_case("PW008", case)


@pytest.mark.parametrize("case", UNSAID, ids=lambda c: c.id)
def test_unsaid_default_deny(case: Case) -> None:
    assert_case("PW009", case)
