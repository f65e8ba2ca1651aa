"""Kubernetes JSON to model objects: the only module that knows the API's field names.

Pure: no I/O here. NetworkPolicies must have passed `validation` first; conversion of the
other kinds is lenient, as podwall only needs their labels, addresses and ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from podwall.model.cidr import to_network
from podwall.model.cluster import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Namespace,
    Node,
    Pod,
    Service,
    ServicePort,
    Workload,
)
from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import (
    AUDIT,
    ENFORCEMENT_ANNOTATION,
    IPAddress,
    IPBlock,
    NetworkPolicy,
    Peer,
    PolicyType,
    Rule,
)
from podwall.model.ports import ContainerPort, PolicyPort, Protocol
from podwall.model.rawobject import (
    CLUSTER_SCOPED_KINDS,
    Raw,
    RawObject,
    as_map,
    labels_of,
    meta_of,
    selector,
    text_of,
)
from podwall.model.record import Record, field, replace
from podwall.model.shared import Shared

if TYPE_CHECKING:
    from podwall.model.clusterpolicy import ClusterNetworkPolicy

WORKLOAD_KINDS = {
    "Deployment": "deploy",
    "ReplicaSet": "rs",
    "ReplicationController": "rc",
    "StatefulSet": "sts",
    "DaemonSet": "ds",
    "Job": "job",
    "CronJob": "cronjob",
}
MODELLED_KINDS = frozenset(
    {
        "Namespace",
        "Pod",
        "Service",
        "NetworkPolicy",
        "Node",
        "ClusterNetworkPolicy",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        *WORKLOAD_KINDS,
    }
)


# Read field by field, never compared: identity equality is enough.
class Conversion(Record, frozen=False, eq=False):
    """A snapshot plus what was left out, for the `ignored N objects` line.

    `redeclared` names the objects given more than once; the last declaration is used.
    """

    cluster: Cluster
    ignored: dict[str, int] = field(default_factory=dict)
    redeclared: list[str] = field(default_factory=list)


def _policy_port(raw: Raw) -> PolicyPort:
    port = raw.get("port")
    return PolicyPort(
        protocol=Protocol(raw.get("protocol") or "TCP"),
        port=port if port is None or isinstance(port, int) else str(port),
        end_port=raw.get("endPort"),
    )


def _ip_block(raw: Raw) -> IPBlock:
    cidr = str(raw["cidr"])
    return IPBlock(
        cidr=to_network(cidr),
        except_=tuple(to_network(str(e)) for e in raw.get("except") or ()),
        text=cidr,
    )


def _peer(raw: Raw) -> Peer:
    if raw.get("ipBlock") is not None:
        return Peer(ip_block=_ip_block(raw["ipBlock"]))
    pod_sel, ns_sel = raw.get("podSelector"), raw.get("namespaceSelector")
    return Peer(
        pod_selector=None if pod_sel is None else selector(pod_sel),
        namespace_selector=None if ns_sel is None else selector(ns_sel),
    )


def _rule(raw: Raw | None, peers_field: str) -> Rule:
    raw = raw or {}
    return Rule(
        peers=tuple(_peer(as_map(p)) for p in raw.get(peers_field) or ()),
        ports=tuple(_policy_port(as_map(p)) for p in raw.get("ports") or ()),
    )


def network_policy(obj: RawObject) -> NetworkPolicy:
    """Convert a validated NetworkPolicy, applying the API server's `policyTypes` defaulting."""
    spec = obj.body.get("spec") or {}
    ingress = tuple(_rule(r, "from") for r in spec.get("ingress") or ())
    egress = tuple(_rule(r, "to") for r in spec.get("egress") or ())
    return NetworkPolicy(
        namespace=obj.namespace,
        name=obj.name,
        pod_selector=selector(spec.get("podSelector")),
        policy_types=_policy_types(spec, has_egress=bool(egress)),
        ingress=ingress,
        egress=egress,
        audit=_annotation(obj.body, ENFORCEMENT_ANNOTATION) == AUDIT,
        source=obj.source,
        types_declared=bool(spec.get("policyTypes")),
    )


def _annotation(body: Raw, name: str) -> object:
    annotations = meta_of(body).get("annotations")
    return annotations.get(name) if isinstance(annotations, Mapping) else None


def _policy_types(spec: Raw, *, has_egress: bool) -> frozenset[PolicyType]:
    # networking/v1 defaulting: "If this field is not specified, it will default based on the
    # existence of ingress or egress rules; policies that contain an egress section are assumed
    # to affect egress, and all policies (whether or not they contain an ingress section) are
    # assumed to affect ingress."
    declared = spec.get("policyTypes")
    if declared:
        return frozenset(PolicyType(t) for t in declared)
    if has_egress:
        return frozenset({PolicyType.INGRESS, PolicyType.EGRESS})
    return frozenset({PolicyType.INGRESS})


def namespace(obj: RawObject) -> Namespace:
    labels = labels_of(meta_of(obj.body))
    # The API server sets this immutable label on every namespace (since 1.21).
    labels[NAMESPACE_NAME_LABEL] = obj.name
    return Namespace(name=obj.name, labels=Labels(labels))


def _ips(status: Raw) -> tuple[IPAddress, ...]:
    texts: list[str] = [
        str(p["ip"]) for p in status.get("podIPs") or () if isinstance(p, Mapping) and p.get("ip")
    ]
    if status.get("podIP") and str(status["podIP"]) not in texts:
        texts.insert(0, str(status["podIP"]))
    out: list[IPAddress] = []
    for text in texts:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip not in out:
            out.append(ip)
    return tuple(out)


_PROTOCOLS: dict[str, Protocol] = {p.value: p for p in Protocol}


def _protocol(raw: object) -> Protocol | None:
    """A port's protocol (TCP when absent); None for one the API server would reject.

    A dict lookup: the Enum's own lookup by value cost more than the rest of a port's
    conversion, for every container port of every pod a node agent lists."""
    return _PROTOCOLS.get(str(raw or "TCP"))


def _container_ports(pod_spec: Raw) -> tuple[ContainerPort, ...]:
    """The ports every container declares, one tuple object for equal ones (`shared`)."""
    found = _declared_ports(pod_spec)
    return _PORTS.get(
        found,
        lambda: tuple(
            ContainerPort(port=n, protocol=proto, name=name, container=c)
            for n, proto, name, c in found
        ),
    )


def _declared_ports(pod_spec: Raw) -> tuple[tuple[int, Protocol, str | None, str | None], ...]:
    """(port, protocol, name, container) of each port the pod's containers declare."""
    out: list[tuple[int, Protocol, str | None, str | None]] = []
    containers = [*(pod_spec.get("containers") or ()), *(pod_spec.get("initContainers") or ())]
    for container in containers:
        if type(container) is not dict and not isinstance(container, Mapping):
            continue
        for p in container.get("ports") or ():
            if type(p) is not dict and not isinstance(p, Mapping):
                continue
            if not isinstance(p.get("containerPort"), int):
                continue
            protocol = _protocol(p.get("protocol"))
            if protocol is None:
                continue
            out.append((p["containerPort"], protocol, p.get("name"), container.get("name")))
    return tuple(out)


def _labels(data: dict[str, str]) -> Labels:
    """`Labels(data)`, one object for equal label sets (`shared`)."""
    return _LABELS.get(tuple(sorted(data.items())), lambda: Labels(data))


_PORTS: Shared[tuple[ContainerPort, ...]] = Shared()
_LABELS: Shared[Labels] = Shared()


def pod(obj: RawObject) -> Pod:
    spec = as_map(obj.body.get("spec"))
    status = as_map(obj.body.get("status"))
    return Pod(
        namespace=obj.namespace,
        name=obj.name,
        labels=_labels(labels_of(meta_of(obj.body))),
        ips=_ips(status),
        ports=_container_ports(spec),
        host_network=bool(spec.get("hostNetwork")),
        node=spec.get("nodeName"),
        source=obj.source,
    )


def cluster_network_policy(obj: RawObject) -> ClusterNetworkPolicy:
    """A ClusterNetworkPolicy that passed `cnpvalidation` (converted in `cnpconvert`, imported
    here: most inputs hold none, and its model costs every command's start)."""
    from podwall.model import cnpconvert

    return cnpconvert.cluster_network_policy(obj)


def admin_network_policy(obj: RawObject) -> ClusterNetworkPolicy:
    """An AdminNetworkPolicy or BaselineAdminNetworkPolicy (v1alpha1, by `obj.kind`) that passed
    `anpvalidation`, as the ClusterNetworkPolicy model holds it (`anpconvert`)."""
    from podwall.model import anpconvert

    if obj.kind == "BaselineAdminNetworkPolicy":
        return anpconvert.baseline_admin_network_policy(obj)
    return anpconvert.admin_network_policy(obj)


# The Nodes a ClusterNetworkPolicy's `nodes` peers select.


def node(obj: RawObject) -> Node:
    """A Node's labels and the IP addresses among its `status.addresses` (not host names)."""
    addresses: list[IPAddress] = []
    for item in as_map(obj.body.get("status")).get("addresses") or ():
        try:
            ip = ipaddress.ip_address(str(as_map(item).get("address")))
        except ValueError:
            continue  # a Hostname or DNS entry
        if ip not in addresses:
            addresses.append(ip)
    return Node(
        name=obj.name,
        labels=Labels(labels_of(meta_of(obj.body))),
        addresses=tuple(addresses),
        source=obj.source,
    )


def on_its_node(pods: list[Pod], nodes: list[Node]) -> list[Pod]:
    """Host-network pods without addresses get their node's: the API server reports a
    host-network pod's podIPs as its node's hostIPs."""
    by_name = {n.name: n for n in nodes}
    out = []
    for p in pods:
        found = by_name.get(p.node or "")
        if p.host_network and not p.ips and found is not None:
            p = replace(p, ips=found.addresses)
        out.append(p)
    return out


def _workload_spec(obj: RawObject) -> Raw:
    spec = as_map(obj.body.get("spec"))
    if obj.kind == "CronJob":
        spec = as_map(as_map(spec.get("jobTemplate")).get("spec"))
    return spec


def _template(obj: RawObject) -> Raw:
    return as_map(_workload_spec(obj).get("template"))


def workload_pod(obj: RawObject) -> Pod:
    """The pod a workload's template would create; it stands for all of its replicas."""
    template = _template(obj)
    spec = as_map(template.get("spec"))
    return Pod(
        namespace=obj.namespace,
        name=obj.name,
        labels=_labels(labels_of(meta_of(template))),
        ports=_container_ports(spec),
        host_network=bool(spec.get("hostNetwork")),
        workload=(obj.kind, obj.name),
        source=obj.source,
    )


def workload_selector(obj: RawObject) -> LabelSelector:
    raw = _workload_spec(obj).get("selector")
    if obj.kind == "ReplicationController" and isinstance(raw, Mapping) and raw:
        raw = {"matchLabels": raw}  # a plain label map; an empty one defaults to the template's
    if isinstance(raw, Mapping) and raw:
        try:
            return selector(raw)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # a selector the API server would reject: its pods carry the template's labels
    return LabelSelector(match_labels=tuple(sorted(labels_of(meta_of(_template(obj))).items())))


def _service_port(raw: object, node_ports: bool) -> ServicePort | None:
    """A ServicePort; targetPort defaults to port and a named one stays a name. Only a
    NodePort or LoadBalancer Service (`node_ports`) serves its node ports."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("port"), int):
        return None
    protocol = _protocol(raw.get("protocol"))
    if protocol is None:
        return None
    target = raw.get("targetPort")
    if not target or not isinstance(target, int | str):
        target = raw["port"]  # SetDefaults_Service: an absent, 0 or "" targetPort is the port
    return ServicePort(
        port=raw["port"],
        target_port=target,
        protocol=protocol,
        name=raw.get("name"),
        node_port=_node_port(raw.get("nodePort")) if node_ports else None,
    )


def _node_port(raw: object) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else None


def service(obj: RawObject) -> Service:
    spec = as_map(obj.body.get("spec"))
    raw_sel = spec.get("selector")
    node_ports = spec.get("type") in ("NodePort", "LoadBalancer")
    ports = tuple(
        sp
        for sp in (_service_port(raw, node_ports) for raw in spec.get("ports") or ())
        if sp is not None
    )
    return Service(
        namespace=obj.namespace,
        name=obj.name,
        selector=(
            LabelSelector(
                match_labels=tuple(sorted((str(k), text_of(v)) for k, v in raw_sel.items()))
            )
            if isinstance(raw_sel, Mapping) and raw_sel
            else None
        ),
        ports=ports,
        cluster_ip=spec.get("clusterIP"),
        source=obj.source,
    )


def cluster(objects: Iterable[RawObject]) -> Conversion:
    """Build a snapshot. A workload adds a stand-in pod only when no given pod is one of its own."""
    namespaces: list[Namespace] = []
    pods: list[Pod] = []
    services: list[Service] = []
    policies: list[NetworkPolicy] = []
    workloads: list[RawObject] = []
    nodes: list[Node] = []
    cluster_policies: list[ClusterNetworkPolicy] = []
    ignored: dict[str, int] = {}
    unique, redeclared = _last_declarations(objects)
    for obj in unique:
        kind = obj.kind
        if kind == "Namespace":
            namespaces.append(namespace(obj))
        elif kind == "Pod":
            pods.append(pod(obj))
        elif kind == "Service":
            services.append(service(obj))
        elif kind == "NetworkPolicy":
            policies.append(network_policy(obj))
        elif kind in WORKLOAD_KINDS:
            workloads.append(obj)
        elif kind == "Node":
            nodes.append(node(obj))
        elif kind == "ClusterNetworkPolicy":
            cluster_policies.append(cluster_network_policy(obj))
        elif kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
            cluster_policies.append(admin_network_policy(obj))
        else:
            ignored[kind or "<no kind>"] = ignored.get(kind or "<no kind>", 0) + 1
    pods += _stand_ins(workloads, pods)
    snapshot = Cluster.build(
        namespaces=namespaces,
        pods=on_its_node(pods, nodes),
        services=services,
        policies=policies,
        workloads=[_workload(w) for w in workloads],
        nodes=nodes,
        cluster_policies=cluster_policies,
    )
    return Conversion(cluster=snapshot, ignored=ignored, redeclared=redeclared)


def _last_declarations(objects: Iterable[RawObject]) -> tuple[list[RawObject], list[str]]:
    """One object per kind, namespace and name, as `kubectl apply` leaves it: the last wins.

    A manifest given twice (`-f k8s/ -f k8s/app.yaml`) must not double its pods.
    """
    out: list[RawObject] = []
    at: dict[tuple[str, str, str], int] = {}
    redeclared: list[str] = []
    for obj in objects:
        if not obj.name:
            out.append(obj)
            continue
        key = (obj.kind, "" if obj.kind in CLUSTER_SCOPED_KINDS else obj.namespace, obj.name)
        if key in at:
            out[at[key]] = obj
            if obj.describe() not in redeclared:
                redeclared.append(obj.describe())
        else:
            at[key] = len(out)
            out.append(obj)
    return out, redeclared


def _stand_ins(workloads: list[RawObject], pods: list[Pod]) -> list[Pod]:
    owned_kinds = {"ReplicaSet": "Deployment", "Job": "CronJob"}
    declared = {(o.kind, o.namespace, o.name) for o in workloads}
    taken = {p.key for p in pods}
    out: list[Pod] = []
    for obj in workloads:
        owner = _owner(obj)
        if (
            owner
            and owned_kinds.get(obj.kind) == owner[0]
            and (owner[0], obj.namespace, owner[1]) in declared
        ):
            continue  # its Deployment/CronJob already stands for these pods
        sel = workload_selector(obj)
        if any(p.namespace == obj.namespace and sel.matches(p.labels) for p in pods):
            continue  # the real pods are given
        stand_in = workload_pod(obj)
        if stand_in.key in taken:
            stand_in = replace(stand_in, name=f"{WORKLOAD_KINDS[obj.kind]}-{obj.name}")
        taken.add(stand_in.key)
        out.append(stand_in)
    return out


def _workload(obj: RawObject) -> Workload:
    return Workload(
        kind=obj.kind, namespace=obj.namespace, name=obj.name, selector=workload_selector(obj)
    )


def _owner(obj: RawObject) -> tuple[str, str] | None:
    for ref in meta_of(obj.body).get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("kind")), str(ref.get("name"))
    return None
