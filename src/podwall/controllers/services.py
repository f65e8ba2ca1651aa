"""Services: ClusterIP allocation, the defaults the API server sets, and the built-in Services.

Mirrors the service registry's allocation (pkg/registry/core/service/ipallocator: a bitmap over
the range without its network and broadcast addresses; random dynamic allocation that prefers
the range above the static band of `min(max(16, size/16), 256)` addresses; errors
`provided IP is already allocated` and `the provided IP (x) is not in the valid range. The
range of valid IPs is y`), `SetDefaults_Service` (pkg/apis/core/v1/defaults.go) and the IP
family defaults of pkg/registry/core/service/storage/storage.go. The `kubernetes` Service and
its Endpoints follow pkg/controlplane/controller/kubernetesservice. Node ports are
`nodeports`' (allocated on create, carried over or dropped on update, from here).

Pure: the caller passes the addresses in use and a `random.Random`. The sandbox's range is
198.19.0.0/16; 198.19.0.1 is `kubernetes` and 198.19.0.10 is `kube-dns`, both in the static
band, so no dynamic allocation can take them.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Collection, Mapping
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import deep
from podwall.controllers.nodeports import allocate_node_ports, update_node_ports
from podwall.errors import PodwallError
from podwall.model.fielderrors import ErrorType, FieldError
from podwall.model.goquote import GoSlice

SERVICE_CIDR = ipaddress.ip_network("198.19.0.0/16")
KUBERNETES_IP = "198.19.0.1"
KUBE_DNS_IP = "198.19.0.10"
RESERVED_IPS = frozenset({KUBERNETES_IP, KUBE_DNS_IP})
API_SERVER_PORT = 6443


class ClusterIPError(PodwallError):
    """A Service whose ClusterIP cannot be allocated; `errors` are field errors to answer 422."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        super().__init__("; ".join(e.render() for e in errors))
        self.errors = errors


def _allocation_error(ip: str, detail: str) -> ClusterIPError:
    value = GoSlice("string", (ip,))
    error = FieldError(path="spec.clusterIPs", type=ErrorType.INVALID, value=value, detail=detail)
    return ClusterIPError((error,))


def _range_size() -> int:
    """Usable addresses: the range without network and broadcast."""
    return SERVICE_CIDR.num_addresses - 2


def _static_band() -> int:
    """calculateRangeOffset: the low addresses kept for explicitly requested IPs."""
    return min(max(16, SERVICE_CIDR.num_addresses // 16), 256)


def _address(index: int) -> str:
    return str(SERVICE_CIDR.network_address + 1 + index)


def check_requested_ip(requested: str, allocated: Collection[str]) -> str:
    """Allocate a requested ClusterIP, or raise ClusterIPError as upstream words it."""
    try:
        ip = ipaddress.ip_address(requested)
    except ValueError:
        detail = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        error = FieldError(
            path="spec.clusterIPs[0]", type=ErrorType.INVALID, value=requested, detail=detail
        )
        raise ClusterIPError((error,)) from None
    edges = (SERVICE_CIDR.network_address, SERVICE_CIDR.broadcast_address)
    within = ip in SERVICE_CIDR and ip not in edges
    if not within:
        detail = (
            f"failed to allocate IP {requested}: the provided IP ({requested}) is not in the "
            f"valid range. The range of valid IPs is {SERVICE_CIDR}"
        )
        raise _allocation_error(requested, detail)
    if str(ip) in allocated or str(ip) in RESERVED_IPS:
        raise _allocation_error(
            requested, f"failed to allocate IP {requested}: provided IP is already allocated"
        )
    return str(ip)


def _next_free(allocated: Collection[str], rng: random.Random) -> str | None:
    """The random scan of the bitmap allocator: above the static band first, then within it."""
    taken = set(allocated) | RESERVED_IPS
    band, size = _static_band(), _range_size()
    for low, high in ((band, size), (0, band)):
        for _ in range(64):
            candidate = _address(rng.randrange(low, high))
            if candidate not in taken:
                return candidate
        start = rng.randrange(low, high)
        for index in (*range(start, high), *range(low, start)):
            if _address(index) not in taken:
                return _address(index)
    return None


def allocate_cluster_ip(
    requested: str | None, allocated: Collection[str], rng: random.Random
) -> str:
    """A ClusterIP for a new Service: the requested one, or a free one at random."""
    if requested:
        return check_requested_ip(requested, allocated)
    found = _next_free(allocated, rng)
    if found is None:
        raise _allocation_error("", "failed to allocate a serviceIP: range is full")
    return found


def default_ports(spec: dict[str, Any]) -> None:
    """SetDefaults_Service for ports: protocol TCP, targetPort = port."""
    for port in spec.get("ports") or ():
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")


def _default_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    default_ports(spec)
    if spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def default_service(
    service: Mapping[str, Any],
    allocated: Collection[str],
    rng: random.Random,
    node_ports: Collection[int] = (),
) -> Obj:
    """A Service as stored on create: defaults, a ClusterIP, `clusterIPs`, the IPv4 family,
    and node ports for a NodePort or LoadBalancer Service (`nodeports`).

    `allocated` holds the ClusterIPs of the Services that exist, `node_ports` their node
    ports. Raises ClusterIPError, NodePortError or NodePortRangeFull.
    """
    out = deep(service)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Service")
    spec = out.setdefault("spec", {})
    _default_spec(spec)
    if spec["type"] != "ExternalName":
        requested = spec.get("clusterIP") or next(iter(spec.get("clusterIPs") or ()), None)
        ip = "None" if requested == "None" else allocate_cluster_ip(requested, allocated, rng)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    allocate_node_ports(spec, node_ports, rng)
    out.setdefault("status", {"loadBalancer": {}})
    return out


def keep_allocation(
    new: Mapping[str, Any],
    old: Mapping[str, Any],
    node_ports: Collection[int] = (),
    rng: random.Random | None = None,
) -> Obj:
    """On update: the allocated ClusterIP and families carry over; changing them is refused.
    Node ports carry over too, and are allocated or dropped as the type asks (`nodeports`);
    `node_ports` are those of the other Services.

    Raises ClusterIPError (`may not change once set`) when the update asks for another IP,
    NodePortError or NodePortRangeFull.
    """
    out = deep(new)
    spec = out.setdefault("spec", {})
    old_spec = old.get("spec") or {}
    _default_spec(spec)
    wanted = spec.get("clusterIP") or next(iter(spec.get("clusterIPs") or ()), None)
    if wanted and old_spec.get("clusterIP") and wanted != old_spec["clusterIP"]:
        error = FieldError(
            path="spec.clusterIPs[0]",
            type=ErrorType.INVALID,
            value=GoSlice("string", (wanted,)),
            detail="may not change once set",
        )
        raise ClusterIPError((error,))
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if field in old_spec and not spec.get(field):
            spec[field] = deep({field: old_spec[field]})[field]
    update_node_ports(spec, old_spec, node_ports, rng or random.Random())
    return out


def cluster_ips(services: Collection[Mapping[str, Any]]) -> set[str]:
    """The ClusterIPs in use, for `allocated`."""
    ips = set()
    for service in services:
        for ip in (service.get("spec") or {}).get("clusterIPs") or ():
            if ip and ip != "None":
                ips.add(str(ip))
    return ips


def _cluster_service(
    name: str, namespace: str, ip: str, labels: dict[str, str], spec: dict[str, Any]
) -> Obj:
    out: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], **spec},
        "status": {"loadBalancer": {}},
    }
    _default_spec(out["spec"])
    out["spec"].setdefault("ipFamilies", ["IPv4"])
    out["spec"].setdefault("ipFamilyPolicy", "SingleStack")
    return out


def kubernetes_service() -> Obj:
    """The `default/kubernetes` Service: 443/TCP to the API server's 6443."""
    port = {"name": "https", "port": 443, "protocol": "TCP", "targetPort": API_SERVER_PORT}
    labels = {"component": "apiserver", "provider": "kubernetes"}
    return _cluster_service("kubernetes", "default", KUBERNETES_IP, labels, {"ports": [port]})


def kube_dns_service() -> Obj:
    """The `kube-system/kube-dns` Service at 198.19.0.10, selecting `k8s-app: kube-dns`."""
    ports = [
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
    ]
    labels = {
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "CoreDNS",
    }
    spec = {"ports": ports, "selector": {"k8s-app": "kube-dns"}}
    return _cluster_service("kube-dns", "kube-system", KUBE_DNS_IP, labels, spec)


def kubernetes_endpoints(address: str, port: int = API_SERVER_PORT) -> Obj:
    """`default/kubernetes` Endpoints: the API server itself (no mirroring to a slice)."""
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }
        ],
    }


def kubernetes_endpointslice(address: str, port: int = API_SERVER_PORT) -> Obj:
    """`default/kubernetes` EndpointSlice, as the API server's endpoint reconciler keeps it."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }
