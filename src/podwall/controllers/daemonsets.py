"""The DaemonSet controller: one pod per eligible node, rolled over node by node.

Mirrors pkg/controller/daemon/daemon_controller.go: `syncDaemonSet`, `manage`,
`podsShouldBeOnNode`, `syncNodes` and `updateDaemonSetStatus`. Which pods belong where is
`daemonpods`'; how far a rollout goes, `daemonupdate`'s. What kubectl reads follows: pods named
`<ds>-<5 chars>`, the status counts that `kubectl get ds` prints and `kubectl rollout status
ds/NAME` waits for, and the `SuccessfulCreate`, `SuccessfulDelete` and `FailedDaemonPod` events.

Simplified: no expectations or slow-start batches (the server applies every action before the
next sync, so a sync that creates or deletes pods leaves the rolling update to the next one, as
upstream's unsatisfied expectations do); no back-off before a failed pod is replaced; no
adoption of orphans. The history (`constructHistory`, `cleanupHistory`) is `revisions`': a
ControllerRevision per template, which `kubectl rollout history/undo ds/NAME` read. A pod
bound to a Node that is gone is deleted here, where upstream leaves it to the pod garbage
collector. Pure: the time and randomness are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.controllers import events, revisions
from podwall.controllers.actions import Action, Create, Delete, Obj, UpdateStatus
from podwall.controllers.daemonpods import (
    HASH_LABEL,
    NodePods,
    is_pod_updated,
    min_ready_seconds,
    new_pod,
    node_should_run,
    nodes_to_daemon_pods,
    phase,
    revision_hash,
    scheduled_then_oldest,
    template_generation,
)
from podwall.controllers.daemonupdate import allows_surge, is_rolling, rolling_update
from podwall.controllers.meta import (
    deep,
    is_deleting,
    labels_of,
    meta,
    name_of,
    namespace_of,
    unconditional,
)
from podwall.controllers.naming import generate_name
from podwall.controllers.podstatus import is_pod_available, is_pod_ready

DAEMONSET_CONTROLLER = "daemonset-controller"


# -- manage: the pods each node should have ---------------------------------------------------


class _Plan:
    """What one sync decided: nodes that get a pod, pods to delete, and why (events)."""

    def __init__(self) -> None:
        self.create: list[str] = []
        self.delete: list[str] = []
        self.warnings: list[str] = []

    def doomed(self, pod: Mapping[str, Any]) -> None:
        if name_of(pod) not in self.delete:
            self.delete.append(name_of(pod))


def pods_should_be_on_node(
    ds: Mapping[str, Any],
    node: Mapping[str, Any],
    daemon_pods: Sequence[Mapping[str, Any]] | None,
    now: datetime,
) -> tuple[bool, list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """podsShouldBeOnNode: (node needs a pod, pods to delete, the failed ones among them)."""
    should_run, should_continue = node_should_run(ds, node)
    if should_run and daemon_pods is None:
        return True, [], []
    live = [pod for pod in daemon_pods or () if not is_deleting(pod)]
    if not should_continue:
        return False, live if daemon_pods is not None else [], []
    failed = [pod for pod in live if phase(pod) == "Failed"]
    finished = [pod for pod in live if phase(pod) in ("Failed", "Succeeded")]
    running = sorted((pod for pod in live if pod not in finished), key=scheduled_then_oldest)
    if not allows_surge(ds):
        return False, finished + running[1:], failed  # the oldest stays
    if not running:
        return should_run, finished, failed  # surging: a node keeps one pod at least
    return False, finished + _surplus_when_surging(ds, running, now), failed


def _surplus_when_surging(
    ds: Mapping[str, Any], running: Sequence[Mapping[str, Any]], now: datetime
) -> list[Mapping[str, Any]]:
    """Two pods stay only while the oldest new one is not yet available and the oldest old one
    is ready; of the rest, all go."""
    pod_hash = revision_hash(ds)
    oldest_new = next((p for p in running if labels_of(p).get(HASH_LABEL) == pod_hash), None)
    oldest_old = next((p for p in running if labels_of(p).get(HASH_LABEL) != pod_hash), None)
    surplus = [p for p in running if p is not oldest_new and p is not oldest_old]
    if oldest_new is not None and oldest_old is not None:
        min_ready = min_ready_seconds(ds)
        if not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now):
            surplus.append(oldest_old)
    return surplus


def manage(
    ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], by_node: NodePods, now: datetime
) -> _Plan:
    """manage: every node gets its one pod, and no more; pods bound to Nodes that are gone
    are deleted (upstream: the pod garbage collector's gcOrphaned, for scheduled ones)."""
    plan = _Plan()
    for node in sorted(nodes, key=name_of):
        pods = by_node.get(name_of(node))
        needs, doomed, failed = pods_should_be_on_node(ds, node, pods, now)
        if needs:
            plan.create.append(name_of(node))
        for pod in failed:
            plan.warnings.append(
                f"Found failed daemon pod {namespace_of(pod)}/{name_of(pod)} on node "
                f"{name_of(node)}, will try to kill it"
            )
        for pod in doomed:
            plan.doomed(pod)
    known = {name_of(node) for node in nodes}
    for node_name, pods in sorted(by_node.items()):
        if node_name not in known:
            for pod in pods:
                if not is_deleting(pod):
                    plan.doomed(pod)
    return plan


# -- status ----------------------------------------------------------------------------------------


def daemonset_status(
    ds: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]], by_node: NodePods, now: datetime
) -> dict[str, Any]:
    """updateDaemonSetStatus: the counts, from the oldest pod on each node that should run one."""
    pod_hash, generation, min_ready = (
        revision_hash(ds),
        template_generation(ds),
        min_ready_seconds(ds),
    )
    desired = current = ready = available = updated = misscheduled = 0
    for node in nodes:
        pods = by_node.get(name_of(node)) or []
        if not node_should_run(ds, node)[0]:
            misscheduled += bool(pods)
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = pods[0]  # the oldest, bound first (nodes_to_daemon_pods sorts them)
        if is_pod_ready(pod):
            ready += 1
            available += is_pod_available(pod, min_ready, now)
        updated += is_pod_updated(pod, pod_hash, generation)
    status: dict[str, Any] = {
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": desired,
        "numberReady": ready,
        "observedGeneration": int(meta(ds).get("generation", 0)),
    }
    optional = {
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
        "numberUnavailable": desired - available,
    }
    status.update({key: value for key, value in optional.items() if value})
    old = ds.get("status") or {}
    for kept in ("collisionCount", "conditions"):
        if old.get(kept) is not None:
            status[kept] = old[kept]
    return status


# -- the whole sync --------------------------------------------------------------------------------


def _pod_event(ds: Mapping[str, Any], reason: str, message: str, now: datetime) -> Obj:
    return events.new_event(
        ds, reason=reason, message=message, now=now, component=DAEMONSET_CONTROLLER
    )


def _warning(ds: Mapping[str, Any], message: str, now: datetime) -> Obj:
    return events.new_event(
        ds,
        reason="FailedDaemonPod",
        message=message,
        now=now,
        component=DAEMONSET_CONTROLLER,
        type_=events.WARNING,
    )


def sync_nodes(
    ds: Mapping[str, Any],
    plan: _Plan,
    taken: Container[str],
    now: datetime,
    rng: random.Random,
) -> list[Action]:
    """syncNodes: the deletions, then a pod for each node that needs one, with their events."""
    actions: list[Action] = [Create(_warning(ds, text, now)) for text in plan.warnings]
    for name in plan.delete:
        actions.append(Delete("pods", namespace_of(ds), name))
        actions.append(Create(_pod_event(ds, "SuccessfulDelete", f"Deleted pod: {name}", now)))
    pod_hash = revision_hash(ds)
    fresh: set[str] = set()
    for node in plan.create:
        name = generate_name(f"{name_of(ds)}-", rng)
        while name in taken or name in fresh:
            name = generate_name(f"{name_of(ds)}-", rng)
        fresh.add(name)
        actions.append(Create(new_pod(ds, node, pod_hash, name)))
        actions.append(Create(_pod_event(ds, "SuccessfulCreate", f"Created pod: {name}", now)))
    return actions


def reconcile_daemonset(
    ds: Mapping[str, Any],
    nodes: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    now: datetime,
    rng: random.Random,
    taken: Container[str] | None = None,
    history: Iterable[Mapping[str, Any]] | None = None,
) -> list[Action]:
    """syncDaemonSet for one DaemonSet, given every Node and its pods (others are left out).

    `taken` holds the pod names of the namespace, which new pods avoid (default: the names in
    `pods`). With `history` (the namespace's ControllerRevisions, or those the DaemonSet
    controls), the revision of the template is written first and the history pruned last.
    Returns those writes, pod deletions and creations with their events, then the status update
    when the status changes. A DaemonSet being deleted gets nothing (its pods and revisions
    are the garbage collector's). The rolling update runs only in a sync `manage` left alone.
    """
    if is_deleting(ds):
        return []
    all_pods = list(pods)
    node_list = list(nodes)
    by_node = nodes_to_daemon_pods(ds, all_pods)
    owned = revisions.owned(ds, history or ())
    history_actions, _, after = revisions.sync_current(ds, owned)
    plan = manage(ds, node_list, by_node, now)
    if not plan.create and not plan.delete and is_rolling(ds):
        doomed, beside = rolling_update(ds, node_list, by_node, now)
        for name in doomed:
            plan.doomed({"metadata": {"name": name}})
        plan.create += beside
    names = taken if taken is not None else {name_of(p) for p in all_pods}
    actions = sync_nodes(ds, plan, names, now, rng)
    if history is not None:
        live_hashes = {revision_hash(ds)} | {
            labels_of(pod).get(HASH_LABEL, "") for pods in by_node.values() for pod in pods
        }
        live = {revisions.revision_name(ds, hash_) for hash_ in live_hashes}
        actions = history_actions + actions + revisions.prune(ds, after, live)
    status = daemonset_status(ds, node_list, by_node, now)
    if status != (ds.get("status") or {}):
        updated = unconditional(deep(ds))
        updated["status"] = status
        actions.append(UpdateStatus(updated))
    return actions


def resync_after(ds: Mapping[str, Any], status: Mapping[str, Any]) -> int | None:
    """Seconds after which to sync again, when a ready pod is not yet available (as upstream
    enqueues the DaemonSet after minReadySeconds); None when nothing waits on the clock."""
    min_ready = min_ready_seconds(ds)
    if min_ready > 0 and status.get("numberReady", 0) != status.get("numberAvailable", 0):
        return min_ready
    return None
