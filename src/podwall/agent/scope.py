"""What of the cluster a node's ruleset depends on: its policies are those of the namespaces
where the node has pods.

A NetworkPolicy selects pods of its own namespace only, so a policy of a namespace with no pod
on this node isolates nothing here and admits nothing here: leaving it out gives the very same
chains and rules (only sets no rule of this node looks up go too), and saves compiling and
loading most of a large cluster's policies on each node. Pods without a node count as this
node's, as the compiler counts them.

The scoped tuple of policies is rebuilt only when the policies or the node's namespaces
changed, and holds the very policy objects of the cache, so the compiler's identity diffs
stay as cheap as without the scope. ClusterNetworkPolicies (AdminNetworkPolicies too) and nodes
are kept whole: their subjects and peers may be in any namespace. Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import NetworkPolicy


class NodeScope:
    def __init__(self, node: str | None) -> None:
        self.node = node
        self._pods: tuple[Pod, ...] | None = None
        self._namespaces: frozenset[str] | None = None
        self._policies: tuple[NetworkPolicy, ...] | None = None
        self._scoped: tuple[NetworkPolicy, ...] = ()

    def apply(self, cluster: Cluster) -> Cluster:
        """`cluster` with only the policies that can matter on this node."""
        if self.node is None:
            return cluster
        if cluster.pods is not self._pods:
            self._pods = cluster.pods
            namespaces = frozenset(p.namespace for p in cluster.pods if p.node in (None, self.node))
            if namespaces != self._namespaces:
                self._namespaces = namespaces
                self._policies = None  # rebuild below
        if cluster.policies is not self._policies:
            self._policies = cluster.policies
            local = self._namespaces or frozenset()
            self._scoped = tuple(p for p in cluster.policies if p.namespace in local)
        return Cluster(
            namespaces=cluster.namespaces,
            pods=cluster.pods,
            services=cluster.services,
            policies=self._scoped,
            workloads=cluster.workloads,
            nodes=cluster.nodes,
            cluster_policies=cluster.cluster_policies,
        )
