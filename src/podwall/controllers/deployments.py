"""The Deployment controller: one ReplicaSet per pod template, rolled over as upstream does.

Mirrors pkg/controller/deployment: `syncDeployment` (deployment_controller.go), `sync`,
`scale`, `getNewReplicaSet`, `cleanupDeployment`, `calculateStatus` (sync.go), `rolloutRolling`,
`reconcileNewReplicaSet`, `reconcileOldReplicaSets`, `cleanupUnhealthyReplicas`,
`scaleDownOldReplicaSetsForRollingUpdate` (rolling.go) and `rolloutRecreate` (recreate.go);
the status is computed in `progress`. What kubectl shows follows: ReplicaSets named
`<deploy>-<pod-template-hash>`, the `ScalingReplicaSet` events, the revision annotations, and
the `Available`/`Progressing` conditions that `rollout status` waits for.

Simplified: no adoption of orphaned ReplicaSets, no rollback (`rollbackTo` is gone from apps/v1),
no `ReplicaFailure` conditions. One reconcile makes every write of one upstream sync; where
upstream returns after syncing the new ReplicaSet's annotations, this goes on (the fixpoint is
the same). Pure: the time is passed in; nothing is read from a store or a clock.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from datetime import datetime
from typing import Any

from podwall.controllers import deploymentutil as du
from podwall.controllers import events
from podwall.controllers.actions import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.controllers.meta import (
    annotations_of,
    controlled_by,
    controller_ref,
    controller_uid,
    creation_key,
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    uid_of,
    unconditional,
)
from podwall.controllers.naming import compute_hash
from podwall.controllers.pods import default_pod_template
from podwall.controllers.progress import calculate_status, rollout_status

RS_RESOURCE = "replicasets.apps"


def default_deployment(deploy: Mapping[str, Any]) -> Obj:
    """apps/v1 defaults: 1 replica, RollingUpdate 25%/25%, history 10, deadline 600 s."""
    out = deep(deploy)
    spec = out.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec["template"] = default_pod_template(spec.get("template") or {})
    return out


class _Sync:
    """One sync of one Deployment over copies of its ReplicaSets; writes become actions."""

    def __init__(
        self,
        deploy: Mapping[str, Any],
        replicasets: Iterable[Mapping[str, Any]],
        pods: Iterable[Mapping[str, Any]],
        now: datetime,
        taken: Container[str] | None,
    ) -> None:
        self.original = deep(deploy)
        self.d = default_deployment(deploy)
        # Decisions use the defaults; the template stays as stored, so that the ReplicaSet's
        # template equals it but for the hash label (what `kubectl describe deploy` checks).
        self.d["spec"]["template"] = deep(deploy).get("spec", {}).get("template") or {}
        self.namespace_rss = [deep(rs) for rs in replicasets]
        self.owned = controlled_by(self.namespace_rss, self.d)
        self.taken = taken if taken is not None else {name_of(rs) for rs in self.namespace_rss}
        self.pods = list(pods)
        self.now = now
        self.created: Obj | None = None
        self.changed: list[Obj] = []
        self.deleted: list[Obj] = []
        self.events: list[Obj] = []
        self.stop = False
        self.new_rs = du.find_new_replicaset(self.d, self.owned)
        self.old_rss = [rs for rs in self.owned if rs is not self.new_rs]

    # -- getAllReplicaSetsAndSyncRevision / getNewReplicaSet ---------------------------------

    def new_revision(self) -> int:
        return max((du.revision(rs) for rs in self.old_rss), default=0) + 1

    def sync_existing_new_rs(self) -> None:
        """The existing new ReplicaSet: annotations, minReadySeconds, Deployment revision."""
        rs = self.new_rs
        if rs is None:
            return
        changed = du.copy_annotations(self.d, rs)
        changed = du.set_revision(rs, self.new_revision()) or changed
        min_ready = du.spec(self.d).get("minReadySeconds", 0)
        if du.spec(rs).get("minReadySeconds", 0) != min_ready:
            rs["spec"]["minReadySeconds"] = min_ready
            changed = True
        if changed:
            self.mark(rs)
        self.set_deployment_revision(annotations_of(rs).get(du.REVISION, ""))
        if du.has_progress_deadline(self.d) and du.get_condition(self.state, "Progressing") is None:
            message = f'Found new replica set "{name_of(rs)}"'
            self.set_progressing("True", du.FOUND_NEW_RS, message)

    def ensure_new_rs(self) -> None:
        """getNewReplicaSet(createIfNotExisted=true): create it, or count a hash collision."""
        if self.new_rs is not None:
            return
        template = self.d["spec"]["template"]
        collisions = self.state.get("collisionCount")
        pod_hash = compute_hash(template, collisions)
        name = f"{name_of(self.d)}-{pod_hash}"
        if name in self.taken:
            self.state["collisionCount"] = int(collisions or 0) + 1
            self.stop = True
            return
        rs = self.build_rs(name, pod_hash)
        rs["spec"]["replicas"] = du.new_rs_new_replicas(self.d, [*self.old_rss, rs], rs)
        self.created = self.new_rs = rs
        if du.replicas(rs) > 0:
            self.events.append(
                events.scaling_replica_set(self.d, name, 0, du.replicas(rs), self.now)
            )
        self.set_deployment_revision(str(self.new_revision()))
        if du.has_progress_deadline(self.d):
            message = f'Created new replica set "{name}"'
            self.set_progressing("True", du.NEW_RS_CREATED, message)

    def build_rs(self, name: str, pod_hash: str) -> Obj:
        template = deep(self.d["spec"]["template"])
        template_meta = template.setdefault("metadata", {})
        template_meta["labels"] = {**(template_meta.get("labels") or {}), du.HASH_LABEL: pod_hash}
        selector = deep(self.d["spec"].get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), du.HASH_LABEL: pod_hash}
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": namespace_of(self.d),
                "labels": dict(template_meta["labels"]),
                "ownerReferences": [controller_ref(self.d)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        if self.d["spec"].get("minReadySeconds"):
            rs["spec"]["minReadySeconds"] = self.d["spec"]["minReadySeconds"]
        du.copy_annotations(self.d, rs)
        du.set_revision(rs, self.new_revision())
        du.set_replicas_annotations(rs, du.replicas(self.d), self.max_total())
        return rs

    def set_deployment_revision(self, value: str) -> None:
        if value and annotations_of(self.d).get(du.REVISION) != value:
            meta(self.d).setdefault("annotations", {})[du.REVISION] = value

    # -- state of the working copy -----------------------------------------------------------

    @property
    def state(self) -> Obj:
        state: Obj = self.d.setdefault("status", {})
        return state

    def set_progressing(self, value: str, reason: str, message: str) -> None:
        condition = du.new_condition("Progressing", value, reason, message, self.now)
        du.set_condition(self.state, condition)

    def max_total(self) -> int:
        return du.replicas(self.d) + du.max_surge(self.d)

    def all_rss(self) -> list[Obj]:
        return [*self.old_rss, *([self.new_rs] if self.new_rs is not None else [])]

    def mark(self, rs: Obj) -> None:
        if rs is not self.created and all(rs is not seen for seen in self.changed):
            self.changed.append(rs)

    # -- scaling -----------------------------------------------------------------------------

    def scale_rs(self, rs: Obj, size: int) -> None:
        """scaleReplicaSet: size and replica annotations, and the ScalingReplicaSet event."""
        old = du.replicas(rs)
        annotated = du.set_replicas_annotations(rs, du.replicas(self.d), self.max_total())
        if old == size and not annotated:
            return
        rs["spec"]["replicas"] = size
        self.mark(rs)
        if old != size:
            self.events.append(events.scaling_replica_set(self.d, name_of(rs), old, size, self.now))

    def scale_and_record(self, rs: Obj, size: int) -> bool:
        """scaleReplicaSetAndRecordEvent: True when the size changed."""
        if du.replicas(rs) == size:
            return False
        self.scale_rs(rs, size)
        return True

    def is_scaling_event(self) -> bool:
        """isScalingEvent: an active ReplicaSet was made for another replica count."""
        desired = str(du.replicas(self.d))
        for rs in _active(self.all_rss()):
            annotated = annotations_of(rs).get(du.DESIRED_REPLICAS)
            if annotated is not None and annotated != desired:
                return True
        return False

    def scale(self) -> None:
        """scale: a scaling event, spread over the active ReplicaSets in proportion."""
        target = self.active_or_latest()
        if target is not None:
            self.scale_and_record(target, du.replicas(self.d))
            return
        if self.is_saturated(self.new_rs):
            for rs in _active(self.old_rss):
                self.scale_and_record(rs, 0)
            return
        if du.is_rolling(self.d):
            self.scale_proportionally()

    def active_or_latest(self) -> Obj | None:
        """FindActiveOrLatest: the one active ReplicaSet, or the newest when none is active."""
        newest_first = sorted(self.old_rss, key=creation_key, reverse=True)
        active = _active([*newest_first, *([self.new_rs] if self.new_rs else [])])
        if len(active) == 1:
            return active[0]
        if active:
            return None
        if self.new_rs is not None:
            return self.new_rs
        return newest_first[0] if newest_first else None

    def is_saturated(self, rs: Obj | None) -> bool:
        """IsSaturated: the new ReplicaSet holds every replica, all available."""
        if rs is None:
            return False
        desired = du.replicas(self.d)
        annotated = annotations_of(rs).get(du.DESIRED_REPLICAS, "")
        return (
            du.replicas(rs) == desired
            and annotated == str(desired)
            and du.count(rs, "availableReplicas") == desired
        )

    def scale_proportionally(self) -> None:
        rss = _active(self.all_rss())
        allowed = self.max_total() if du.replicas(self.d) > 0 else 0
        to_add = allowed - du.total_replicas(rss)
        newer_first = to_add > 0
        rss.sort(key=creation_key, reverse=newer_first)
        rss.sort(key=du.replicas, reverse=True)
        sizes: list[int] = []
        added = 0
        for rs in rss:
            share = du.proportion(rs, self.d, to_add, added)
            sizes.append(du.replicas(rs) + share)
            added += share
        if rss and to_add != 0:
            sizes[0] = max(sizes[0] + to_add - added, 0)
        for rs, size in zip(rss, sizes, strict=True):
            self.scale_rs(rs, size)

    # -- rolling update ----------------------------------------------------------------------

    def reconcile_new_rs(self) -> bool:
        """reconcileNewReplicaSet: grow the new ReplicaSet as far as maxSurge allows."""
        rs = self.new_rs
        assert rs is not None
        desired = du.replicas(self.d)
        if du.replicas(rs) == desired:
            return False
        if du.replicas(rs) > desired:
            return self.scale_and_record(rs, desired)
        return self.scale_and_record(rs, du.new_rs_new_replicas(self.d, self.all_rss(), rs))

    def reconcile_old_rss(self) -> bool:
        """reconcileOldReplicaSets: shrink old ReplicaSets within maxUnavailable."""
        old_active = _active(self.old_rss)
        if du.total_replicas(old_active) == 0 or self.new_rs is None:
            return False
        min_available = du.replicas(self.d) - du.max_unavailable(self.d)
        new_unavailable = du.replicas(self.new_rs) - du.count(self.new_rs, "availableReplicas")
        max_scaled_down = du.total_replicas(self.all_rss()) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = self.cleanup_unhealthy(old_active, max_scaled_down)
        scaled = self.scale_down_old_for_rolling(old_active)
        return cleaned + scaled > 0

    def cleanup_unhealthy(self, old_active: list[Obj], limit: int) -> int:
        """cleanupUnhealthyReplicas: drop old replicas that are not available anyway."""
        total = 0
        for rs in sorted(old_active, key=creation_key):
            if total >= limit:
                break
            size, available = du.replicas(rs), du.count(rs, "availableReplicas")
            if size == 0 or size == available:
                continue
            down = min(limit - total, size - available)
            self.scale_and_record(rs, size - down)
            total += down
        return total

    def scale_down_old_for_rolling(self, old_active: list[Obj]) -> int:
        """scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable pods available."""
        min_available = du.replicas(self.d) - du.max_unavailable(self.d)
        available = du.total_status(self.all_rss(), "availableReplicas")
        if available <= min_available:
            return 0
        total, wanted = 0, available - min_available
        for rs in sorted(old_active, key=creation_key):
            if total >= wanted:
                break
            if du.replicas(rs) == 0:
                continue
            down = min(du.replicas(rs), wanted - total)
            self.scale_and_record(rs, du.replicas(rs) - down)
            total += down
        return total

    def rollout_rolling(self) -> None:
        self.ensure_new_rs()
        if self.stop:
            return
        scaled = self.reconcile_new_rs() or self.reconcile_old_rss()
        if not scaled and du.deployment_complete(self.d, self.state):
            self.cleanup()
        self.sync_rollout_status()

    # -- recreate ----------------------------------------------------------------------------

    def old_pods_running(self) -> bool:
        """oldPodsRunning: any old replica reported, or any old pod not yet finished."""
        if du.total_status(self.old_rss, "replicas") > 0:
            return True
        old_uids = {uid_of(rs) for rs in self.old_rss}
        return any(
            controller_uid(pod) in old_uids
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            for pod in self.pods
        )

    def rollout_recreate(self) -> None:
        scaled_down = False
        for rs in _active(self.old_rss):
            scaled_down = self.scale_and_record(rs, 0) or scaled_down
        if not scaled_down and not self.old_pods_running():
            self.ensure_new_rs()
            if self.stop:
                return
            assert self.new_rs is not None
            self.scale_and_record(self.new_rs, du.replicas(self.d))
            if du.deployment_complete(self.d, self.state):
                self.cleanup()
        self.sync_rollout_status()

    # -- cleanup and status ------------------------------------------------------------------

    def cleanup(self) -> None:
        """cleanupDeployment: keep revisionHistoryLimit old ReplicaSets that are scaled to 0."""
        if not du.has_revision_history_limit(self.d):
            return
        cleanable = sorted((rs for rs in self.old_rss if not is_deleting(rs)), key=du.revision_key)
        extra = len(cleanable) - int(self.d["spec"]["revisionHistoryLimit"])
        for rs in cleanable[: max(extra, 0)]:
            observed = du.count(rs, "observedGeneration")
            if (
                du.count(rs, "replicas")
                or du.replicas(rs)
                or meta(rs).get("generation", 0) > observed
            ):
                continue
            self.deleted.append(rs)

    def sync_status(self) -> None:
        """syncDeploymentStatus: counts and availability only (scaling events, paused)."""
        self.d["status"] = calculate_status(self.d, self.all_rss(), self.new_rs, self.now)

    def sync_rollout_status(self) -> None:
        """syncRolloutStatus: counts, availability, and how the rollout progresses."""
        self.d["status"] = rollout_status(self.d, self.all_rss(), self.new_rs, self.now)

    def check_paused_conditions(self) -> None:
        """checkPausedConditions: Progressing=Unknown while paused, and once resumed."""
        if not du.has_progress_deadline(self.d):
            return
        current = du.get_condition(self.state, "Progressing")
        if current is not None and current.get("reason") == du.TIMED_OUT:
            return
        paused_before = current is not None and current.get("reason") == du.PAUSED
        paused = bool(self.d["spec"].get("paused"))
        if paused and not paused_before:
            self.set_progressing("Unknown", du.PAUSED, "Deployment is paused")
        elif not paused and paused_before:
            self.set_progressing("Unknown", du.RESUMED, "Deployment is resumed")

    # -- the whole sync ----------------------------------------------------------------------

    def run(self) -> None:
        """syncDeployment, after the Deployment is fetched and its ReplicaSets listed."""
        self.sync_existing_new_rs()
        if is_deleting(self.d):
            self.sync_status()
            return
        self.check_paused_conditions()
        if self.d["spec"].get("paused") or self.is_scaling_event():
            self.scale()
            if self.d["spec"].get("paused"):
                self.cleanup()
            self.sync_status()
        elif self.d["spec"]["strategy"]["type"] == "Recreate":
            self.rollout_recreate()
        else:
            self.rollout_rolling()

    def with_metadata(self) -> Obj:
        """The Deployment as given, with the annotations this sync set."""
        updated = unconditional(deep(self.original))
        if annotations_of(self.d):
            meta(updated)["annotations"] = annotations_of(self.d)
        return updated

    def actions(self) -> list[Action]:
        out: list[Action] = []
        if self.created is not None:
            out.append(Create(self.created))
        out += [Update(unconditional(deep(rs))) for rs in self.changed]
        out += [Delete(RS_RESOURCE, namespace_of(rs), name_of(rs)) for rs in self.deleted]
        out += [Create(event) for event in self.events]
        if annotations_of(self.d) != annotations_of(self.original):
            out.append(Update(self.with_metadata()))
        if self.d.get("status", {}) != self.original.get("status", {}):
            updated = self.with_metadata()
            updated["status"] = self.d["status"]
            out.append(UpdateStatus(updated))
        return out


def _active(rss: Iterable[Obj]) -> list[Obj]:
    """controller.FilterActiveReplicaSets: those with replicas to run."""
    return [rs for rs in rss if du.replicas(rs) > 0]


def reconcile_deployment(
    deploy: Mapping[str, Any],
    replicasets: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    now: datetime,
    taken: Container[str] | None = None,
) -> list[Action]:
    """syncDeployment for one Deployment, given its ReplicaSets and their pods.

    `replicasets` may hold others (only those it controls count); `pods` are only looked at by
    the Recreate strategy (old pods still running). `taken` holds the ReplicaSet names of the
    namespace, to tell a pod-template-hash collision (default: the names in `replicasets`).

    Returns, in order: the new ReplicaSet's creation, ReplicaSet scalings and annotation
    updates, deletions of old ReplicaSets past revisionHistoryLimit, `ScalingReplicaSet` events,
    the Deployment's revision annotation, and its status. Nothing when all is in place.
    """
    sync = _Sync(deploy, replicasets, pods, now, taken)
    sync.run()
    return sync.actions()
