"""The StatefulSet controller: pods `<set>-<ordinal>`, made and replaced in order.

Mirrors pkg/controller/statefulset/stateful_set_control.go: `getStatefulSetRevisions`,
`updateStatefulSet` (`processReplica`, `processCondemned`, the RollingUpdate loop),
`computeReplicaStatus`, `completeRollingUpdate` and `truncateHistory`. OrderedReady makes pod
i+1 only once pod i is Running and Ready (and available, after minReadySeconds), and removes the
highest ordinal first, one at a time; Parallel does both at once. A RollingUpdate deletes, from
the highest ordinal down to the partition, one pod at a time whose revision is not the update
revision, waiting for each to come back healthy; OnDelete replaces only what a user deleted.
What kubectl reads follows: the status counts and revisions `kubectl rollout status sts/NAME`
waits for, `SuccessfulCreate`/`SuccessfulDelete` events in upstream's words, and the
ControllerRevisions (`revisions`) that `kubectl rollout history/undo` read.

Simplified: no adoption or release of pods by selector (the set's pods are those it controls);
no pod identity repair of a pod changed behind the controller's back; no maxUnavailable
(alpha upstream); no PersistentVolumeClaims (podwall serves none): a set with
volumeClaimTemplates gets its pods without those volumes and a Warning event saying so. The
status is counted from the pods the sync read; the writes it makes show in the next sync, which
their watch events bring. Pure: the time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from podwall.controllers import events, revisions
from podwall.controllers.actions import Action, Create, Delete, Obj, UpdateStatus
from podwall.controllers.meta import (
    controlled_by,
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    unconditional,
)
from podwall.controllers.statefulpods import (
    apply_revision,
    claim_templates,
    is_created,
    is_failed,
    is_healthy,
    is_member,
    is_running_and_available,
    is_running_and_ready,
    min_ready_seconds,
    new_pod,
    ordinal_of,
    pod_revision,
    replicas_of,
    start_ordinal,
)

STATEFULSET_CONTROLLER = "statefulset-controller"


@dataclass(slots=True)
class _Revisions:
    """getStatefulSetRevisions' outcome: the current and update revisions, the history."""

    current: Obj
    update: Obj
    history: list[Obj]
    actions: list[Action] = field(default_factory=list)


def statefulset_revisions(
    sts: Mapping[str, Any], history: Iterable[Mapping[str, Any]]
) -> _Revisions:
    """The update revision (the template's, created or re-numbered) and the current one (the
    status' currentRevision, else the update revision)."""
    owned = revisions.owned(sts, history)
    actions, update, after = revisions.sync_current(sts, owned)
    wanted = (sts.get("status") or {}).get("currentRevision")
    current = next((r for r in after if name_of(r) == wanted), update)
    return _Revisions(current, update, after, actions)


def _strategy(sts: Mapping[str, Any]) -> Mapping[str, Any]:
    strategy: Mapping[str, Any] = (sts.get("spec") or {}).get("updateStrategy") or {}
    return strategy


def _partition(sts: Mapping[str, Any]) -> int | None:
    rolling = _strategy(sts).get("rollingUpdate")
    return None if rolling is None else int(rolling.get("partition") or 0)


def versioned_pod(sts: Mapping[str, Any], revs: _Revisions, ordinal: int) -> Obj:
    """newVersionedStatefulSetPod: below the partition (or, without rollingUpdate, below the
    current replicas) a pod keeps the current revision; above it, the update revision."""
    rolling = _strategy(sts).get("type", "RollingUpdate") == "RollingUpdate"
    partition = _partition(sts)
    current_replicas = int((sts.get("status") or {}).get("currentReplicas") or 0)
    start = start_ordinal(sts)
    stays = (rolling and partition is None and ordinal < start + current_replicas) or (
        partition is not None and ordinal < start + partition
    )
    revision = revs.current if stays else revs.update
    return new_pod(apply_revision(sts, revision), ordinal, name_of(revision))


# -- the sync ----------------------------------------------------------------------------------


class _Sync:
    """One updateStatefulSet: the actions it decided, in order, with their events."""

    def __init__(self, sts: Mapping[str, Any], now: datetime) -> None:
        self.sts, self.now = sts, now
        self.actions: list[Action] = []

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        self.actions.append(
            Create(
                events.new_event(
                    self.sts,
                    reason=reason,
                    message=message,
                    now=self.now,
                    component=STATEFULSET_CONTROLLER,
                    type_=events.WARNING if warning else events.NORMAL,
                )
            )
        )

    def create(self, pod: Obj) -> None:
        self.actions.append(Create(pod))
        set_name, name = name_of(self.sts), name_of(pod)
        self.event("SuccessfulCreate", f"create Pod {name} in StatefulSet {set_name} successful")
        claims = claim_templates(self.sts)
        if claims:
            self.event(
                "FailedCreatePodVolume",
                f"PersistentVolumeClaims are not served: volumeClaimTemplates {claims} are not "
                f"provisioned for Pod {name}; it runs without those volumes",
                warning=True,
            )

    def delete(self, pod: Mapping[str, Any]) -> None:
        self.actions.append(Delete("pods", namespace_of(pod), name_of(pod)))
        set_name, name = name_of(self.sts), name_of(pod)
        self.event("SuccessfulDelete", f"delete Pod {name} in StatefulSet {set_name} successful")


def _split(sts: Mapping[str, Any], pods: Sequence[Obj]) -> tuple[dict[int, Obj], list[Obj]]:
    """The pods by ordinal within [start, start+replicas), and the condemned rest, highest
    ordinal first."""
    start, count = start_ordinal(sts), replicas_of(sts)
    kept: dict[int, Obj] = {}
    condemned: list[Obj] = []
    for pod in pods:
        ordinal = ordinal_of(pod)
        if ordinal is None:
            continue
        if start <= ordinal < start + count:
            kept[ordinal] = pod
        else:
            condemned.append(pod)
    condemned.sort(key=lambda p: ordinal_of(p) or 0, reverse=True)
    return kept, condemned


def _process_replicas(
    sync: _Sync, revs: _Revisions, kept: Mapping[int, Obj], monotonic: bool
) -> bool:
    """processReplica for each ordinal in order; True when the sync must stop and wait (never
    for Parallel, which goes through every ordinal, as upstream's runForAll in burst mode)."""
    sts, min_ready = sync.sts, min_ready_seconds(sync.sts)
    start = start_ordinal(sts)
    for ordinal in range(start, start + replicas_of(sts)):
        pod = kept.get(ordinal)
        if pod is None:
            sync.create(versioned_pod(sts, revs, ordinal))
            if monotonic:
                return True
            continue
        if is_failed(pod):
            if not is_deleting(pod):
                sync.delete(pod)  # made again once it is gone
            if monotonic:
                return True
            continue
        if monotonic and (
            is_deleting(pod)
            or not is_running_and_ready(pod)
            or not is_running_and_available(pod, min_ready, sync.now)
        ):
            return True
    return False


def _process_condemned(
    sync: _Sync, condemned: Sequence[Obj], first_unhealthy: Obj | None, monotonic: bool
) -> bool:
    """processCondemned, highest ordinal first; True when the sync must stop and wait."""
    min_ready = min_ready_seconds(sync.sts)
    for pod in condemned:
        if is_deleting(pod):
            if monotonic:
                return True
            continue
        blocked = not is_running_and_ready(pod) or not is_running_and_available(
            pod, min_ready, sync.now
        )
        if monotonic and blocked and pod is not first_unhealthy:
            return True
        sync.delete(pod)
        if monotonic:
            return True
    return False


def _rolling_update(sync: _Sync, revs: _Revisions, kept: Mapping[int, Obj]) -> None:
    """From the highest ordinal down to the partition: delete the first pod not at the update
    revision, or stop at the first that is not healthy."""
    sts = sync.sts
    start = start_ordinal(sts)
    low = start + (_partition(sts) or 0)
    for ordinal in range(start + replicas_of(sts) - 1, low - 1, -1):
        pod = kept.get(ordinal)
        if pod is None:
            return
        if pod_revision(pod) != name_of(revs.update) and not is_deleting(pod):
            sync.delete(pod)
            return
        if not is_healthy(pod):
            return


def _first_unhealthy(kept: Mapping[int, Obj], condemned: Sequence[Obj]) -> Obj | None:
    ordered = [kept[o] for o in sorted(kept)] + list(condemned)
    return next((pod for pod in ordered if not is_healthy(pod)), None)


# -- status ------------------------------------------------------------------------------------


def statefulset_status(
    sts: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], revs: _Revisions, now: datetime
) -> dict[str, Any]:
    """computeReplicaStatus, then completeRollingUpdate: once every pod is at the update
    revision and ready, the update revision becomes the current one."""
    current, update = name_of(revs.current), name_of(revs.update)
    min_ready = min_ready_seconds(sts)
    counts = dict.fromkeys(("replicas", "ready", "available", "current", "updated"), 0)
    for pod in pods:
        counts["replicas"] += is_created(pod)
        if is_running_and_ready(pod):
            counts["ready"] += 1
            counts["available"] += is_running_and_available(pod, min_ready, now)
        if is_created(pod) and not is_deleting(pod):
            counts["current"] += pod_revision(pod) == current
            counts["updated"] += pod_revision(pod) == update
    wanted = replicas_of(sts)
    rolling = _strategy(sts).get("type", "RollingUpdate") == "RollingUpdate"
    if rolling and counts["updated"] == counts["ready"] == counts["replicas"] == wanted:
        counts["current"], current = counts["updated"], update
    status: dict[str, Any] = {
        "observedGeneration": int(meta(sts).get("generation", 0)),
        "replicas": counts["replicas"],
        "readyReplicas": counts["ready"],
        "currentReplicas": counts["current"],
        "updatedReplicas": counts["updated"],
        "currentRevision": current,
        "updateRevision": update,
        "availableReplicas": counts["available"],
    }
    status = {k: v for k, v in status.items() if v or k in ("replicas", "availableReplicas")}
    old = sts.get("status") or {}
    for kept in ("collisionCount", "conditions"):
        if old.get(kept) is not None:
            status[kept] = old[kept]
    return status


def reconcile_statefulset(
    sts: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    history: Iterable[Mapping[str, Any]],
    now: datetime,
) -> list[Action]:
    """syncStatefulSet for one StatefulSet, given its pods and ControllerRevisions (others are
    left out). Returns the revision writes, the pod deletions and creations with their events,
    the history pruning and the status update when the status changes. A set being deleted
    gets nothing (its pods and revisions are the garbage collector's)."""
    if is_deleting(sts):
        return []
    mine = [pod for pod in controlled_by(pods, sts) if is_member(sts, pod)]
    revs = statefulset_revisions(sts, history)
    sync = _Sync(sts, now)
    sync.actions += revs.actions
    kept, condemned = _split(sts, mine)
    monotonic = (sts.get("spec") or {}).get("podManagementPolicy", "OrderedReady") != "Parallel"
    waiting = _process_replicas(sync, revs, kept, monotonic)
    if not waiting:
        unhealthy = _first_unhealthy(kept, condemned)
        waiting = _process_condemned(sync, condemned, unhealthy, monotonic)
    rolling = _strategy(sts).get("type", "RollingUpdate") == "RollingUpdate"
    if not waiting and rolling:
        _rolling_update(sync, revs, kept)
    status = statefulset_status(sts, mine, revs, now)
    live = {pod_revision(pod) for pod in mine} | {
        status["currentRevision"],
        status["updateRevision"],
    }
    sync.actions += revisions.prune(sts, revs.history, live)
    if status != (sts.get("status") or {}):
        updated = unconditional(deep(sts))
        updated["status"] = status
        sync.actions.append(UpdateStatus(updated))
    return sync.actions


def resync_after(sts: Mapping[str, Any], status: Mapping[str, Any]) -> int | None:
    """Seconds after which to sync again, when a ready pod is not yet available (upstream
    enqueues the set after minReadySeconds); None when nothing waits on the clock."""
    min_ready = min_ready_seconds(sts)
    if min_ready > 0 and status.get("readyReplicas", 0) != status.get("availableReplicas", 0):
        return min_ready
    return None
