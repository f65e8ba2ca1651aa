"""`podwall lint` over the upstream conformance scenarios: no finding where they are correct
as written, and exactly the findings below where they are not, each for a stated reason.

The upstream tests deliberately write some things a reviewer should question: ipBlocks over
pod addresses, policies whose selectors match only after a later step relabels a pod or a
namespace, stacked policies where one rule adds nothing, and (since upstream dropped its DNS
rules and probes by address) egress allow-lists without DNS. The `legacy-*-with-dns` variants
keep the DNS rule, and are clean of PW004.
"""

from __future__ import annotations

import pytest

from podwall.model.convert import cluster
from podwall.model.rawobject import RawObject
from podwall.review.lint.registry import lint
from tests.conformance.scenario import Scenario, Step, load_all

Expected = tuple[str, int, str, str, str]  # scenario, step, check, policy, field path

CIDR = "x/allow-client-a-via-cidr-egress-rule"
IP_BLOCK = "spec.egress[0].to[0].ipBlock"
EXPECTED: tuple[Expected, ...] = (
    # PW007: the ipBlock is a pod's address (or a block over the pod network); the API calls
    # ipBlocks cluster-external, and CNIs differ on whether pod traffic matches them.
    ("egress-to-server-in-cidr-block", 1, "PW007", CIDR, IP_BLOCK),
    ("except-clause-egress-cidr-block", 1, "PW007", CIDR, IP_BLOCK),
    ("ip-overlapping-cidr-and-except-allowed", 1, "PW007", CIDR, IP_BLOCK),
    ("ip-overlapping-cidr-and-except-allowed", 2, "PW007", CIDR, IP_BLOCK),
    ("legacy-egress-to-server-in-cidr-block-with-dns", 1, "PW007", CIDR, IP_BLOCK),
    ("legacy-except-clause-egress-cidr-block-with-dns", 1, "PW007", CIDR, IP_BLOCK),
    ("legacy-ip-overlapping-cidr-and-except-with-dns", 1, "PW007", CIDR, IP_BLOCK),
    ("legacy-ip-overlapping-cidr-and-except-with-dns", 2, "PW007", CIDR, IP_BLOCK),
    # PW004: egress allow-lists without DNS; upstream probes by address since it dropped
    # the DNS rule that its legacy variants keep.
    ("egress-to-server-in-cidr-block", 1, "PW004", CIDR, "spec.egress"),
    ("except-clause-egress-cidr-block", 1, "PW004", CIDR, "spec.egress"),
    ("ip-overlapping-cidr-and-except-allowed", 1, "PW004", CIDR, "spec.egress"),
    ("ip-overlapping-cidr-and-except-allowed", 2, "PW004", CIDR, "spec.egress"),
    ("ingress-egress-specified-together", 1, "PW004", "x/allow-client-a-via-pod-selector",
     "spec.egress"),
    ("allow-egress-on-one-named-port", 1, "PW004", "x/allow-egress", "spec.egress"),
    ("multiple-egress-policies-allow-all-precedence", 1, "PW004", "x/allow-egress-port-80",
     "spec.egress"),
    ("deny-egress-on-client-side", 1, "PW004", "x/allow-to-ns-y-pod-a", "spec.egress"),
    ("egress-to-server-in-different-namespace", 1, "PW004", "x/allow-to-ns-y-pod-a",
     "spec.egress"),
    # PW001/PW002: the selector matches only after step 2 relabels a namespace or a pod.
    ("allow-ingress-from-updated-namespace", 1, "PW002", "x/allow-client-a-via-ns-selector",
     "spec.ingress[0].from[0]"),
    ("allow-ingress-from-updated-pod", 1, "PW002", "x/allow-client-a-via-pod-selector",
     "spec.ingress[0].from[0]"),
    ("deny-ingress-access-to-updated-pod", 1, "PW001", "x/deny-ingress-via-label-selector",
     "spec.podSelector"),
    # PW006: the test's point is that a broader policy makes the narrower one add nothing.
    ("legacy-multiple-egress-policies-named-port-with-dns", 2, "PW006", "x/allow-egress-port-80",
     "spec.egress[0]"),
    ("multiple-egress-policies-allow-all-precedence", 2, "PW006", "x/allow-egress-port-80",
     "spec.egress[0]"),
    ("legacy-multiple-ingress-policies-named-port", 2, "PW006", "x/allow-ingress-port-80",
     "spec.ingress[0]"),
    ("multiple-ingress-policies-allow-all-precedence", 2, "PW006", "x/allow-ingress-port-80",
     "spec.ingress[0]"),
)  # fmt: skip

STEPS = [(s, step) for s in load_all() for step in s.steps]


def _found(step: Step) -> set[tuple[str, str, str]]:
    snapshot = cluster(RawObject(body=m) for m in step.manifests).cluster
    return {
        (f.check, f.obj.removeprefix("NetworkPolicy "), f.path) for f in lint(snapshot).findings
    }


@pytest.mark.parametrize(
    ("scenario", "step"), STEPS, ids=[f"{s.slug}-{step.number}" for s, step in STEPS]
)
def test_lint_on_the_conformance_scenarios(scenario: Scenario, step: Step) -> None:
    expected = {e[2:] for e in EXPECTED if e[:2] == (scenario.slug, step.number)}
    assert _found(step) == expected


def test_most_scenario_steps_are_clean_and_every_expectation_names_a_step() -> None:
    known = {(s.slug, step.number) for s, step in STEPS}
    assert {e[:2] for e in EXPECTED} <= known
    clean = [key for key in known if key not in {e[:2] for e in EXPECTED}]
    assert len(clean) > len(known) * 2 // 3
