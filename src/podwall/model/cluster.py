"""The cluster snapshot the engine decides over: namespaces, pods, nodes, services, policies.

Pure: no I/O here. A snapshot is immutable; build a new one for every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import IPAddress, NetworkPolicy
from podwall.model.ports import ContainerPort, Protocol
from podwall.model.record import Record, field, replace
from podwall.model.source import UNKNOWN, Source

if TYPE_CHECKING:  # the ClusterNetworkPolicy model is imported only by inputs that hold one
    from podwall.model.clusterpolicy import ClusterNetworkPolicy

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Namespace(Record):
    """A namespace; `declared` is False when objects name it but no manifest declares it."""

    name: str
    labels: Labels
    declared: bool = True


def implicit_namespace(name: str) -> Namespace:
    """A namespace that objects refer to but no manifest declares."""
    return Namespace(name=name, labels=Labels({NAMESPACE_NAME_LABEL: name}), declared=False)


class Pod(Record):
    """A pod as policy sees it. A workload's template stands for its pods (`workload` set)."""

    namespace: str
    name: str
    labels: Labels
    ips: tuple[IPAddress, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    host_network: bool = False
    workload: tuple[str, str] | None = None
    node: str | None = None
    source: Source = field(default=UNKNOWN, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def named_port(self, name: str, protocol: Protocol) -> int | None:
        """The number of the container port called `name` with `protocol`, if any."""
        for port in self.ports:
            if port.name == name and port.protocol is protocol:
                return port.port
        return None


class Node(Record):
    """A node as a ClusterNetworkPolicy `nodes` peer sees it: its labels and the addresses of
    its `status.addresses` (a host-network pod on it has the same ones)."""

    name: str
    labels: Labels
    addresses: tuple[IPAddress, ...] = ()
    source: Source = field(default=UNKNOWN, compare=False)


class ServicePort(Record):
    """A Service port: `target_port` is a number or the name of a container port;
    `node_port` is the port every node's addresses serve it on (NodePort, LoadBalancer)."""

    port: int
    target_port: int | str
    protocol: Protocol = Protocol.TCP
    name: str | None = None
    node_port: int | None = None


class Backend(Record):
    """An endpoint of a Service without a selector, as its EndpointSlices list it: an address
    and one of the slice's ports (named as the Service's port it serves)."""

    address: str
    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None


class Service(Record):
    """`backends` counts only without a selector (the `kubernetes` Service's API server, a
    Service whose endpoints someone else manages); with one, the selected pods are its
    endpoints."""

    namespace: str
    name: str
    selector: LabelSelector | None
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: str | None = None
    backends: tuple[Backend, ...] = ()
    source: Source = field(default=UNKNOWN, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Workload(Record):
    """A Deployment, StatefulSet, ... : `selector` finds its pods among the snapshot's pods."""

    kind: str
    namespace: str
    name: str
    selector: LabelSelector

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Cluster(Record, dict=True):  # dict: for cached_property
    """An immutable snapshot. Every namespace a pod or policy names is in `namespaces`."""

    namespaces: dict[str, Namespace]
    pods: tuple[Pod, ...]
    services: tuple[Service, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    workloads: tuple[Workload, ...] = ()
    nodes: tuple[Node, ...] = ()
    cluster_policies: tuple[ClusterNetworkPolicy, ...] = ()

    @staticmethod
    def build(
        *,
        namespaces: Iterable[Namespace] = (),
        pods: Iterable[Pod] = (),
        services: Iterable[Service] = (),
        policies: Iterable[NetworkPolicy] = (),
        workloads: Iterable[Workload] = (),
        nodes: Iterable[Node] = (),
        cluster_policies: Iterable[ClusterNetworkPolicy] = (),
    ) -> Cluster:
        nss = {ns.name: ns for ns in namespaces}
        pods, services, policies = tuple(pods), tuple(services), tuple(policies)
        referred = [p.namespace for p in pods] + [s.namespace for s in services]
        for name in referred + [p.namespace for p in policies]:
            if name not in nss:
                nss[name] = implicit_namespace(name)
        return Cluster(
            namespaces=nss,
            pods=pods,
            services=services,
            policies=policies,
            workloads=tuple(workloads),
            nodes=tuple(nodes),
            cluster_policies=tuple(cluster_policies),
        )

    @cached_property
    def policies_by_namespace(self) -> dict[str, tuple[NetworkPolicy, ...]]:
        out: dict[str, list[NetworkPolicy]] = {}
        for policy in self.policies:
            out.setdefault(policy.namespace, []).append(policy)
        return {ns: tuple(ps) for ns, ps in out.items()}

    @cached_property
    def pods_by_key(self) -> dict[str, Pod]:
        return {pod.key: pod for pod in self.pods}

    def enforced(self) -> Cluster:
        """This snapshot without its policies in audit mode: what the dataplane enforces."""
        if not any(p.audit for p in self.policies):
            return self
        kept = tuple(p for p in self.policies if not p.audit)
        return replace(self, policies=kept)

    def namespace(self, name: str) -> Namespace:
        return self.namespaces.get(name) or implicit_namespace(name)
