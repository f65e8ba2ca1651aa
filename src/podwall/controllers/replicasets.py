"""The ReplicaSet controller: create or delete pods until `spec.replicas` pods are active.

It runs ReplicationControllers (core/v1) too, as upstream's ReplicationManager runs this very
controller over them (pkg/controller/replication): pods belong by their controller reference,
which names the owner's own kind and apiVersion, and the status has the same fields. What
differs is said once: the selector (`selector_of`: a plain label map, not a LabelSelector), its
defaults (`default_replication_controller`: the template's labels) and the events' source
(`events`).

Mirrors pkg/controller/replicaset/replica_set.go (`syncReplicaSet`, `manageReplicas`,
`getPodsToDelete`), replica_set_utils.go (`calculateStatus`, `updateReplicaSetStatus`) and
`controller.GetPodFromTemplate` / `ActivePodsWithRanks` (pkg/controller/controller_utils.go).
Simplified: no expectations or slow-start batches (the server applies every action before the
next reconcile), no adoption of orphans, no pod-deletion-cost; pods belong to a ReplicaSet by
their controller ownerReference, and one whose labels its selector no longer picks is released
(ClaimPods' release: `kubectl label pod` takes a pod out of its set, which replaces it).
Pure: time and randomness are passed in.

Like upstream, the status counts the pods the reconcile *started* from: after it creates pods,
the next reconcile (on their creation) reports them.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.controllers import events
from podwall.controllers.actions import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.controllers.garbage import without_owners
from podwall.controllers.meta import (
    controlled_by,
    controller_ref,
    creation_key,
    deep,
    is_deleting,
    labels_of,
    meta,
    name_of,
    namespace_of,
    parse_time,
    uid_of,
    unconditional,
)
from podwall.controllers.naming import generate_name
from podwall.controllers.pods import default_pod_template
from podwall.controllers.podstatus import is_pod_available, is_pod_ready
from podwall.model.labels import LabelSelector
from podwall.model.labelselectors import SelectorError, as_selector

BURST_REPLICAS = 500
"""Most pods created or deleted by one sync (replicaset.BurstReplicas)."""

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def default_replicaset(rs: Mapping[str, Any]) -> Obj:
    """apps/v1 defaults: one replica; the pod template's defaults."""
    out = deep(rs)
    spec = out.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec["template"] = default_pod_template(spec.get("template") or {})
    return out


def default_replication_controller(rc: Mapping[str, Any]) -> Obj:
    """core/v1 SetDefaults_ReplicationController: a template with labels gives its labels to
    an empty selector and to the controller's own empty labels; one replica. The template's
    own defaults are the API server's, as for every pod template it admits."""
    out = deep(rc)
    spec = out.setdefault("spec", {})
    if not isinstance(spec, dict):
        return out  # the type check has refused it already
    template = spec.get("template")
    template_meta = template.get("metadata") if isinstance(template, dict) else None
    labels = template_meta.get("labels") if isinstance(template_meta, dict) else None
    if isinstance(labels, dict):  # Go's `labels != nil`: `{}` counts, an absent map does not
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        if not isinstance(out.get("metadata"), dict):
            out["metadata"] = {}
        if not out["metadata"].get("labels"):
            out["metadata"]["labels"] = dict(labels)
    spec.setdefault("replicas", 1)
    return out


def selector_of(rs: Mapping[str, Any]) -> LabelSelector | None:
    """The pods the set selects: a LabelSelector (apps/v1), or a ReplicationController's plain
    label map (labels.SelectorFromSet). None when there is none to go by (validation refuses
    such a set): then every pod it owns stays its own."""
    raw = (rs.get("spec") or {}).get("selector")
    if not isinstance(raw, Mapping) or not raw:
        return None
    if rs.get("kind") == "ReplicationController":
        return LabelSelector.from_set({str(k): str(v) for k, v in raw.items()})
    try:
        return as_selector(raw)
    except SelectorError:
        return None


def claim_pods(rs: Mapping[str, Any], owned: Sequence[Obj]) -> tuple[list[Obj], list[Action]]:
    """ClaimPods without adoption: the owned pods the selector picks, and the release of the
    others (their reference to the set removed), unless the set is being deleted."""
    chosen = selector_of(rs)
    if chosen is None:
        return list(owned), []
    claimed = [p for p in owned if chosen.matches(labels_of(p))]
    if is_deleting(rs):
        return claimed, []
    uid = uid_of(rs)
    released: list[Action] = [
        Update(without_owners(p, (uid,))) for p in owned if not chosen.matches(labels_of(p))
    ]
    return claimed, released


def is_active(pod: Mapping[str, Any]) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not is_deleting(pod)


def pod_from_template(rs: Mapping[str, Any], name: str) -> Obj:
    """controller.GetPodFromTemplate: labels, annotations and spec of the template, owned by rs."""
    template = (rs.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": f"{name_of(rs)}-",
        "namespace": namespace_of(rs),
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [controller_ref(rs)],
    }
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            metadata[field] = deep({field: template_meta[field]})[field]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": deep(template)["spec"]}


def _restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return max((int(s.get("restartCount", 0)) for s in statuses), default=0)


def _ready_since(pod: Mapping[str, Any]) -> float:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready" and condition.get("lastTransitionTime"):
            return parse_time(condition["lastTransitionTime"]).timestamp()
    return 0.0


def _deletion_rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """ActivePodsWithRanks.Less: the pods cheapest to lose sort first."""
    status = pod.get("status") or {}
    ready = is_pod_ready(pod)
    created = creation_key(pod)[0]
    return (
        bool((pod.get("spec") or {}).get("nodeName")),
        _PHASE_RANK.get(status.get("phase", ""), 1),
        ready,
        -_ready_since(pod) if ready else 0.0,
        -_restarts(pod),
        "" if not created else _inverted(created),
    )


def _inverted(text: str) -> str:
    """A string key that sorts in the opposite order (newer timestamps first)."""
    return "".join(chr(0x10FFFF - ord(char)) for char in text)


def pods_to_delete(active: Sequence[Mapping[str, Any]], count: int) -> list[Mapping[str, Any]]:
    """getPodsToDelete: unscheduled, pending, unready, newest pods go first."""
    return sorted(active, key=_deletion_rank)[:count]


def _create_pods(
    rs: Mapping[str, Any], count: int, taken: Container[str], now: datetime, rng: random.Random
) -> list[Action]:
    actions: list[Action] = []
    fresh: set[str] = set()
    for _ in range(count):
        name = generate_name(f"{name_of(rs)}-", rng)
        while name in taken or name in fresh:
            name = generate_name(f"{name_of(rs)}-", rng)
        fresh.add(name)
        actions.append(Create(pod_from_template(rs, name)))
        actions.append(Create(events.successful_create(rs, name, now)))
    return actions


def _delete_pods(
    rs: Mapping[str, Any], doomed: Iterable[Mapping[str, Any]], now: datetime
) -> list[Action]:
    actions: list[Action] = []
    for pod in doomed:
        actions.append(Delete("pods", namespace_of(pod), name_of(pod)))
        actions.append(Create(events.successful_delete(rs, name_of(pod), now)))
    return actions


def manage_replicas(
    rs: Mapping[str, Any],
    active: Sequence[Mapping[str, Any]],
    taken: Container[str],
    now: datetime,
    rng: random.Random,
) -> list[Action]:
    """manageReplicas: the pod creations or deletions that close the gap, with their events."""
    wanted = int((rs.get("spec") or {}).get("replicas", 1))
    diff = len(active) - wanted
    if diff < 0:
        return _create_pods(rs, min(-diff, BURST_REPLICAS), taken, now, rng)
    if diff > 0:
        return _delete_pods(rs, pods_to_delete(active, min(diff, BURST_REPLICAS)), now)
    return []


def replicaset_status(
    rs: Mapping[str, Any], active: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """calculateStatus + observedGeneration, with upstream's omitempty fields left out at 0."""
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds", 0))
    fully_labeled = LabelSelector.from_set(template_labels)
    counts = {
        "fullyLabeledReplicas": sum(
            fully_labeled.matches(meta(p).get("labels") or {}) for p in active
        ),
        "readyReplicas": sum(is_pod_ready(p) for p in active),
        "availableReplicas": sum(is_pod_available(p, min_ready, now) for p in active),
        "observedGeneration": int(meta(rs).get("generation", 0)),
    }
    status: dict[str, Any] = {"replicas": len(active)}
    status.update({key: value for key, value in counts.items() if value})
    conditions = (rs.get("status") or {}).get("conditions")
    if conditions:
        status["conditions"] = conditions
    return status


def reconcile_replicaset(
    rs: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    now: datetime,
    rng: random.Random,
    taken: Container[str] | None = None,
) -> list[Action]:
    """syncReplicaSet for one ReplicaSet, given its pods (others among them are left out).

    `taken` holds the pod names of the namespace, which new pods avoid (default: the names in
    `pods`). Returns the release of owned pods the selector no longer picks, pod creations
    (named `<rs>-<5 chars>`) and deletions, a `SuccessfulCreate` or `SuccessfulDelete` event
    for each, and the status update when the status changes.
    A ReplicaSet being deleted only gets its status.
    """
    all_pods = list(pods)
    claimed, actions = claim_pods(rs, controlled_by(all_pods, rs))
    active = sorted((p for p in claimed if is_active(p)), key=creation_key)
    if not is_deleting(rs):
        names = taken if taken is not None else {name_of(p) for p in all_pods}
        actions += manage_replicas(rs, active, names, now, rng)
    status = replicaset_status(rs, active, now)
    if status != (rs.get("status") or {}):
        updated = unconditional(deep(rs))
        updated["status"] = status
        actions.append(UpdateStatus(updated))
    return actions
