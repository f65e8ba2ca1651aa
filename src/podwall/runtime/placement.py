"""Which sandbox node runs each pod, and the pod's address there. Pure: no I/O here.

Nodes are named `node-1` … `node-N` (`node_names`); node `node-i` has index i - 1, so its pods
get addresses from 198.18.<i - 1>.0/24 (`addressplan`). A pod runs on:

- the node its `spec.nodeName` names, when that is one of the sandbox's nodes;
- the first node, for the cluster DNS pod the sandbox adds (as kube-system pods on a
  control-plane node);
- otherwise the next node round-robin, in the order of the manifests, so pods listed together
  (the pods of one namespace, say) land on different nodes and their traffic crosses nodes.

A pod keeps the address its manifest gives (inside another node's range the underlay routes it
there); a pod without one gets the lowest free address of its node's range from .10, in name
order, or, when that range is full, a free one outside every node's range.

The manifests' Node objects stand for the sandbox's nodes in order (the first for `node-1`, and
round-robin past the last): a `spec.nodeName` naming one places the pod on the node it stands
for, the Node's addresses become that node's, and a host-network pod runs on it with its
address, as on a real cluster (`stand_in`).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from podwall.model.addressing import AddressesExhausted
from podwall.model.cluster import Cluster, Pod
from podwall.model.record import replace
from podwall.runtime import system
from podwall.runtime.addressplan import NODE_RANGE, POD_SUPERNET, node_address, node_subnet

_FIRST_HOST = 10  # as `podwall.model.addressing` starts, so one node's pods keep their addresses


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSlot:
    """A node pods can be placed on: its name (`spec.nodeName`) and its pod range."""

    name: str
    subnet: ipaddress.IPv4Network


def node_names(count: int) -> list[str]:
    """`node-1` … `node-<count>`: the names of a sandbox's nodes, as `kubectl get nodes` shows."""
    return [f"node-{i}" for i in range(1, count + 1)]


def slots(count: int) -> list[NodeSlot]:
    """The nodes of a `count`-node sandbox: `node-i` on 198.18.<i - 1>.0/24."""
    return [NodeSlot(name=n, subnet=node_subnet(i)) for i, n in enumerate(node_names(count))]


def place(cluster: Cluster, nodes: Sequence[NodeSlot]) -> tuple[Cluster, list[str]]:
    """`cluster` with every pod that runs in the sandbox on a node, with an IPv4 address; and
    warnings for the `spec.nodeName`s that name no sandbox node."""
    if not nodes:
        raise ValueError("a sandbox needs at least one node")
    warnings: list[str] = []
    chosen = _choose_nodes(cluster, nodes, warnings)
    by_node = {slot.name: slot for slot in nodes}
    free = _Free(cluster, nodes)
    addressed: dict[str, Pod] = {}
    # In name order, so the addresses do not depend on the order of the manifests.
    for pod in sorted(cluster.pods, key=lambda p: p.key):
        node = chosen.get(pod.key)
        if node is None:
            addressed[pod.key] = pod
            continue
        ips = pod.ips if _v4(pod) else (free.take(by_node[node].subnet), *pod.ips)
        addressed[pod.key] = replace(pod, node=node, ips=ips)
    pods = tuple(addressed[p.key] for p in cluster.pods)
    return replace(cluster, pods=pods), warnings


def stand_in(cluster: Cluster, nodes: Sequence[NodeSlot]) -> tuple[Cluster, list[str]]:
    """`cluster` with its Nodes standing for sandbox nodes: their addresses the sandbox node's,
    the pods naming one on that node, each host-network pod at its node's address (on the
    first node when it names none)."""
    if not nodes:
        raise ValueError("a sandbox needs at least one node")
    names = [slot.name for slot in nodes]
    index = {name: i for i, name in enumerate(names)}
    stand = {node.name: names[i % len(names)] for i, node in enumerate(cluster.nodes)}
    warnings = []
    if len(cluster.nodes) > len(names):
        warnings.append(
            f"{len(cluster.nodes)} Nodes for {len(names)} sandbox nodes: some share an address"
        )
    out_nodes = tuple(
        replace(n, addresses=(node_address(index[stand[n.name]]),)) for n in cluster.nodes
    )
    pods = []
    for pod in cluster.pods:
        node = stand.get(pod.node or "", pod.node)
        if pod.host_network:
            node = node if node in index else names[0]
            pod = replace(pod, node=node, ips=(node_address(index[node]),))
        elif node != pod.node:
            pod = replace(pod, node=node)
        pods.append(pod)
    return replace(cluster, nodes=out_nodes, pods=tuple(pods)), warnings


def keep(cluster: Cluster, previous: Cluster) -> Cluster:
    """`cluster` with each pod on the node and at the addresses it has in `previous`, if any."""
    before = {p.key: p for p in previous.pods}
    pods = tuple(
        replace(p, node=before[p.key].node, ips=before[p.key].ips) if p.key in before else p
        for p in cluster.pods
    )
    return replace(cluster, pods=pods)


def _choose_nodes(
    cluster: Cluster, nodes: Sequence[NodeSlot], warnings: list[str]
) -> dict[str, str]:
    names = [slot.name for slot in nodes]
    chosen: dict[str, str] = {}
    turn = 0
    for pod in cluster.pods:
        if pod.host_network:
            continue  # not run in the sandbox
        if pod.node in names:
            chosen[pod.key] = pod.node
            continue
        if system.is_system(pod):
            chosen[pod.key] = names[0]
            continue
        chosen[pod.key] = names[turn % len(names)]
        turn += 1
        if pod.node is not None:
            warnings.append(
                f"pod {pod.key}: spec.nodeName {pod.node!r} is not a sandbox node "
                f"({', '.join(names)}): it runs on {chosen[pod.key]}"
            )
    return chosen


def _v4(pod: Pod) -> bool:
    return any(ip.version == 4 for ip in pod.ips)


class _Free:
    """Free pod addresses: in a node's range first, then outside every node's range."""

    def __init__(self, cluster: Cluster, nodes: Sequence[NodeSlot]) -> None:
        self._taken: set[ipaddress.IPv4Address] = {
            ip for p in cluster.pods for ip in p.ips if isinstance(ip, ipaddress.IPv4Address)
        }
        self._node_ranges = [slot.subnet for slot in nodes]

    def take(self, subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
        for ip in itertools.chain(self._hosts(subnet), self._elsewhere()):
            if ip not in self._taken:
                self._taken.add(ip)
                return ip
        raise AddressesExhausted("no pod address left in the sandbox range")

    def _elsewhere(self) -> Iterator[ipaddress.IPv4Address]:
        for subnet in POD_SUPERNET.subnets(new_prefix=24):
            if subnet != NODE_RANGE and subnet not in self._node_ranges:
                yield from self._hosts(subnet)

    @staticmethod
    def _hosts(subnet: ipaddress.IPv4Network) -> Iterator[ipaddress.IPv4Address]:
        base = subnet.network_address
        return (base + offset for offset in range(_FIRST_HOST, 255))


def placed_on(cluster: Cluster) -> Mapping[str, list[str]]:
    """Node name → keys of the pods placed on it, in the order of the manifests."""
    out: dict[str, list[str]] = {}
    for pod in cluster.pods:
        if pod.node is not None and not pod.host_network:
            out.setdefault(pod.node, []).append(pod.key)
    return out
