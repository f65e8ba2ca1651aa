"""Pods grouped into identities: pods that no policy can tell apart.

Two pods share an identity when they have the same namespace, labels, named ports, host-network
flag and the same set of ipBlocks containing their addresses. Every verdict about one of them
holds for all of them (except a pod's traffic to itself), so maps are computed per identity.

Pure: no I/O here.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.model.policy import IPAddress, IPBlock, Peer
from podwall.model.ports import Protocol

NamedPorts = tuple[tuple[str, Protocol, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    index: int
    namespace: str
    labels: Labels
    named_ports: NamedPorts
    host_network: bool
    blocks: frozenset[int]  # indices into `Identities.blocks` that contain a pod address
    pods: tuple[int, ...]  # indices into `Identities.pods`

    def named_port(self, name: str, protocol: Protocol) -> int | None:
        for port_name, proto, number in self.named_ports:
            if port_name == name and proto is protocol:
                return number
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Identities:
    pods: tuple[Pod, ...]  # sorted by namespace, then name
    of_pod: tuple[int, ...]  # pod index -> identity index
    items: tuple[Identity, ...]
    blocks: tuple[IPBlock, ...]  # every distinct ipBlock of every policy
    by_namespace: dict[str, tuple[int, ...]]


def group(cluster: Cluster) -> Identities:
    pods = tuple(sorted(cluster.pods, key=lambda p: (p.namespace, p.name)))
    blocks = _distinct_blocks(cluster)
    signatures = _block_signatures(pods, blocks)
    keys: dict[tuple[object, ...], int] = {}
    members: list[list[int]] = []
    of_pod: list[int] = []
    for i, pod in enumerate(pods):
        key = (pod.namespace, pod.labels, _named_ports(pod), pod.host_network, signatures[i])
        if key not in keys:
            keys[key] = len(members)
            members.append([])
        members[keys[key]].append(i)
        of_pod.append(keys[key])
    items = tuple(
        _identity(index, pods[ms[0]], signatures[ms[0]], ms) for index, ms in enumerate(members)
    )
    by_ns: dict[str, list[int]] = {}
    for ident in items:
        by_ns.setdefault(ident.namespace, []).append(ident.index)
    return Identities(
        pods=pods,
        of_pod=tuple(of_pod),
        items=items,
        blocks=blocks,
        by_namespace={ns: tuple(ids) for ns, ids in by_ns.items()},
    )


def _identity(index: int, pod: Pod, blocks: frozenset[int], members: list[int]) -> Identity:
    return Identity(
        index=index,
        namespace=pod.namespace,
        labels=pod.labels,
        named_ports=_named_ports(pod),
        host_network=pod.host_network,
        blocks=blocks,
        pods=tuple(members),
    )


def _named_ports(pod: Pod) -> NamedPorts:
    return tuple(sorted((p.name, p.protocol, p.port) for p in pod.ports if p.name))


def _distinct_blocks(cluster: Cluster) -> tuple[IPBlock, ...]:
    seen: dict[IPBlock, None] = {}
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    seen.setdefault(_bare(peer.ip_block), None)
    return tuple(seen)


def block_of(peer: Peer) -> IPBlock:
    """The key under which `peer`'s ipBlock appears in `Identities.blocks`."""
    assert peer.ip_block is not None
    return _bare(peer.ip_block)


def _bare(block: IPBlock) -> IPBlock:
    return IPBlock(cidr=block.cidr, except_=block.except_)


def _block_signatures(pods: Sequence[Pod], blocks: Sequence[IPBlock]) -> list[frozenset[int]]:
    """For each pod, the blocks containing one of its addresses; a range search per block."""
    hits: list[set[int]] = [set() for _ in pods]
    addresses = sorted((ip.version, int(ip), i, ip) for i, p in enumerate(pods) for ip in p.ips)
    keys = [(a[0], a[1]) for a in addresses]
    for b, block in enumerate(blocks):
        lo = int(block.cidr.network_address)
        hi = int(block.cidr.broadcast_address)
        version = block.cidr.version
        start = bisect.bisect_left(keys, (version, lo))
        end = bisect.bisect_right(keys, (version, hi))
        for _, _, pod_index, ip in addresses[start:end]:
            if _outside_excepts(block, ip):
                hits[pod_index].add(b)
    return [frozenset(h) for h in hits]


def _outside_excepts(block: IPBlock, ip: IPAddress) -> bool:
    return not any(ip in ex for ex in block.except_ if ex.version == ip.version)
