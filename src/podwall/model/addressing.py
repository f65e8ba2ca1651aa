"""Addresses: the sandbox's address plan, and the addresses an ipBlock holds.

Pods that have no address in their manifests get one from the pod range, services a ClusterIP
from the service range (the cluster DNS address is reserved); addresses given in manifests are
honoured and never reused. Deterministic: the same snapshot always gets the same addresses.

An ipBlock's addresses (`cidr` minus its excepts) are disjoint integer ranges: the engine finds
the pods inside a block with them, and the dataplane writes them as interval set elements.
Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Container, Iterator

from podwall.errors import PodwallError
from podwall.model.cluster import Cluster, Pod, Service
from podwall.model.policy import IPBlock, IPNetwork
from podwall.model.record import replace

POD_RANGE = ipaddress.IPv4Network("198.18.0.0/16")
SERVICE_RANGE = ipaddress.IPv4Network("198.19.0.0/16")
DNS_SERVICE_IP = ipaddress.IPv4Address("198.19.0.10")


class AddressesExhausted(PodwallError, ValueError):
    """The range has no address left."""


def with_addresses(
    cluster: Cluster,
    pod_range: ipaddress.IPv4Network = POD_RANGE,
    service_range: ipaddress.IPv4Network = SERVICE_RANGE,
) -> Cluster:
    """A copy where every non-host-network pod has an IPv4 address and every service a ClusterIP."""
    taken = {ip for p in cluster.pods for ip in p.ips}
    pod_ips = _free(pod_range, taken, first=10)
    # Assign in name order, so the addresses do not depend on the order of the manifests.
    assigned = {p.key: _pod(p, pod_ips) for p in sorted(cluster.pods, key=lambda p: p.key)}
    pods = tuple(assigned[p.key] for p in cluster.pods)
    used = {_ip(s.cluster_ip) for s in cluster.services} | {DNS_SERVICE_IP}
    service_ips = _free(service_range, {ip for ip in used if ip is not None}, first=20)
    services = tuple(_service(s, service_ips) for s in cluster.services)
    return replace(cluster, pods=pods, services=services)


def _pod(pod: Pod, free: Iterator[ipaddress.IPv4Address]) -> Pod:
    if pod.host_network or any(ip.version == 4 for ip in pod.ips):
        return pod
    return replace(pod, ips=(_next(free, "pod"), *pod.ips))


def _service(svc: Service, free: Iterator[ipaddress.IPv4Address]) -> Service:
    if _ip(svc.cluster_ip) is not None or svc.cluster_ip == "None":
        return svc  # "None" is a headless service: it never gets a ClusterIP
    if svc.namespace == "kube-system" and svc.name == "kube-dns":
        return replace(svc, cluster_ip=str(DNS_SERVICE_IP))
    return replace(svc, cluster_ip=str(_next(free, "service")))


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def _free(
    network: ipaddress.IPv4Network, taken: Container[object], first: int
) -> Iterator[ipaddress.IPv4Address]:
    for offset in range(first, network.num_addresses - 1):
        ip = network.network_address + offset
        if ip not in taken and int(ip) & 0xFF not in (0, 255):
            yield ip


def _next(free: Iterator[ipaddress.IPv4Address], what: str) -> ipaddress.IPv4Address:
    try:
        return next(free)
    except StopIteration:
        raise AddressesExhausted(f"no {what} address left in the sandbox range") from None


Range = tuple[int, int]  # inclusive, as integers of the block's IP version


def block_ranges(block: IPBlock) -> list[Range]:
    """`cidr` minus every `except` of its IP version, as disjoint ranges in ascending order.

    The same addresses as `IPBlock.contains`, for many addresses at once.
    """
    remaining = [_range(block.cidr)]
    for ex in block.except_:
        if ex.version == block.cidr.version:
            remaining = [piece for r in remaining for piece in _minus(r, _range(ex))]
    return remaining


def _range(net: IPNetwork) -> Range:
    return int(net.network_address), int(net.broadcast_address)


def _minus(r: Range, cut: Range) -> list[Range]:
    lo, hi = r
    if cut[1] < lo or cut[0] > hi:
        return [r]
    out = []
    if cut[0] > lo:
        out.append((lo, cut[0] - 1))
    if cut[1] < hi:
        out.append((cut[1] + 1, hi))
    return out
