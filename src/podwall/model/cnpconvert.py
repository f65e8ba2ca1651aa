"""ClusterNetworkPolicy manifests (policy.networking.k8s.io/v1alpha2) to the model.

Apart from `convert` so that a snapshot without ClusterNetworkPolicies never imports their
model (`convert.cluster_network_policy` imports this module on first use). The policy must have
passed `cnpvalidation` first. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress

from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    ClusterRule,
    NamespacedPod,
    Subject,
    Tier,
)
from podwall.model.policy import IPBlock
from podwall.model.ports import Protocol
from podwall.model.rawobject import Raw, RawObject, as_map, selector


def cluster_network_policy(obj: RawObject) -> ClusterNetworkPolicy:
    spec = as_map(obj.body.get("spec"))
    return ClusterNetworkPolicy(
        name=obj.name,
        tier=Tier(spec["tier"]),
        priority=int(spec["priority"]),
        subject=subject_of(as_map(spec.get("subject"))),
        ingress=tuple(_cluster_rule(r, "from") for r in spec.get("ingress") or ()),
        egress=tuple(_cluster_rule(r, "to") for r in spec.get("egress") or ()),
        source=obj.source,
    )


def _namespaced_pod(raw: Raw) -> NamespacedPod:
    return NamespacedPod(
        namespace_selector=selector(raw.get("namespaceSelector")),
        pod_selector=selector(raw.get("podSelector")),
    )


def subject_of(raw: Raw) -> Subject:
    if raw.get("pods") is not None:
        return Subject(pods=_namespaced_pod(raw["pods"]))
    return Subject(namespaces=selector(raw.get("namespaces")))


def cluster_peer(raw: Raw) -> ClusterPeer:
    # A peer with no field podwall knows stays empty: the engine fails it closed.
    if raw.get("namespaces") is not None:
        return ClusterPeer(namespaces=selector(raw["namespaces"]))
    if raw.get("pods") is not None:
        return ClusterPeer(pods=_namespaced_pod(raw["pods"]))
    if raw.get("nodes") is not None:
        return ClusterPeer(nodes=selector(raw["nodes"]))
    if raw.get("networks") is not None:
        blocks = (
            IPBlock(cidr=ipaddress.ip_network(str(n), strict=False), text=str(n))
            for n in raw["networks"]
        )
        return ClusterPeer(networks=tuple(blocks))
    if raw.get("domainNames") is not None:
        return ClusterPeer(domain_names=tuple(str(d) for d in raw["domainNames"]))
    return ClusterPeer()


def _cluster_protocol(raw: Raw) -> ClusterPort:
    if raw.get("destinationNamedPort") is not None:
        return ClusterPort(name=str(raw["destinationNamedPort"]))
    for field_name, protocol in (("tcp", Protocol.TCP), ("udp", Protocol.UDP)):
        if raw.get(field_name) is not None:
            return _cluster_port(protocol, as_map(raw[field_name]))
    return _cluster_port(Protocol.SCTP, as_map(raw.get("sctp")))


def _cluster_port(protocol: Protocol, raw: Raw) -> ClusterPort:
    port = as_map(raw.get("destinationPort"))
    if port.get("range") is not None:
        span = as_map(port["range"])
        return ClusterPort(protocol=protocol, start=int(span["start"]), end=int(span["end"]))
    number = port.get("number")
    return ClusterPort(protocol=protocol, start=None if number is None else int(number))


def _cluster_rule(raw: Raw, peers_field: str) -> ClusterRule:
    return ClusterRule(
        name=str(raw.get("name") or ""),
        action=Action(raw["action"]),
        peers=tuple(cluster_peer(as_map(p)) for p in raw.get(peers_field) or ()),
        ports=tuple(_cluster_protocol(as_map(p)) for p in raw.get("protocols") or ()),
    )
