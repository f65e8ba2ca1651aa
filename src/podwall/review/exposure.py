"""Who can reach a pod: from which namespaces and pods, from outside the cluster, on which ports.

Pods as sources come from the engine's connectivity map (egress of the source and ingress of
the pod both count). Addresses outside the cluster have no egress policy, so what reaches the
pod from outside is its ingress rules alone: an isolating policy's rule with no `from` is
"anywhere", an ipBlock is that block, each on the rule's ports resolved on the pod; a pod no
policy isolates for ingress is reachable from anywhere on every port. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from podwall.engine import ConnectivityMap, connectivity
from podwall.engine.identities import bit_indices
from podwall.engine.selection import isolating
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction, IPAddress, IPBlock, Rule
from podwall.model.ports import ALL_PROTOCOLS, MAX_PORT, MIN_PORT, PortSet, Protocol
from podwall.model.record import Record

ANYWHERE = "anywhere"
EVERY_ADDRESS = frozenset({ANYWHERE, "0.0.0.0/0", "::/0"})


class Outside(Record):
    """Addresses outside the cluster that reach the pod: a block, or `anywhere`."""

    block: str  # `anywhere`, or an ipBlock as written (`10.0.0.0/8 except 10.1.0.0/16`)
    ports: PortSet
    ip_block: IPBlock | None = None  # None: anywhere

    def admits(self, ip: IPAddress, protocol: Protocol, port: int) -> bool:
        inside = self.ip_block is None or self.ip_block.contains(ip)
        return inside and self.ports.contains(protocol, port)


class Sources(Record):
    """Pods of one namespace that reach the pod on the same ports."""

    namespace: str
    pods: tuple[str, ...]
    every_pod: bool  # every other pod of the namespace
    ports: PortSet


class Exposure(Record):
    """Who can reach one pod: addresses outside the cluster and sources inside it."""

    pod: Pod
    outside: tuple[Outside, ...]
    sources: tuple[Sources, ...]

    @property
    def anywhere(self) -> bool:
        return any(o.block in EVERY_ADDRESS for o in self.outside)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({s.namespace for s in self.sources}))

    @property
    def source_count(self) -> int:
        return sum(len(s.pods) for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "pod": self.pod.key,
            "anywhere": self.anywhere,
            "outside": [{"from": o.block, "ports": o.ports.render()} for o in self.outside],
            "from": [
                {
                    "namespace": s.namespace,
                    "pods": list(s.pods),
                    "everyPod": s.every_pod,
                    "ports": s.ports.render(),
                }
                for s in self.sources
            ],
        }


def exposure(
    cluster: Cluster, pods: Iterable[Pod], cmap: ConnectivityMap | None = None
) -> list[Exposure]:
    """The exposure of each pod of `pods` (pods of `cluster`)."""
    cmap = cmap or connectivity(cluster)
    index = {p.key: i for i, p in enumerate(cmap.pods)}
    return [_exposure(cluster, cmap, index[p.key]) for p in pods]


def ranked(cluster: Cluster, cmap: ConnectivityMap | None = None) -> list[Exposure]:
    """Every pod, those reachable from anywhere first, then by how many pods reach them."""
    found = exposure(cluster, cluster.pods, cmap)
    return sorted(
        found, key=lambda e: (not e.anywhere, -len(e.outside), -e.source_count, e.pod.key)
    )


def _exposure(cluster: Cluster, cmap: ConnectivityMap, j: int) -> Exposure:
    pod = cmap.pods[j]
    return Exposure(pod=pod, outside=_outside(cluster, pod), sources=_sources(cmap, j))


def _sources(cmap: ConnectivityMap, j: int) -> tuple[Sources, ...]:
    per_namespace: dict[str, int] = {}
    for pod in cmap.pods:
        per_namespace[pod.namespace] = per_namespace.get(pod.namespace, 0) + 1
    out: list[Sources] = []
    for bits, mask in cmap.per_dst[cmap.of_pod[j]]:
        grouped: dict[str, list[str]] = {}
        for ident in bit_indices(bits):
            for i in cmap.groups[ident]:
                if i != j:
                    grouped.setdefault(cmap.pods[i].namespace, []).append(cmap.pods[i].key)
        ports = cmap.atoms.port_set(mask)
        for namespace, keys in grouped.items():
            others = per_namespace[namespace] - (namespace == cmap.pods[j].namespace)
            out.append(
                Sources(
                    namespace=namespace,
                    pods=tuple(sorted(keys)),
                    every_pod=len(keys) == others,
                    ports=ports,
                )
            )
    return tuple(sorted(out, key=lambda s: (s.namespace, s.pods)))


def _outside(cluster: Cluster, pod: Pod) -> tuple[Outside, ...]:
    policies = () if pod.host_network else isolating(cluster, pod, Direction.INGRESS)
    if not policies:
        return (Outside(block=ANYWHERE, ports=PortSet.everything()),)
    found: dict[IPBlock | None, list[tuple[Protocol, int, int]]] = {}
    for policy in policies:
        for rule in policy.ingress:
            ports = _rule_ports(rule, pod)
            if not ports:
                continue
            for block in _blocks(rule):
                found.setdefault(block, []).extend(ports)
    out = [
        Outside(block=_name(block), ports=PortSet.of(items), ip_block=block)
        for block, items in found.items()
    ]
    return tuple(sorted(out, key=lambda o: (o.ip_block is not None, o.block)))


def _blocks(rule: Rule) -> list[IPBlock | None]:
    if not rule.peers:
        return [None]
    return [p.ip_block for p in rule.peers if p.ip_block is not None]


def _name(block: IPBlock | None) -> str:
    return ANYWHERE if block is None else block.render().removeprefix("ipBlock ")


def _rule_ports(rule: Rule, pod: Pod) -> list[tuple[Protocol, int, int]]:
    """The ports a rule opens on `pod`: named ports resolved on it, none if it lacks them."""
    if not rule.ports:
        return [(p, MIN_PORT, MAX_PORT) for p in ALL_PROTOCOLS]
    out = []
    for port in rule.ports:
        if port.port is None:
            out.append((port.protocol, MIN_PORT, MAX_PORT))
        elif isinstance(port.port, str):
            number = pod.named_port(port.port, port.protocol)
            if number is not None:
                out.append((port.protocol, number, number))
        else:
            out.append((port.protocol, port.port, port.end_port or port.port))
    return out
