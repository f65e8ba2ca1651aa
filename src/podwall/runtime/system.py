"""The objects every sandbox cluster has besides the user's: `kube-system` and cluster DNS.

Cluster DNS is a real pod (`k8s-app: kube-dns`) behind the `kube-dns` Service at 198.19.0.10,
so egress policies must allow DNS exactly as on a real cluster.
"""

from __future__ import annotations

import json
from typing import Any

from podwall.model.addressing import DNS_SERVICE_IP
from podwall.model.cluster import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Namespace,
    Pod,
    Service,
    ServicePort,
)
from podwall.model.labels import Labels, LabelSelector
from podwall.model.ports import ContainerPort, Protocol
from podwall.model.record import replace

DNS_NAMESPACE = "kube-system"
DNS_POD = "coredns"
DNS_LABELS = Labels({"k8s-app": "kube-dns"})
DNS_PORTS = (
    ContainerPort(port=53, protocol=Protocol.UDP, name="dns"),
    ContainerPort(port=53, protocol=Protocol.TCP, name="dns-tcp"),
)


def with_cluster_dns(cluster: Cluster) -> Cluster:
    """`cluster` plus kube-system, the DNS pod and the kube-dns Service, unless already there."""
    namespaces = dict(cluster.namespaces)
    if DNS_NAMESPACE not in namespaces or not namespaces[DNS_NAMESPACE].declared:
        namespaces[DNS_NAMESPACE] = Namespace(
            name=DNS_NAMESPACE, labels=Labels({NAMESPACE_NAME_LABEL: DNS_NAMESPACE})
        )
    pods, services = cluster.pods, cluster.services
    if not any(
        p.namespace == DNS_NAMESPACE and DNS_LABELS.items() <= p.labels.items() for p in pods
    ):
        pods = (
            *pods,
            Pod(namespace=DNS_NAMESPACE, name=DNS_POD, labels=DNS_LABELS, ports=DNS_PORTS),
        )
    if not any(s.key == f"{DNS_NAMESPACE}/kube-dns" for s in services):
        services = (*services, _dns_service())
    return replace(cluster, namespaces=namespaces, pods=pods, services=services)


def _dns_service() -> Service:
    return Service(
        namespace=DNS_NAMESPACE,
        name="kube-dns",
        selector=LabelSelector(match_labels=tuple(DNS_LABELS.key)),
        ports=(
            ServicePort(port=53, target_port=53, protocol=Protocol.UDP, name="dns"),
            ServicePort(port=53, target_port=53, protocol=Protocol.TCP, name="dns-tcp"),
        ),
        cluster_ip=str(DNS_SERVICE_IP),
    )


def is_system(pod: Pod) -> bool:
    return pod.namespace == DNS_NAMESPACE and pod.name == DNS_POD


def dns_records(cluster: Cluster) -> str:
    """The records file of `podwall.runtime.dns` for `cluster`'s services."""
    services: list[dict[str, Any]] = []
    for svc in cluster.services:
        entry: dict[str, Any] = {
            "namespace": svc.namespace,
            "name": svc.name,
            "clusterIP": svc.cluster_ip or "None",
            "ports": [
                {"name": p.name, "port": p.port, "protocol": p.protocol.value} for p in svc.ports
            ],
        }
        if entry["clusterIP"] == "None" and svc.selector is not None:
            entry["endpoints"] = [
                {"ip": str(p.ips[0]), "hostname": p.name}
                for p in cluster.pods
                if p.namespace == svc.namespace and svc.selector.matches(p.labels) and p.ips
            ]
        services.append(entry)
    return json.dumps({"namespaces": sorted(cluster.namespaces), "services": services}, indent=1)
