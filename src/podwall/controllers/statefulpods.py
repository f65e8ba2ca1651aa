"""StatefulSet pods: their stable identity, their revision and their health.

Mirrors pkg/controller/statefulset/stateful_set_utils.go: `getParentNameAndOrdinal`,
`getPodName`, `initIdentity`/`updateIdentity` (hostname = pod name, subdomain = serviceName,
the `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index` labels),
`newStatefulSetPod`, `newVersionedStatefulSetPod`, `getPodRevision`/`setPodRevision`,
`isRunningAndReady`, `isRunningAndAvailable`, `isHealthy`, `ApplyRevision`, and the registry's
defaults (SetDefaults_StatefulSet).

podwall serves no PersistentVolumeClaims: a pod does not get the volumes of the set's
volumeClaimTemplates (`claim_templates` names them, for the controller's warning). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import (
    controller_ref,
    deep,
    is_deleting,
    labels_of,
    name_of,
    namespace_of,
)
from podwall.controllers.podstatus import is_pod_available, is_pod_ready
from podwall.controllers.revisions import HASH_LABEL

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL = re.compile(r"(.*)-([0-9]+)$")


# -- the registry: defaults ------------------------------------------------------------------


def default_statefulset_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_StatefulSet (apps/v1), in place: OrderedReady, RollingUpdate with partition
    0, one replica, ten revisions, PVCs retained (MaxUnavailableStatefulSet is alpha: off)."""
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            strategy.setdefault("rollingUpdate", {})
        rolling = strategy.get("rollingUpdate")
        if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
            rolling.setdefault("partition", 0)
    policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    if isinstance(policy, dict):
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)


# -- identity ----------------------------------------------------------------------------------


def _spec(sts: Mapping[str, Any]) -> Mapping[str, Any]:
    spec: Mapping[str, Any] = sts.get("spec") or {}
    return spec


def replicas_of(sts: Mapping[str, Any]) -> int:
    value = _spec(sts).get("replicas")
    return 1 if value is None else int(value)


def start_ordinal(sts: Mapping[str, Any]) -> int:
    """spec.ordinals.start (0 when unset)."""
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def pod_name(sts: Mapping[str, Any], ordinal: int) -> str:
    return f"{name_of(sts)}-{ordinal}"


def ordinal_of(pod: Mapping[str, Any]) -> int | None:
    """getParentNameAndOrdinal's ordinal: the number after the last dash, or None."""
    match = _ORDINAL.fullmatch(name_of(pod))
    return int(match.group(2)) if match else None


def is_member(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """isMemberOf: the pod's name is `<set>-<ordinal>`."""
    match = _ORDINAL.fullmatch(name_of(pod))
    return match is not None and match.group(1) == name_of(sts)


def claim_templates(sts: Mapping[str, Any]) -> list[str]:
    """The names of spec.volumeClaimTemplates."""
    return [name_of(c) for c in _spec(sts).get("volumeClaimTemplates") or ()]


def new_pod(sts: Mapping[str, Any], ordinal: int, revision: str) -> Obj:
    """newStatefulSetPod + setPodRevision: the pod for `ordinal` at `revision` (a name)."""
    template: Mapping[str, Any] = _spec(sts).get("template") or {}
    template_meta = template.get("metadata") or {}
    name = pod_name(sts, ordinal)
    labels = dict(template_meta.get("labels") or {})
    labels.update({POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), HASH_LABEL: revision})
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace_of(sts),
        "labels": labels,
        "ownerReferences": [controller_ref(sts)],
    }
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            metadata[field] = deep({field: template_meta[field]})[field]
    spec = deep(template.get("spec") or {})
    spec["hostname"] = name
    if _spec(sts).get("serviceName"):
        spec["subdomain"] = str(_spec(sts)["serviceName"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def apply_revision(sts: Mapping[str, Any], revision: Mapping[str, Any]) -> Obj:
    """ApplyRevision: the set with the revision's template."""
    out = deep(sts)
    template = deep(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    out.setdefault("spec", {})["template"] = template
    return out


def pod_revision(pod: Mapping[str, Any]) -> str:
    """getPodRevision: the pod's controller-revision-hash label (a revision name)."""
    return labels_of(pod).get(HASH_LABEL, "")


# -- health ------------------------------------------------------------------------------------


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_created(pod: Mapping[str, Any]) -> bool:
    return bool(phase(pod))


def is_failed(pod: Mapping[str, Any]) -> bool:
    return phase(pod) in ("Failed", "Succeeded")


def is_running_and_ready(pod: Mapping[str, Any]) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: Mapping[str, Any], min_ready: int, now: datetime) -> bool:
    return phase(pod) == "Running" and is_pod_available(pod, min_ready, now)


def is_healthy(pod: Mapping[str, Any]) -> bool:
    """isHealthy: running, ready and not on its way out."""
    return is_running_and_ready(pod) and not is_deleting(pod)


def min_ready_seconds(sts: Mapping[str, Any]) -> int:
    return int(_spec(sts).get("minReadySeconds") or 0)
