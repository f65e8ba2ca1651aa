"""Does a NetworkPolicyPeer match the other end of a connection? With the reason why not.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.engine.endpoints import Endpoint
from podwall.model.cluster import Cluster
from podwall.model.policy import IPBlock, NetworkPolicy, Peer
from podwall.model.record import Record


# Read field by field, never compared or hashed: identity equality, as a plain class has.
class PeerMatch(Record, frozen=False, eq=False):
    """Whether a peer matched, and the reason in words."""

    matched: bool
    reason: str


def match_peer(cluster: Cluster, policy: NetworkPolicy, peer: Peer, other: Endpoint) -> PeerMatch:
    """Whether `peer` of `policy` matches `other`: the source (ingress) or destination (egress)."""
    if peer.ip_block is not None:
        return _match_ip_block(peer.ip_block, other)
    if other.pod is None:
        return PeerMatch(
            matched=False,
            reason=f"{peer.render()} selects pods only; {other.ip} is outside the cluster",
        )
    if other.pod.host_network:
        # The API leaves host-network pods undefined; their packets carry the node's address,
        # so like most CNIs podwall does not let selectors match them (an ipBlock can).
        return PeerMatch(
            matched=False,
            reason=f"{peer.render()} does not match {other.pod.key}: it uses the host network",
        )
    return _match_selectors(cluster, policy, peer, other)


def _match_selectors(
    cluster: Cluster, policy: NetworkPolicy, peer: Peer, other: Endpoint
) -> PeerMatch:
    pod = other.pod
    assert pod is not None
    # NetworkPolicyPeer.podSelector: "If namespaceSelector is also set, then the NetworkPolicyPeer
    # as a whole selects the Pods matching podSelector in the Namespaces selected by
    # NamespaceSelector. Otherwise it selects the Pods matching podSelector in the policy's own
    # Namespace."
    if peer.namespace_selector is None:
        if pod.namespace != policy.namespace:
            return PeerMatch(
                matched=False,
                reason=(
                    f"{peer.render()} selects pods in namespace {policy.namespace} only; "
                    f"{pod.key} is in namespace {pod.namespace}"
                ),
            )
    else:
        ns = cluster.namespace(pod.namespace)
        if not peer.namespace_selector.matches(ns.labels):
            return PeerMatch(
                matched=False,
                reason=(
                    f"namespaceSelector {peer.namespace_selector.render_braces()} does not match "
                    f"namespace {ns.name} {ns.labels.render()}"
                ),
            )
    # NetworkPolicyPeer.namespaceSelector: "If podSelector is also set, then the
    # NetworkPolicyPeer as a whole selects the Pods matching podSelector in the Namespaces
    # selected by namespaceSelector. Otherwise it selects all Pods in the Namespaces selected."
    if peer.pod_selector is not None and not peer.pod_selector.matches(pod.labels):
        return PeerMatch(
            matched=False,
            reason=(
                f"podSelector {peer.pod_selector.render_braces()} does not match pod "
                f"{pod.key} {pod.labels.render()}"
            ),
        )
    return PeerMatch(matched=True, reason=f"{peer.render()} matches {pod.key}")


def _match_ip_block(block: IPBlock, other: Endpoint) -> PeerMatch:
    # IPBlock: "describes a particular CIDR ... that is allowed to the pods matched by a
    # NetworkPolicySpec's podSelector. The except entry describes CIDRs that should not be
    # included within this rule." Pod addresses are matched too, as every CNI does.
    addresses = other.addresses()
    if not addresses:
        return PeerMatch(matched=False, reason=f"{block.render()}: {other.key} has no IP address")
    for ip in addresses:
        if block.contains(ip):
            return PeerMatch(matched=True, reason=f"{block.render()} contains {ip}")
    for ip in addresses:
        for ex in block.except_:
            if ip in ex:
                return PeerMatch(
                    matched=False, reason=f"{ip} is in {ex}, an except of {block.render()}"
                )
    shown = ", ".join(str(ip) for ip in addresses)
    return PeerMatch(matched=False, reason=f"{block.render()} does not contain {shown}")
