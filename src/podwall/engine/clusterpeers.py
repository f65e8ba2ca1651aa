"""ClusterNetworkPolicy matching pod by pod, with the reason why or why not: subjects, peers
and protocols. The reference `decide()` uses; `tierrules` answers the same over identities.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.engine.endpoints import Endpoint
from podwall.model.cluster import Cluster, Pod
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    NamespacedPod,
)
from podwall.model.ports import Protocol
from podwall.model.record import Record


class Match(Record):
    matched: bool
    reason: str


def subject_selects(cluster: Cluster, policy: ClusterNetworkPolicy, pod: Pod) -> bool:
    # ClusterNetworkPolicySubject: "Note that host-networked pods are not included in subject
    # selection."
    if pod.host_network:
        return False
    subject = policy.subject
    ns_labels = cluster.namespace(pod.namespace).labels
    if subject.namespaces is not None:
        return subject.namespaces.matches(ns_labels)
    assert subject.pods is not None
    return _namespaced_pod_matches(subject.pods, cluster, pod)


def _namespaced_pod_matches(sel: NamespacedPod, cluster: Cluster, pod: Pod) -> bool:
    ns_labels = cluster.namespace(pod.namespace).labels
    return sel.namespace_selector.matches(ns_labels) and sel.pod_selector.matches(pod.labels)


def match_peer(cluster: Cluster, peer: ClusterPeer, action: Action, other: Endpoint) -> Match:
    """Whether `peer` matches `other`: the source (ingress) or destination (egress)."""
    if peer.is_empty:
        # "If an implementation sees no fields are set ... it should fail closed. For "Accept"
        # rules, "fail closed" means: "treat the rule as matching no traffic". For "Deny" and
        # "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all' rule"."
        if action is Action.ACCEPT:
            return Match(matched=False, reason="an empty peer matches nothing in an Accept rule")
        return Match(matched=True, reason=f"an empty peer matches everything in a {action} rule")
    if peer.networks:
        return _match_networks(peer, other)
    if peer.nodes is not None:
        return _match_nodes(cluster, peer, other)
    if peer.domain_names:
        return Match(matched=False, reason=f"{peer.render()}: unsupported, matches nothing")
    return _match_pods(cluster, peer, other)


def _match_pods(cluster: Cluster, peer: ClusterPeer, other: Endpoint) -> Match:
    pod = other.pod
    if pod is None:
        return Match(matched=False, reason=f"{peer.render()} selects pods; {other.key} is not one")
    if pod.host_network:
        # "Note that host-networked pods are not included in this type of peer."
        return Match(
            matched=False, reason=f"{peer.render()} never matches host-network pod {pod.key}"
        )
    ns = cluster.namespace(pod.namespace)
    ns_selector = peer.namespaces if peer.pods is None else peer.pods.namespace_selector
    assert ns_selector is not None
    if not ns_selector.matches(ns.labels):
        return Match(
            matched=False,
            reason=f"{peer.render()} does not match namespace {ns.name} {ns.labels.render()}",
        )
    if peer.pods is not None and not peer.pods.pod_selector.matches(pod.labels):
        return Match(
            matched=False,
            reason=f"{peer.render()} does not match pod {pod.key} {pod.labels.render()}",
        )
    return Match(matched=True, reason=f"{peer.render()} matches {pod.key}")


def _match_networks(peer: ClusterPeer, other: Endpoint) -> Match:
    # Networks: "cluster-internal traffic will be checked against the rule as well".
    for ip in other.addresses():
        for block in peer.networks:
            if block.contains(ip):
                return Match(matched=True, reason=f"{block.text or block.cidr} contains {ip}")
    return Match(matched=False, reason=f"{peer.render()}: {_addresses(other)} not inside")


def _match_nodes(cluster: Cluster, peer: ClusterPeer, other: Endpoint) -> Match:
    # Nodes: "It selects the nodeIPs as the peer type by matching on the IPs present in the
    # node.Status.Addresses field of the node." A host-network pod has its node's addresses.
    assert peer.nodes is not None
    addresses = set(other.addresses())
    for node in cluster.nodes:
        hit = addresses.intersection(node.addresses)
        if hit and peer.nodes.matches(node.labels):
            shown = ", ".join(sorted(str(ip) for ip in hit))
            return Match(matched=True, reason=f"{peer.render()} matches node {node.name} ({shown})")
    return Match(
        matched=False, reason=f"{peer.render()}: {_addresses(other)} is no selected node's"
    )


def _addresses(other: Endpoint) -> str:
    found = other.addresses()
    return ", ".join(str(ip) for ip in found) if found else f"{other.key} has no address"


def match_protocols(
    ports: tuple[ClusterPort, ...], dst: Endpoint, port: int, protocol: Protocol
) -> Match:
    # Protocols: "If unspecified, protocol-specific attributes will not be used to match
    # traffic."
    if not ports:
        return Match(matched=True, reason="all ports")
    misses = []
    for item in ports:
        found = _match_one(item, dst, port, protocol)
        if found.matched:
            return found
        misses.append(found.reason)
    return Match(matched=False, reason="; ".join(misses))


def _match_one(item: ClusterPort, dst: Endpoint, port: int, protocol: Protocol) -> Match:
    if item.name is not None:
        # DestinationNamedPort "selects a destination port on a pod based on the ContainerPort
        # name", whatever protocol that container port has.
        pod = dst.pod
        number = None if pod is None else pod.named_port(item.name, protocol)
        if number == port:
            return Match(matched=True, reason=f"named port {item.name} ({protocol} {port})")
        where = dst.key if pod is None else pod.key
        return Match(
            matched=False, reason=f"named port {item.name}: not {protocol} {port} on {where}"
        )
    if item.protocol is not protocol:
        return Match(matched=False, reason=f"{item.render()}: protocol is not {protocol}")
    start = item.start
    end = item.end if item.end is not None else start
    if start is None or (end is not None and start <= port <= end):
        return Match(matched=True, reason=item.render())
    return Match(matched=False, reason=f"{item.render()} does not include {port}")
