"""A sandbox cluster's network: the underlay, its nodes, and the ruleset of each node.

Each node is a `NodeSandbox` attached to the underlay by the fabric's name, with its own
`Dataplane` compiled for that node alone (`Compiler(node)`: egress of the pods on it, ingress
of the pods on it; pods of other nodes are only peer addresses). A connection between pods of
two nodes is checked twice, each half where it belongs: the source's egress on the source's
node, the destination's ingress on the destination's node. Every node's table holds every
service's DNAT, so a ClusterIP (cluster DNS included) works from every node.

Fail closed is the caller's order: `create` makes nodes without pods, `sync` loads every node's
ruleset, and only then `add_pod`. `destroy` removes everything by name, and keeps going past
failures. Not thread-safe: one owner.

With `flow_log`, every node's ruleset logs its verdicts and each node reads them (`NodeFlows`,
bound in the node's namespace when the node is made, fed each snapshot at `sync`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from podwall.flows.flow import Flow
from podwall.flows.merge import Joiner
from podwall.model.cluster import Cluster
from podwall.nft.flowlog import FlowLog
from podwall.runtime import names
from podwall.runtime.addressplan import MAX_NODES, node_subnet
from podwall.runtime.dataplane import Dataplane, SyncResult
from podwall.runtime.errors import SandboxError
from podwall.runtime.flowlog import NodeFlows
from podwall.runtime.lifecycle import Lifecycle
from podwall.runtime.netns import NodeSandbox, PodNetwork
from podwall.runtime.placement import NodeSlot
from podwall.runtime.underlay import Underlay


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxNode:
    name: str  # the Kubernetes node name, also its namespace's suffix
    network: NodeSandbox
    dataplane: Dataplane
    flows: NodeFlows | None = None

    @property
    def address(self) -> ipaddress.IPv4Address | None:
        return self.network.address

    @property
    def slot(self) -> NodeSlot:
        return NodeSlot(name=self.name, subnet=self.network.subnet)


class Sandbox(Lifecycle):
    """The underlay and the nodes of one sandbox cluster; `destroy` removes them all."""

    def __init__(
        self, cluster_id: str, node_names: list[str], *, flow_log: FlowLog | None = None
    ) -> None:
        self.cluster_id = names.check_cluster_id(cluster_id)
        self.flow_log = flow_log
        self.underlay = Underlay(cluster_id)
        self._names = [names.check_node(n) for n in node_names]
        if len(set(self._names)) != len(self._names):
            raise ValueError(f"node names must differ: {', '.join(self._names)}")
        if len(self._names) > MAX_NODES:
            raise ValueError(f"a sandbox holds at most {MAX_NODES} nodes")
        self.nodes: dict[str, SandboxNode] = {}

    def __repr__(self) -> str:
        return f"Sandbox({self.underlay.netns!r}, nodes={list(self.nodes)})"

    @property
    def slots(self) -> list[NodeSlot]:
        """The nodes pods may be placed on, created or not yet."""
        return [NodeSlot(name=n, subnet=node_subnet(i)) for i, n in enumerate(self._names)]

    def create(self) -> None:
        """The underlay, then every node attached to it; no ruleset and no pod yet."""
        self.underlay.create()
        for name in self._names:
            if name not in self.nodes:
                self.add_node(name)

    def add_node(self, name: str) -> SandboxNode:
        """Create node `name` and attach it (a new name joins as the next node); its ruleset is
        empty until the next `sync`, so give it no pod before that."""
        if name in self.nodes:
            raise SandboxError(f"node {name} already exists in {self.underlay.netns}")
        if name not in self._names:
            self._names.append(names.check_node(name))
        index = self._names.index(name)  # node i's range and address never change
        if index >= MAX_NODES:
            raise SandboxError(f"a sandbox holds at most {MAX_NODES} nodes")
        network = NodeSandbox(self.cluster_id, name, index, underlay=self.underlay.netns)
        network.create()
        dataplane = Dataplane(network.netns, name, flow_log=self.flow_log)
        node = SandboxNode(name=name, network=network, dataplane=dataplane)
        self.nodes[name] = node
        if self.flow_log is not None:
            flows = NodeFlows(network.netns, name, dataplane.tags, self.flow_log)
            self.nodes[name] = node = dataclasses.replace(node, flows=flows)
        return node

    def sync(self, cluster: Cluster) -> dict[str, SyncResult]:
        """Every node's ruleset made to enforce `cluster` (pods placed by `Pod.node`)."""
        results = {}
        for name, node in self.nodes.items():
            results[name] = node.dataplane.sync(cluster)
            if node.flows is not None:
                node.flows.update(cluster)
        return results

    def flows(self) -> list[Flow]:
        """The flows every node has seen (the newest its ring holds), in time order, with the
        Service a connection was translated for on another node joined."""
        found = [e for n in self.nodes.values() if n.flows is not None for e in n.flows.entries()]
        return Joiner().feed(sorted(found, key=lambda e: e.time))

    def add_pod(self, node: str, key: str, ip: ipaddress.IPv4Address | None = None) -> PodNetwork:
        """Pod `key`'s network on node `node`."""
        if node not in self.nodes:
            raise SandboxError(f"pod {key}: no node {node} (nodes: {', '.join(self.nodes)})")
        return self.nodes[node].network.add_pod(key, ip)

    def destroy(self) -> None:
        """Remove every node (its pods and uplink), then the underlay, by name."""
        failures = []
        for node in self.nodes.values():
            if node.flows is not None:
                node.flows.stop()
        for name in list(self.nodes):
            try:
                self.nodes.pop(name).network.destroy()
            except SandboxError as exc:
                failures.append(str(exc))
        try:
            self.underlay.destroy()
        except SandboxError as exc:
            failures.append(str(exc))
        if failures:
            raise SandboxError("; ".join(failures))
