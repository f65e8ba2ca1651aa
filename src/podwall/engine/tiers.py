"""The tiers around NetworkPolicy: Admin first, NetworkPolicy, then Baseline, then allow.

"If Admin tier has made a final decision (Accept or Deny) on a connection, then no further
evaluation is done. ... v1.NetworkPolicy always makes a final decision for selected pods.
Further evaluation only happens for Pods not selected by a v1.NetworkPolicy. ... If a given
connection wasn't allowed or denied by any of the tiers, the default kubernetes policy is
applied, which says that all pods can communicate with each other." Pass "skips all further
ClusterNetworkPolicy rules in the current tier". Each side of a connection is decided on its
own; an egress Accept still needs the destination's ingress to allow it.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable

from podwall.engine.clusterpeers import match_peer, match_protocols, subject_selects
from podwall.engine.decision import DirectionVerdict, Status
from podwall.engine.endpoints import Endpoint, Traffic
from podwall.engine.tierdecision import (
    ClusterPeerCheck,
    ClusterPolicyCheck,
    ClusterRuleCheck,
    TierCheck,
)
from podwall.model.cluster import Cluster, Pod
from podwall.model.clusterpolicy import Action, ClusterNetworkPolicy, ClusterRule, Tier
from podwall.model.policy import Direction
from podwall.model.record import replace

_FINAL = {
    (Tier.ADMIN, Action.ACCEPT): Status.ADMIN_ACCEPTED,
    (Tier.ADMIN, Action.DENY): Status.ADMIN_DENIED,
    (Tier.BASELINE, Action.ACCEPT): Status.BASELINE_ACCEPTED,
    (Tier.BASELINE, Action.DENY): Status.BASELINE_DENIED,
}


def in_tier(cluster: Cluster, tier: Tier, direction: Direction) -> list[ClusterNetworkPolicy]:
    """The tier's policies with rules for `direction`, in evaluation order. "CNPs with no
    ingress rules do not affect ingress traffic" (and likewise for egress)."""
    found = [p for p in cluster.cluster_policies if p.tier is tier and p.rules(direction)]
    return sorted(found, key=lambda p: p.order)


def tiered(
    cluster: Cluster,
    traffic: Traffic,
    direction: Direction,
    networkpolicy: Callable[[], DirectionVerdict],
) -> DirectionVerdict:
    """The verdict of one side of a pod that is subject to policy: Admin, then the
    NetworkPolicy verdict `networkpolicy()` gives, then Baseline, then allow."""
    subject, other = _ends(traffic, direction)
    assert subject.pod is not None
    admin = evaluate(cluster, Tier.ADMIN, subject.pod, direction, traffic, other)
    final = _final(admin)
    if final is not None:
        return DirectionVerdict(direction=direction, subject=subject, status=final, admin=admin)
    verdict = networkpolicy()
    # NetworkPolicies in audit mode alone isolate nothing: Baseline is consulted as for a pod
    # no NetworkPolicy selects, and what they would decide stands only if it has no say.
    if verdict.status is not Status.NOT_ISOLATED and not verdict.audit:
        return replace(verdict, admin=admin)
    baseline = evaluate(cluster, Tier.BASELINE, subject.pod, direction, traffic, other)
    status = _final(baseline) or verdict.status
    return replace(verdict, status=status, admin=admin, baseline=baseline)


def _ends(traffic: Traffic, direction: Direction) -> tuple[Endpoint, Endpoint]:
    if direction is Direction.EGRESS:
        return traffic.src, traffic.dst
    return traffic.dst, traffic.src


def _final(check: TierCheck) -> Status | None:
    action = check.action
    return None if action is None else _FINAL.get((check.tier, action))


def evaluate(
    cluster: Cluster,
    tier: Tier,
    pod: Pod,
    direction: Direction,
    traffic: Traffic,
    other: Endpoint,
) -> TierCheck:
    """Walk the tier's policies that select `pod` until a rule matches."""
    checks: list[ClusterPolicyCheck] = []
    for policy in in_tier(cluster, tier, direction):
        if not subject_selects(cluster, policy, pod):
            continue
        check = _policy(cluster, policy, direction, traffic, other)
        checks.append(check)
        if check.deciding is not None:
            break
    return TierCheck(tier=tier, policies=tuple(checks))


def _policy(
    cluster: Cluster,
    policy: ClusterNetworkPolicy,
    direction: Direction,
    traffic: Traffic,
    other: Endpoint,
) -> ClusterPolicyCheck:
    # "The relative precedence of ingress rules within a single CNP object ... will be
    # determined by the order in which the rule is written."
    rules: list[ClusterRuleCheck] = []
    for index, rule in enumerate(policy.rules(direction)):
        check = _rule(cluster, index, direction, rule, traffic, other)
        rules.append(check)
        if check.matched:
            break
    return ClusterPolicyCheck(policy=policy, rules=tuple(rules))


def _rule(
    cluster: Cluster,
    index: int,
    direction: Direction,
    rule: ClusterRule,
    traffic: Traffic,
    other: Endpoint,
) -> ClusterRuleCheck:
    ports = match_protocols(rule.ports, traffic.dst, traffic.port, traffic.protocol)
    peers = []
    for i, peer in enumerate(rule.peers):
        found = match_peer(cluster, peer, rule.action, other)
        peers.append(
            ClusterPeerCheck(index=i, peer=peer, matched=found.matched, reason=found.reason)
        )
    return ClusterRuleCheck(
        index=index,
        direction=direction,
        rule=rule,
        ports_matched=ports.matched,
        ports_reason=ports.reason,
        peers=tuple(peers),
    )
