"""decide() with ClusterNetworkPolicy tiers: one row per rule of the API, ids as sentences."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from podwall.engine import Status, decide
from podwall.engine.explain import full
from podwall.engine.tiers import in_tier
from podwall.model.clusterpolicy import Tier
from podwall.model.policy import Direction
from tests.builders import NODE, cluster_policy, make_cluster, policy, traffic

ALL_NS = "from: [{namespaces: {}}]"
TO_ALL_NS = "to: [{namespaces: {}}]"
X = "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}"
Y = "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}"
NP_DENY_X = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
NP_ALLOW_X = policy("allow", "x", "podSelector: {}\ningress: [{}]")


def admin(name: str, priority: int, rules: str, subject: str = X) -> str:
    return cluster_policy(name, "Admin", priority, f"{subject}\n{rules}")


def baseline(name: str, priority: int, rules: str, subject: str = X) -> str:
    return cluster_policy(name, "Baseline", priority, f"{subject}\n{rules}")


def ingress(action: str, peers: str = ALL_NS, extra: str = "") -> str:
    return f"ingress: [{{action: {action}, {peers}{extra}}}]"


@dataclass(frozen=True)
class Case:
    id: str
    objects: str
    src: str
    dst: str
    port: int
    allowed: bool
    status: Status  # of the side the case is about
    side: str = "ingress"
    reason: str = ""  # a phrase the full explanation must contain
    proto: str = "TCP"


CASES = [
    Case("an Admin Accept allows what a NetworkPolicy denies",
         NP_DENY_X + admin("a", 1, ingress("Accept")), "y/a", "x/a", 80, True,
         Status.ADMIN_ACCEPTED, reason="accepted by admin/a rule ingress[0]"),
    Case("an Admin Deny denies what a NetworkPolicy allows",
         NP_ALLOW_X + admin("a", 1, ingress("Deny")), "y/a", "x/a", 80, False,
         Status.ADMIN_DENIED, reason="denied by admin/a rule ingress[0]"),
    Case("a Pass hands the decision to the NetworkPolicy tier",
         NP_DENY_X + admin("a", 1, ingress("Pass")) + admin("b", 2, ingress("Accept")),
         "y/a", "x/a", 80, False, Status.DENIED,
         reason="passed by admin/a rule ingress[0] (priority 1: from[0]"),
    Case("a Pass skips the rest of its tier, later policies included",
         admin("a", 1, ingress("Pass")) + admin("b", 2, ingress("Deny")),
         "y/a", "x/a", 80, True, Status.NOT_ISOLATED, reason="allowed by default"),
    Case("a pod no NetworkPolicy selects goes on to the Baseline tier",
         admin("a", 1, ingress("Pass")) + baseline("b", 1, ingress("Deny")),
         "y/a", "x/a", 80, False, Status.BASELINE_DENIED, reason="denied by baseline/b"),
    Case("a Baseline Accept allows a pod no NetworkPolicy selects",
         baseline("b", 1, ingress("Accept")) + baseline("c", 2, ingress("Deny")),
         "y/a", "x/a", 80, True, Status.BASELINE_ACCEPTED, reason="accepted by baseline/b"),
    Case("a Baseline Pass ends in the default allow",
         baseline("b", 1, ingress("Pass")) + baseline("c", 2, ingress("Deny")),
         "y/a", "x/a", 80, True, Status.NOT_ISOLATED, reason="allowed by default"),
    Case("a NetworkPolicy's answer is final: Baseline never reopens an isolated pod",
         NP_DENY_X + baseline("b", 1, ingress("Accept")), "y/a", "x/a", 80, False,
         Status.DENIED),
    Case("a NetworkPolicy's answer is final: Baseline never closes an allowed pod",
         NP_ALLOW_X + baseline("b", 1, ingress("Deny")), "y/a", "x/a", 80, True,
         Status.ALLOWED),
    Case("a lower priority value is checked first",
         admin("late", 9, ingress("Accept")) + admin("early", 3, ingress("Deny")),
         "y/a", "x/a", 80, False, Status.ADMIN_DENIED, reason="admin/early"),
    Case("within a policy the first matching rule wins",
         admin("a", 1, f"ingress: [{{action: Accept, {ALL_NS}}}, {{action: Deny, {ALL_NS}}}]"),
         "y/a", "x/a", 80, True, Status.ADMIN_ACCEPTED),
    Case("a rule whose ports do not match is passed over",
         admin("a", 1, "ingress: [{action: Accept, from: [{namespaces: {}}], protocols: "
                       "[{udp: {destinationPort: {number: 80}}}]}, {action: Deny, "
                       "from: [{namespaces: {}}]}]"),
         "y/a", "x/a", 80, False, Status.ADMIN_DENIED, reason="UDP 80: protocol is not TCP"),
    Case("equal priorities are ordered by name",
         admin("b", 5, ingress("Accept")) + admin("a", 5, ingress("Deny")),
         "y/a", "x/a", 80, False, Status.ADMIN_DENIED, reason="admin/a"),
    Case("a port range includes both ends",
         admin("a", 1, ingress("Deny", extra=", protocols: [{tcp: {destinationPort: "
                                           "{range: {start: 70, end: 80}}}}]")),
         "y/a", "x/a", 80, False, Status.ADMIN_DENIED, reason="TCP 70-80"),
    Case("a named port resolves on the destination pod, in its own protocol",
         admin("a", 1, ingress("Deny", extra=", protocols: [{destinationNamedPort: dns}]")),
         "y/a", "x/a", 53, False, Status.ADMIN_DENIED, reason="named port dns (UDP 53)",
         proto="UDP"),
    Case("a named port does not match another protocol on the same number",
         admin("a", 1, ingress("Deny", extra=", protocols: [{destinationNamedPort: dns}]")),
         "y/a", "x/a", 53, True, Status.NOT_ISOLATED),
    Case("a pods peer needs both selectors to match",
         admin("a", 1, ingress("Deny", "from: [{pods: {namespaceSelector: {}, podSelector: "
                                       "{matchLabels: {app: b}}}}]")),
         "y/a", "x/a", 80, True, Status.NOT_ISOLATED,
         reason="does not match pod y/a"),
    Case("an empty peer in an Accept rule matches nothing (fail closed)",
         admin("a", 1, "ingress: [{action: Accept, from: [{}]}]") + NP_DENY_X,
         "y/a", "x/a", 80, False, Status.DENIED, reason="matches nothing"),
    Case("an empty peer in a Deny rule matches everything (fail closed)",
         admin("a", 1, "ingress: [{action: Deny, from: [{}]}]"),
         "y/a", "x/a", 80, False, Status.ADMIN_DENIED, reason="matches everything"),
    Case("a host-network pod is never a subject",
         admin("a", 1, ingress("Deny"), subject=Y), "x/a", "y/host", 80, True,
         Status.HOST_NETWORK),
    Case("a namespaces peer never matches a host-network pod",
         admin("a", 1, ingress("Deny")), "y/host", "x/a", 80, True, Status.NOT_ISOLATED,
         reason="never matches host-network pod y/host"),
    Case("a pod reaching its own address is not subject to the tiers",
         admin("a", 1, ingress("Deny")), "x/a", "x/a", 80, True, Status.SELF),
    Case("a policy with no rules for a direction does not take part in it",
         admin("a", 1, f"egress: [{{action: Deny, {TO_ALL_NS}}}]"), "y/a", "x/a", 80, True,
         Status.NOT_ISOLATED),
    Case("an egress Deny stops the source",
         admin("a", 1, f"egress: [{{action: Deny, {TO_ALL_NS}}}]"), "x/a", "y/a", 80, False,
         Status.ADMIN_DENIED, side="egress"),
    Case("an egress Accept still needs the destination's ingress",
         admin("a", 1, f"egress: [{{action: Accept, {TO_ALL_NS}}}]")
         + policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress]"),
         "x/a", "y/a", 80, False, Status.ADMIN_ACCEPTED, side="egress"),
    Case("a networks peer matches pod addresses too",
         admin("a", 1, "egress: [{action: Deny, to: [{networks: [198.18.1.0/24]}]}]"),
         "x/a", "y/b", 80, False, Status.ADMIN_DENIED, side="egress",
         reason="198.18.1.0/24 contains 198.18.1.2"),
    Case("a networks peer matches an address outside the cluster",
         admin("a", 1, "egress: [{action: Deny, to: [{networks: [203.0.113.0/24]}]}]"),
         "x/a", "203.0.113.9", 443, False, Status.ADMIN_DENIED, side="egress"),
    Case("a nodes peer matches the node's addresses, so its host-network pods",
         NODE + admin("a", 1, "egress: [{action: Deny, to: [{nodes: {matchLabels: "
                              "{role: worker}}}]}]"),
         "x/a", "y/host", 80, False, Status.ADMIN_DENIED, side="egress",
         reason="matches node n1 (198.19.255.1)"),
    Case("a nodes peer selects nodes by their labels",
         NODE + admin("a", 1, "egress: [{action: Deny, to: [{nodes: {matchLabels: "
                              "{role: db}}}]}]"),
         "x/a", "198.19.255.1", 80, True, Status.NOT_ISOLATED, side="egress"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide_with_tiers(case: Case) -> None:
    c = make_cluster(case.objects)
    decision = decide(c, traffic(c, case.src, case.dst, case.port, case.proto))
    text = "\n".join(full(decision))
    side = decision.ingress if case.side == "ingress" else decision.egress
    assert decision.allowed is case.allowed, text
    assert side.status is case.status, text
    assert case.reason in text


def test_policies_without_rules_for_a_direction_are_left_out_of_its_tier() -> None:
    c = make_cluster(
        admin("b", 2, ingress("Deny")) + admin("a", 2, ingress("Deny")) + admin("e", 1, "")
        + baseline("z", 0, ingress("Deny"))
    )  # fmt: skip
    assert [p.name for p in in_tier(c, Tier.ADMIN, Direction.INGRESS)] == ["a", "b"]
    assert [p.name for p in in_tier(c, Tier.ADMIN, Direction.EGRESS)] == []
    assert [p.name for p in in_tier(c, Tier.BASELINE, Direction.INGRESS)] == ["z"]


def test_the_tier_check_stops_at_the_deciding_rule() -> None:
    c = make_cluster(
        admin("a", 1, "ingress: [{action: Accept, from: [{namespaces: {matchLabels: "
                      "{team: red}}}]}, "
                      f"{{action: Pass, {ALL_NS}}}, {{action: Deny, {ALL_NS}}}]")
        + admin("b", 2, ingress("Deny"))
    )  # fmt: skip
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    admin_check = decision.ingress.admin
    assert admin_check is not None
    assert [check.policy.name for check in admin_check.policies] == ["a"]
    assert [r.index for r in admin_check.policies[0].rules] == [0, 1]
    assert admin_check.action is not None
    assert admin_check.action.value == "Pass"
