"""Patch metadata of the built-in kinds podwall serves: the merge-key table.

Derived by hand from the upstream Go struct tags (Kubernetes 1.32-era sources):

* `patchStrategy:"merge" patchMergeKey:"…"` and `patchStrategy:"retainKeys"` drive the strategic
  merge patch (`strategic.py`);
* `+listType=map|set|atomic`, `+listMapKey=…`, `+mapType=atomic` and `+structType=atomic` drive
  server-side apply (`apply.py`).

Sources: `staging/src/k8s.io/api/core/v1/types.go` (Pod, Container, Service, Endpoints,
Namespace, Node, Event, ConfigMap, ReplicationController), `staging/src/k8s.io/api/apps/v1/types.go`
(Deployment, ReplicaSet, DaemonSet), `staging/src/k8s.io/api/networking/v1/types.go`
(NetworkPolicy: every list is atomic, no patch strategy) and
`k8s.io/apimachinery/pkg/apis/meta/v1/types.go` (ObjectMeta, LabelSelector, Condition).

Only fields that carry metadata, or lead to one that does, are listed. A field missing from a
struct has no patch strategy: maps merge key by key and lists are replaced whole. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MERGE = "merge"
REPLACE = "replace"


@dataclass(frozen=True)
class Field:
    """The patch metadata of one field, and the fields of its value (or of its elements)."""

    patch_strategy: str = ""  # SMP: "merge", "replace" or "" (maps merge, lists replace)
    merge_key: str = ""  # SMP: patchMergeKey
    retain_keys: bool = False  # SMP: the strategy also lists retainKeys
    list_type: str = ""  # SSA: "map", "set", "atomic"; "" (untyped) behaves as atomic
    list_map_keys: tuple[str, ...] = ()  # SSA: +listMapKey, in order
    atomic: bool = False  # SSA: +mapType=atomic or +structType=atomic
    atomic_elements: bool = False  # SSA: the element type is +structType=atomic
    struct: Mapping[str, Field] = field(default_factory=dict)


Struct = Mapping[str, Field]
NO_FIELD = Field()


def keyed(
    merge_key: str,
    struct: Struct | None = None,
    *,
    map_keys: tuple[str, ...] = (),
    retain_keys: bool = False,
    atomic_elements: bool = False,
) -> Field:
    """A list merged on `merge_key` by SMP and associative (listType=map) for SSA."""
    return Field(
        patch_strategy=MERGE,
        merge_key=merge_key,
        retain_keys=retain_keys,
        list_type="map",
        list_map_keys=map_keys or (merge_key,),
        atomic_elements=atomic_elements,
        struct=struct or {},
    )


def atomic_list(struct: Struct | None = None) -> Field:
    """+listType=atomic without a patch strategy: both SMP and SSA replace it."""
    return Field(list_type="atomic", struct=struct or {})


def nested(struct: Struct, *, atomic: bool = False, retain_keys: bool = False) -> Field:
    """A struct-valued field (granular unless +structType=atomic)."""
    return Field(atomic=atomic, retain_keys=retain_keys, struct=struct)


ATOMIC = Field(atomic=True)  # +mapType=atomic / +structType=atomic leaf (whole value replaced)

# metav1.LabelSelector is +structType=atomic; matchExpressions is +listType=atomic.
LABEL_SELECTOR = nested({"matchExpressions": atomic_list()}, atomic=True)

# metav1.ObjectMeta
OBJECT_META: Struct = {
    # patchStrategy=merge patchMergeKey=uid, listType=map listMapKey=uid; OwnerReference is
    # +structType=atomic.
    "ownerReferences": keyed("uid", atomic_elements=True),
    "finalizers": Field(patch_strategy=MERGE, list_type="set"),  # primitives, merged as a set
    "managedFields": atomic_list(),
}

CONDITIONS = keyed("type")  # every status.conditions below: merge on type, listMapKey=type

# core/v1.Container (and EphemeralContainerCommon: same tags)
CONTAINER: Struct = {
    "command": atomic_list(),
    "args": atomic_list(),
    "ports": keyed("containerPort", map_keys=("containerPort", "protocol")),
    "envFrom": atomic_list(),
    "env": keyed("name"),
    "resources": nested({"claims": Field(list_type="map", list_map_keys=("name",))}),
    "resizePolicy": atomic_list(),
    "volumeMounts": keyed("mountPath"),
    "volumeDevices": keyed("devicePath"),
}

POD_SPEC: Struct = {
    "volumes": keyed("name", retain_keys=True),  # patchStrategy=merge,retainKeys
    "initContainers": keyed("name", CONTAINER),
    "containers": keyed("name", CONTAINER),
    "ephemeralContainers": keyed("name", CONTAINER),
    "nodeSelector": ATOMIC,  # +mapType=atomic (SSA only; SMP merges maps)
    "imagePullSecrets": keyed("name", atomic_elements=True),  # LocalObjectReference: atomic
    "tolerations": atomic_list(),  # no patch strategy: replaced whole
    "hostAliases": keyed("ip"),
    "readinessGates": atomic_list(),
    "topologySpreadConstraints": keyed(
        "topologyKey",
        {"labelSelector": LABEL_SELECTOR},
        map_keys=("topologyKey", "whenUnsatisfiable"),
    ),
    "schedulingGates": keyed("name"),
    "resourceClaims": keyed("name", retain_keys=True),  # patchStrategy=merge,retainKeys
}

POD_STATUS: Struct = {
    "conditions": CONDITIONS,
    # patchStrategy=merge patchMergeKey=ip, but +listType=atomic for SSA.
    "hostIPs": Field(patch_strategy=MERGE, merge_key="ip", list_type="atomic"),
    "podIPs": keyed("ip"),
    "initContainerStatuses": atomic_list(),
    "containerStatuses": atomic_list(),
    "ephemeralContainerStatuses": atomic_list(),
    "resourceClaimStatuses": keyed("name", retain_keys=True),
}

POD_TEMPLATE_SPEC = nested({"metadata": nested(OBJECT_META), "spec": nested(POD_SPEC)})

SERVICE_SPEC: Struct = {
    "ports": keyed("port", map_keys=("port", "protocol")),
    "selector": ATOMIC,  # +mapType=atomic
    "clusterIPs": atomic_list(),
    "externalIPs": atomic_list(),
    "loadBalancerSourceRanges": atomic_list(),
    "ipFamilies": atomic_list(),
}

SERVICE_STATUS: Struct = {
    "loadBalancer": nested({"ingress": atomic_list()}),
    "conditions": CONDITIONS,  # []metav1.Condition, merge on type
}

# core/v1.Node: what `kubectl taint` and `kubectl cordon` patch (strategic merge patches).
NODE_SPEC: Struct = {
    "podCIDRs": Field(patch_strategy=MERGE, list_type="set"),  # patchStrategy=merge, set
    "taints": atomic_list(),  # no patch strategy: replaced whole
}
NODE_STATUS: Struct = {
    "conditions": CONDITIONS,
    "addresses": keyed("type"),  # patchStrategy=merge patchMergeKey=type
    "volumesInUse": atomic_list(),
    "volumesAttached": atomic_list(),
    "images": atomic_list(),
}

# core/v1.ReplicationController: the selector is a +mapType=atomic map (SSA only; SMP merges).
REPLICATION_CONTROLLER_SPEC: Struct = {"selector": ATOMIC, "template": POD_TEMPLATE_SPEC}

# apps/v1
DEPLOYMENT_SPEC: Struct = {
    "selector": LABEL_SELECTOR,
    "template": POD_TEMPLATE_SPEC,
    "strategy": nested({}, retain_keys=True),  # patchStrategy=retainKeys
}
REPLICA_SET_SPEC: Struct = {"selector": LABEL_SELECTOR, "template": POD_TEMPLATE_SPEC}
DAEMON_SET_SPEC: Struct = REPLICA_SET_SPEC  # updateStrategy has no patch strategy
STATEFUL_SET_SPEC: Struct = {**REPLICA_SET_SPEC, "volumeClaimTemplates": atomic_list()}
WORKLOAD_STATUS: Struct = {"conditions": CONDITIONS}

# batch/v1
JOB_SPEC: Struct = {"selector": LABEL_SELECTOR, "template": POD_TEMPLATE_SPEC}
CRON_JOB_SPEC: Struct = {"jobTemplate": nested({"spec": nested(JOB_SPEC)})}

# networking/v1: ingress, egress, policyTypes, ports, from, to, except are all +listType=atomic
# without a patch strategy, so a strategic merge patch replaces each of them whole.
NETWORK_POLICY_SPEC: Struct = {
    "podSelector": LABEL_SELECTOR,
    "ingress": atomic_list(),
    "egress": atomic_list(),
    "policyTypes": atomic_list(),
}


def _kind(**fields: Field) -> Struct:
    return {"metadata": nested(OBJECT_META), **fields}


KINDS: Mapping[str, Struct] = {
    "Namespace": _kind(
        spec=nested({"finalizers": atomic_list()}),  # +listType=atomic, no patch strategy
        status=nested({"conditions": CONDITIONS}),
    ),
    "Pod": _kind(spec=nested(POD_SPEC), status=nested(POD_STATUS)),
    "Service": _kind(spec=nested(SERVICE_SPEC), status=nested(SERVICE_STATUS)),
    "Endpoints": _kind(subsets=atomic_list()),
    "Node": _kind(
        spec=nested(NODE_SPEC), status=nested(NODE_STATUS)
    ),  # +listType=atomic, elements atomic too
    "ReplicationController": _kind(
        spec=nested(REPLICATION_CONTROLLER_SPEC), status=nested(WORKLOAD_STATUS)
    ),
    "Deployment": _kind(spec=nested(DEPLOYMENT_SPEC), status=nested(WORKLOAD_STATUS)),
    "ReplicaSet": _kind(spec=nested(REPLICA_SET_SPEC), status=nested(WORKLOAD_STATUS)),
    "DaemonSet": _kind(spec=nested(DAEMON_SET_SPEC), status=nested(WORKLOAD_STATUS)),
    "StatefulSet": _kind(spec=nested(STATEFUL_SET_SPEC), status=nested(WORKLOAD_STATUS)),
    "ControllerRevision": _kind(data=ATOMIC),
    "Job": _kind(spec=nested(JOB_SPEC), status=nested(WORKLOAD_STATUS)),
    "CronJob": _kind(spec=nested(CRON_JOB_SPEC)),
    "NetworkPolicy": _kind(spec=nested(NETWORK_POLICY_SPEC)),
    "Event": _kind(involvedObject=ATOMIC, related=ATOMIC),  # ObjectReference: structType=atomic
    "ConfigMap": _kind(),
    "Secret": _kind(),
}


def struct_for(kind: str) -> Struct | None:
    """The field table of a served kind, or None for a kind without one (a CRD, say)."""
    return KINDS.get(kind)


def child(struct: Struct, key: str) -> Field:
    """forkedjson.LookupPatchMetadata, leniently: an unknown field has no metadata."""
    return struct.get(key, NO_FIELD)
