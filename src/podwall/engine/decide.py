"""`decide()`: the reference evaluation of one connection, pod by pod, rule by rule.

This is the definition the faster `connectivity` map is tested against. Pure: no I/O here.
"""

from __future__ import annotations

from podwall.engine.decision import (
    Decision,
    DirectionVerdict,
    PeerCheck,
    PolicyCheck,
    RuleCheck,
    Status,
)
from podwall.engine.endpoints import Endpoint, Traffic
from podwall.engine.peers import match_peer
from podwall.engine.ports import match_ports
from podwall.engine.selection import isolating
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction, NetworkPolicy, Peer, Rule


def decide(cluster: Cluster, traffic: Traffic) -> Decision:
    # "For a connection from a source pod to a destination pod to be allowed, both the egress
    # policy on the source pod and the ingress policy on the destination pod need to allow the
    # connection. If either side does not allow the connection, it will not happen."
    return Decision(
        traffic=traffic,
        egress=_direction(cluster, traffic, Direction.EGRESS),
        ingress=_direction(cluster, traffic, Direction.INGRESS),
    )


def _direction(cluster: Cluster, traffic: Traffic, direction: Direction) -> DirectionVerdict:
    subject, other = (
        (traffic.src, traffic.dst) if direction is Direction.EGRESS else (traffic.dst, traffic.src)
    )
    pod = subject.pod
    if pod is None:
        return DirectionVerdict(direction=direction, subject=subject, status=Status.OUTSIDE)
    if pod.host_network:
        return DirectionVerdict(direction=direction, subject=subject, status=Status.HOST_NETWORK)
    if other.pod is not None and other.pod.key == pod.key:
        # The entities a pod can talk to include "other pods that are allowed (exception: a pod
        # cannot block access to itself)".
        return DirectionVerdict(direction=direction, subject=subject, status=Status.SELF)
    if direction is Direction.INGRESS and _from_local_node(cluster, pod, other):
        # NetworkPolicySpec.ingress: "Traffic is allowed to a pod if there are no
        # NetworkPolicies selecting the pod (and cluster policy otherwise allows the traffic),
        # OR if the traffic source is the pod's local node, OR if the traffic matches at least
        # one ingress rule across all of the NetworkPolicy objects whose podSelector matches
        # the pod." Before the tiers too: the node's own packets never reach a filter.
        return DirectionVerdict(direction=direction, subject=subject, status=Status.LOCAL_NODE)
    if cluster.cluster_policies:
        # ClusterNetworkPolicy tiers come before and after NetworkPolicy (`tiers`), imported
        # here: a snapshot without ClusterNetworkPolicies never pays for their model.
        from podwall.engine.tiers import tiered

        return tiered(cluster, traffic, direction, lambda: _isolation(cluster, traffic, direction))
    return _isolation(cluster, traffic, direction)


def _from_local_node(cluster: Cluster, pod: Pod, source: Endpoint) -> bool:
    """Whether `source` is `pod`'s node: a host-network pod on it, or one of its addresses."""
    if pod.node is None:
        return False
    if source.pod is not None:
        return source.pod.host_network and source.pod.node == pod.node
    return any(n.name == pod.node and source.ip in n.addresses for n in cluster.nodes)


def _isolation(cluster: Cluster, traffic: Traffic, direction: Direction) -> DirectionVerdict:
    """The NetworkPolicy verdict of a side whose pod is subject to policy."""
    subject, other = (
        (traffic.src, traffic.dst) if direction is Direction.EGRESS else (traffic.dst, traffic.src)
    )
    pod = subject.pod
    assert pod is not None
    found = isolating(cluster, pod, direction)
    # Policies in audit mode (podwall's annotation) decide nothing while an enforced policy
    # isolates the pod; alone, they say what they would decide, and let everything through.
    policies = tuple(p for p in found if not p.audit) or found
    if not policies:
        # "By default, a pod is non-isolated for egress/ingress; all connections are allowed."
        return DirectionVerdict(direction=direction, subject=subject, status=Status.NOT_ISOLATED)
    audit = policies[0].audit
    checks = tuple(_policy(cluster, p, direction, traffic, other) for p in policies)
    # Policies are additive: "the connections allowed are the union of what the applicable
    # policies allow", so one admitting rule in any isolating policy is enough.
    status = Status.ALLOWED if any(c.allowed for c in checks) else Status.DENIED
    if audit and status is Status.DENIED:
        status = Status.AUDITED
    return DirectionVerdict(
        direction=direction, subject=subject, status=status, policies=checks, audit=audit
    )


def _policy(
    cluster: Cluster,
    policy: NetworkPolicy,
    direction: Direction,
    traffic: Traffic,
    other: Endpoint,
) -> PolicyCheck:
    rules = tuple(
        _rule(cluster, policy, i, rule, traffic, other)
        for i, rule in enumerate(policy.rules(direction))
    )
    return PolicyCheck(policy=policy, rules=rules)


def _rule(
    cluster: Cluster,
    policy: NetworkPolicy,
    index: int,
    rule: Rule,
    traffic: Traffic,
    other: Endpoint,
) -> RuleCheck:
    ports = match_ports(rule.ports, traffic.dst, traffic.port, traffic.protocol)
    # NetworkPolicyIngressRule.from: "If this field is empty or missing, this rule matches all
    # sources (traffic not restricted by source). If this field is present and contains at
    # least one item, this rule allows traffic only if the traffic matches at least one item."
    peers = tuple(_peer(cluster, policy, i, peer, other) for i, peer in enumerate(rule.peers))
    return RuleCheck(
        index=index, ports_matched=ports.matched, ports_reason=ports.reason, peers=peers
    )


def _peer(
    cluster: Cluster, policy: NetworkPolicy, index: int, peer: Peer, other: Endpoint
) -> PeerCheck:
    match = match_peer(cluster, policy, peer, other)
    return PeerCheck(index=index, peer=peer, matched=match.matched, reason=match.reason)
