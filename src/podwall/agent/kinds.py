"""The kinds the agent watches, and what it keeps of each object: a model object, no JSON.

An object's JSON is converted by `podwall.model.convert` as soon as it arrives and dropped:
the cache holds its resourceVersion and the model object only (labels, addresses, ports,
selectors), so `managedFields`, annotations, container specs and statuses never stay in memory.
(A policy outside the node's scope waits as its spec's JSON until it matters: see `cache`.)

What policy needs on a node:
- Namespaces (labels, for namespaceSelector), Pods (labels, addresses, named ports, node,
  hostNetwork), NetworkPolicies;
- Services only with `--service-dnat` (the sandbox's own DNAT; on a real cluster kube-proxy or
  the CNI does it, and a second DNAT would fight it). The compiler picks the endpoints of a
  Service from the pods its selector matches; only a Service without a selector (the
  `kubernetes` Service: the API server) takes its endpoints from its EndpointSlices, so those
  are watched too, and each keeps only its addresses and ports (`SliceBackends`);
- Nodes, to tell when `--node-name` names no node, and for their addresses (the `nodes` peers
  of ClusterNetworkPolicies);
- ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2), the Admin and Baseline tiers,
  and their predecessors AdminNetworkPolicies and the BaselineAdminNetworkPolicy (v1alpha1),
  read into the same model. Their CRDs are often not installed: a 404 on a list means none
  (`optional`, see `watch`).

Pods that have finished (Succeeded, Failed) are left out: their addresses go back to the pool
and may already belong to a new pod. Host-network pods are kept: they are never isolated and
no selector matches them (their packets carry the node's address), as the engine decides.
A NetworkPolicy that cannot be converted isolates what it selects with no rule allowing
anything (fail closed), and the error is logged; a ClusterNetworkPolicy that cannot be converted
denies everything to and from its subject at its tier and priority (or at the Admin tier's
first place when even those are unreadable), and the error is logged; so does an
AdminNetworkPolicy (at its priority) or the BaselineAdminNetworkPolicy (at the Baseline tier).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podwall.model import convert, rawobject
from podwall.model.cluster import Backend, Namespace, Node, Pod, Service
from podwall.model.clusterpolicy import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_PRIORITY,
    KIND,
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    NamespacedPod,
    Subject,
    Tier,
)
from podwall.model.labels import LabelSelector
from podwall.model.policy import NetworkPolicy, PolicyType
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject

log = logging.getLogger(__name__)

_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)
FINISHED = frozenset({"Succeeded", "Failed"})
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceBackends:
    """What an EndpointSlice says of its Service: the ready addresses and the ports."""

    namespace: str
    service: str
    backends: tuple[Backend, ...]

    @property
    def service_key(self) -> str:
        return f"{self.namespace}/{self.service}"


Model = Namespace | Pod | Service | NetworkPolicy | Node | ClusterNetworkPolicy | SliceBackends


@dataclass(frozen=True, slots=True)
class Kind:
    """One watched kind: where it is listed, and whether its objects live in namespaces."""

    name: str  # the resource, plural: `pods`
    group: str  # "" for the core group
    kind: str
    namespaced: bool
    version: str = "v1"
    optional: bool = False  # served only where a CRD is installed: a 404 means none

    @property
    def path(self) -> str:
        """The cluster-wide collection: `/api/v1/pods`, `/apis/networking.k8s.io/v1/...`."""
        if self.group:
            return f"/apis/{self.group}/{self.version}/{self.name}"
        return f"/api/{self.version}/{self.name}"


NAMESPACES = Kind("namespaces", "", "Namespace", namespaced=False)
PODS = Kind("pods", "", "Pod", namespaced=True)
SERVICES = Kind("services", "", "Service", namespaced=True)
NETWORK_POLICIES = Kind("networkpolicies", "networking.k8s.io", "NetworkPolicy", namespaced=True)
NODES = Kind("nodes", "", "Node", namespaced=False)
CLUSTER_NETWORK_POLICIES = Kind(
    "clusternetworkpolicies", "policy.networking.k8s.io", "ClusterNetworkPolicy",
    namespaced=False, version="v1alpha2", optional=True,
)  # fmt: skip
ADMIN_NETWORK_POLICIES = Kind(
    "adminnetworkpolicies", "policy.networking.k8s.io", ADMIN_NETWORK_POLICY,
    namespaced=False, version="v1alpha1", optional=True,
)  # fmt: skip
BASELINE_ADMIN_NETWORK_POLICIES = Kind(
    "baselineadminnetworkpolicies", "policy.networking.k8s.io", BASELINE_ADMIN_NETWORK_POLICY,
    namespaced=False, version="v1alpha1", optional=True,
)  # fmt: skip
# Every kind read into the ClusterNetworkPolicy model, in the order the snapshot lists them.
CLUSTER_POLICY_KINDS = (
    CLUSTER_NETWORK_POLICIES, ADMIN_NETWORK_POLICIES, BASELINE_ADMIN_NETWORK_POLICIES,
)  # fmt: skip
ENDPOINT_SLICES = Kind("endpointslices", "discovery.k8s.io", "EndpointSlice", namespaced=True)


def watched(service_dnat: bool) -> tuple[Kind, ...]:
    """The kinds the agent lists and watches (the DaemonSet's ClusterRole grants these)."""
    base = (NAMESPACES, PODS, NETWORK_POLICIES, NODES, *CLUSTER_POLICY_KINDS)
    return (*base, SERVICES, ENDPOINT_SLICES) if service_dnat else base


def metadata(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def key_of(body: Mapping[str, Any]) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object."""
    meta = metadata(body)
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def resource_version(body: Mapping[str, Any]) -> str:
    return str(metadata(body).get("resourceVersion") or "")


def model_of(kind: Kind, body: Mapping[str, Any]) -> Model | None:
    """The model object the snapshot holds for `body`; None when policy does not see it."""
    raw = RawObject(body=body)
    if kind is PODS:
        phase = (body.get("status") or {}).get("phase")
        return None if phase in FINISHED else convert.pod(raw)
    if kind is NAMESPACES:
        return convert.namespace(raw)
    if kind is SERVICES:
        return convert.service(raw)
    if kind is NETWORK_POLICIES:
        return _policy(raw)
    if kind is NODES:
        return convert.node(raw)
    if kind in CLUSTER_POLICY_KINDS:
        # The kind decides the reading; a list's items may leave it out.
        return _cluster_policy(raw if raw.kind else RawObject(body={**body, "kind": kind.kind}))
    if kind is ENDPOINT_SLICES:
        return slice_backends(body)
    return None


def slice_backends(body: Mapping[str, Any]) -> SliceBackends | None:
    """The ready IPv4 endpoints of an EndpointSlice times its ports; None for a slice of no
    Service or of another address type. Malformed entries are skipped: a slice is written
    by a controller, and a Service with fewer endpoints is still a Service."""
    meta = metadata(body)
    labels = meta.get("labels")
    service = labels.get(SERVICE_NAME_LABEL) if isinstance(labels, Mapping) else None
    if not isinstance(service, str) or body.get("addressType") != "IPv4":
        return None
    ports = [p for p in body.get("ports") or () if isinstance(p, Mapping)]
    out = []
    for endpoint in body.get("endpoints") or ():
        if not isinstance(endpoint, Mapping) or not _ready(endpoint):
            continue
        for address in endpoint.get("addresses") or ():
            out.extend(_backends(str(address), ports))
    return SliceBackends(
        namespace=str(meta.get("namespace") or ""), service=service, backends=tuple(out)
    )


def _ready(endpoint: Mapping[str, Any]) -> bool:
    conditions = endpoint.get("conditions")
    # "ready: nil" means ready, as kube-proxy reads it.
    return not isinstance(conditions, Mapping) or conditions.get("ready") is not False


def _backends(address: str, ports: list[Mapping[str, Any]]) -> list[Backend]:
    out = []
    for port in ports:
        number, protocol = port.get("port"), port.get("protocol") or "TCP"
        if type(number) is not int or protocol not in ("TCP", "UDP", "SCTP"):
            continue
        name = port.get("name")
        out.append(
            Backend(
                address=address,
                port=number,
                protocol=Protocol(protocol),
                name=str(name) if name else None,
            )
        )
    return out


def _policy(raw: RawObject) -> NetworkPolicy:
    try:
        return convert.network_policy(raw)
    except _UNREADABLE as exc:
        log.error(
            "cannot read NetworkPolicy %s/%s (%s: %s): it isolates what it selects and "
            "allows nothing until it is fixed",
            raw.namespace, raw.name, type(exc).__name__, exc,
        )  # fmt: skip
        return closed_policy(raw)


def closed_policy(raw: RawObject) -> NetworkPolicy:
    """A policy that isolates the pods `raw` would select (its whole namespace when even the
    podSelector is unreadable), in the directions it declares (both when unreadable)."""
    spec = raw.body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    try:
        selector = rawobject.selector(spec.get("podSelector"))
    except (KeyError, TypeError, ValueError, AttributeError):
        selector = LabelSelector()
    try:
        types = frozenset(PolicyType(t) for t in spec.get("policyTypes") or ())
    except (TypeError, ValueError):
        types = frozenset()
    return NetworkPolicy(
        namespace=raw.namespace,
        name=raw.name,
        pod_selector=selector,
        policy_types=types or frozenset({PolicyType.INGRESS, PolicyType.EGRESS}),
    )


def _cluster_policy(raw: RawObject) -> ClusterNetworkPolicy | None:
    try:
        if raw.kind == KIND:
            return convert.cluster_network_policy(raw)
        return convert.admin_network_policy(raw)
    except _UNREADABLE as exc:
        closed = closed_cluster_policy(raw)
        log.error(
            "cannot read %s %s (%s: %s): %s until it is fixed",
            raw.kind, raw.name, type(exc).__name__, exc,
            "it denies everything to and from its subject" if closed else "it is left out",
        )  # fmt: skip
        return closed


def closed_cluster_policy(raw: RawObject) -> ClusterNetworkPolicy | None:
    """A policy that denies every connection of the pods `raw`'s subject selects, in both
    directions, at its tier and priority (Admin, 0 when unreadable): an empty peer matches
    everything for a Deny rule. None when even the subject is unreadable: denying the whole
    cluster would cut the node off from everything, DNS included. An AdminNetworkPolicy's
    tier is Admin, the BaselineAdminNetworkPolicy's Baseline, after every other."""
    spec = raw.body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    try:
        subject = _subject(spec.get("subject"))
    except _UNREADABLE:
        return None
    if subject is None:
        return None
    tier, priority = _place(raw.kind, spec)
    deny = (ClusterRule(name="unreadable", action=Action.DENY, peers=(ClusterPeer(),)),)
    return ClusterNetworkPolicy(
        name=raw.name,
        tier=tier,
        priority=priority,
        subject=subject,
        ingress=deny,
        egress=deny,
        kind=raw.kind
        if raw.kind in (ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY)
        else KIND,
    )


def _place(kind: str, spec: Mapping[str, Any]) -> tuple[Tier, int]:
    """The tier and priority of a policy whose rules are unreadable (Admin, 0 when even these
    are)."""
    if kind == BASELINE_ADMIN_NETWORK_POLICY:
        return Tier.BASELINE, BASELINE_ADMIN_PRIORITY
    try:
        tier = Tier.ADMIN if kind == ADMIN_NETWORK_POLICY else Tier(str(spec.get("tier")))
        return tier, int(spec["priority"])
    except _UNREADABLE:
        return Tier.ADMIN, 0


def _subject(raw: object) -> Subject | None:
    if not isinstance(raw, Mapping):
        return None
    pods = raw.get("pods")
    if isinstance(pods, Mapping):
        return Subject(
            pods=NamespacedPod(
                namespace_selector=rawobject.selector(pods.get("namespaceSelector")),
                pod_selector=rawobject.selector(pods.get("podSelector")),
            )
        )
    if isinstance(raw.get("namespaces"), Mapping):
        return Subject(namespaces=rawobject.selector(raw["namespaces"]))
    return None
