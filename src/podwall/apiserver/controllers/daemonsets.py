"""The DaemonSet controller: one pod per eligible node, rolled over node by node.

Mirrors pkg/controller/daemon: `syncDaemonSet`, `manage`, `podsShouldBeOnNode`,
`NodeShouldRunDaemonPod`, `updateDaemonSetStatus` (daemon_controller.go), `rollingUpdate`,
`findUpdatedPodsOnNode`, `updatedDesiredNodeCounts` (update.go) and util/daemonset_util.go
(`NewPod`, `IsPodUpdated`, `ReplaceDaemonSetPodNodeNameNodeAffinity`, the tolerations); the
registry's template generation (`deprecated.daemonset.template.generation`, bumped when the
template changes). Which nodes fit is `nodefit`.

What kubectl reads follows: pods named `<ds>-<5 chars>` labelled `controller-revision-hash`
and `pod-template-generation`, owned by the DaemonSet; the status counts that
`kubectl get ds` prints and `kubectl rollout status ds/NAME` waits for; `SuccessfulCreate`,
`SuccessfulDelete` and `FailedDaemonPod` events.

Simplified: podwall serves no ControllerRevisions, so the revision is the template's hash
alone (`naming.compute_hash`) and there is no history to clean up or roll back to; no
expectations or slow-start batches (the server applies every action before the next sync, so
a sync that creates or deletes pods leaves the rolling update to the next one, as upstream's
unsatisfied expectations do); no back-off before a failed pod is replaced; no adoption of
orphans. A daemon pod is created bound (`spec.nodeName`) as well as carrying upstream's
node-name affinity, since podwall's scheduler reads no affinity; and one bound to a Node that
is gone is deleted here, where upstream leaves it to the pod garbage collector. Pure: the time
and randomness are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.apiserver.controllers import events, nodefit
from podwall.apiserver.controllers.actions import Action, Create, Delete, Obj, UpdateStatus
from podwall.apiserver.controllers.deploymentutil import scaled_value
from podwall.apiserver.controllers.meta import (
    annotations_of,
    controlled_by,
    controller_ref,
    creation_key,
    deep,
    is_deleting,
    labels_of,
    meta,
    name_of,
    namespace_of,
    unconditional,
)
from podwall.apiserver.controllers.naming import compute_hash, generate_name
from podwall.apiserver.controllers.pods import default_pod_template
from podwall.apiserver.controllers.podstatus import is_pod_available, is_pod_ready

TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
"""Where apps/v1 keeps spec.templateGeneration (the registry bumps it on template changes)."""
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
DAEMONSET_CONTROLLER = "daemonset-controller"

NodePods = dict[str, list[Obj]]


# -- the registry: defaults and template generation ------------------------------------------


def prepare_daemonset(new: Mapping[str, Any], stored: Mapping[str, Any] | None) -> Obj:
    """PrepareForCreate / PrepareForUpdate: template defaults, and the template generation:
    on create the one given (at least 1); on update one more than stored when the template
    changed, else the stored one."""
    out = deep(new)
    spec = out.setdefault("spec", {})
    spec["template"] = default_pod_template(spec.get("template") or {})
    if stored is None:
        generation = max(template_generation(out) or 1, 1)
    else:
        generation = template_generation(stored) or 1
        old_template = (stored.get("spec") or {}).get("template") or {}
        if default_pod_template(old_template) != spec["template"]:
            generation += 1
    annotations = out.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[TEMPLATE_GENERATION] = str(generation)
    return out


def template_generation(ds: Mapping[str, Any]) -> int | None:
    """util.GetTemplateGeneration: the annotation as a number, None when absent or bad."""
    value = annotations_of(ds).get(TEMPLATE_GENERATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def revision_hash(ds: Mapping[str, Any]) -> str:
    """The revision of the current template (a ControllerRevision's hash upstream)."""
    template = (ds.get("spec") or {}).get("template") or {}
    return compute_hash(template, (ds.get("status") or {}).get("collisionCount"))


# -- pods ---------------------------------------------------------------------------------------


def _template(ds: Mapping[str, Any]) -> Mapping[str, Any]:
    return (ds.get("spec") or {}).get("template") or {}


def _pod_spec_for(ds: Mapping[str, Any], node: str) -> Obj:
    """util.NewPod's spec: the template's, on `node`, with the daemon tolerations."""
    spec = deep(_template(ds).get("spec") or {})
    spec["nodeName"] = node
    nodefit.add_daemon_tolerations(spec)
    return spec


def node_should_run(ds: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run a pod there, should keep one running there)."""
    template_spec: Mapping[str, Any] = _template(ds).get("spec") or {}
    if template_spec.get("nodeName") and template_spec["nodeName"] != name_of(node):
        return False, False
    # What the predicates read of util.NewPod(ds, node), without copying the whole template.
    spec: dict[str, Any] = {**template_spec, "nodeName": name_of(node)}
    nodefit.add_daemon_tolerations(spec)
    if not nodefit.fits_node_affinity(spec, node):
        return False, False
    tolerations, taints = spec["tolerations"], nodefit.taints_of(node)
    if nodefit.untolerated_taint(taints, tolerations, nodefit.scheduling_taint) is None:
        return True, True
    evicted = nodefit.untolerated_taint(taints, tolerations, nodefit.eviction_taint)
    return False, evicted is None


def node_name_affinity(affinity: Mapping[str, Any] | None, node: str) -> Obj:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become `metadata.name In
    [node]` (the template's own terms chose the node already); the rest is kept."""
    out = deep(affinity or {})
    term = {"matchFields": [{"key": nodefit.NAME_FIELD, "operator": "In", "values": [node]}]}
    node_affinity = out.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    required["nodeSelectorTerms"] = [term]
    return out


def new_pod(ds: Mapping[str, Any], node: str, pod_hash: str, name: str) -> Obj:
    """util.NewPod + GetPodFromTemplate: the daemon pod for `node`, owned by `ds`."""
    template_meta = _template(ds).get("metadata") or {}
    labels = dict(template_meta.get("labels") or {})
    generation = template_generation(ds)
    if generation is not None:
        labels[GENERATION_LABEL] = str(generation)
    labels[HASH_LABEL] = pod_hash
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": f"{name_of(ds)}-",
        "namespace": namespace_of(ds),
        "labels": labels,
        "ownerReferences": [controller_ref(ds)],
    }
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            metadata[field] = deep({field: template_meta[field]})[field]
    spec = _pod_spec_for(ds, node)
    spec["affinity"] = node_name_affinity(spec.get("affinity"), node)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def target_node(pod: Mapping[str, Any]) -> str:
    """util.GetTargetNodeName: spec.nodeName, else the node its name affinity names."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    for term in nodefit.required_terms(spec) or ():
        for field in term.get("matchFields") or ():
            values = list(field.get("values") or ())
            if field.get("key") == nodefit.NAME_FIELD and len(values) == 1:
                return str(values[0])
    return ""


def is_pod_updated(pod: Mapping[str, Any], pod_hash: str, generation: int | None) -> bool:
    """util.IsPodUpdated: the pod carries the current hash or template generation."""
    labels = labels_of(pod)
    by_generation = generation is not None and labels.get(GENERATION_LABEL) == str(generation)
    return by_generation or (bool(pod_hash) and labels.get(HASH_LABEL) == pod_hash)


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _scheduled_then_oldest(pod: Mapping[str, Any]) -> tuple[bool, str, str]:
    """podByCreationTimestampAndPhase: bound pods first, then oldest, then by name."""
    return (not (pod.get("spec") or {}).get("nodeName"), *creation_key(pod))


def nodes_to_daemon_pods(ds: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> NodePods:
    """getNodesToDaemonPods: the pods `ds` controls, by target node, oldest first; a finished
    pod already being deleted is nobody's concern any more."""
    by_node: NodePods = {}
    for pod in sorted(controlled_by(pods, ds), key=_scheduled_then_oldest):
        if is_deleting(pod) and _phase(pod) in ("Succeeded", "Failed"):
            continue
        by_node.setdefault(target_node(pod), []).append(pod)
    return by_node


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
    failed = [pod for pod in live if _phase(pod) == "Failed"]
    finished = [pod for pod in live if _phase(pod) in ("Failed", "Succeeded")]
    running = sorted((pod for pod in live if pod not in finished), key=_scheduled_then_oldest)
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
        min_ready = _min_ready(ds)
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


# -- rolling update ------------------------------------------------------------------------------


def desired_nodes(ds: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The nodes that should run a daemon pod, by name."""
    return sorted(name_of(node) for node in nodes if node_should_run(ds, node)[0])


def _rolling(ds: Mapping[str, Any]) -> Mapping[str, Any]:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return {}
    rolling: Mapping[str, Any] = strategy.get("rollingUpdate") or {}
    return rolling


def _min_ready(ds: Mapping[str, Any]) -> int:
    return int((ds.get("spec") or {}).get("minReadySeconds", 0))


def max_surge(ds: Mapping[str, Any], desired: int) -> int:
    """util.SurgeCount: maxSurge of `desired` nodes, rounded up (0 unless RollingUpdate)."""
    return scaled_value(_rolling(ds).get("maxSurge", 0), desired, True)


def allows_surge(ds: Mapping[str, Any]) -> bool:
    """util.AllowsSurge: a rolling update that may run a new pod beside the old one."""
    return max_surge(ds, 1) != 0


def max_unavailable(ds: Mapping[str, Any], desired: int) -> int:
    """util.UnavailableCount, with updatedDesiredNodeCounts' floor: never both zero."""
    count = scaled_value(_rolling(ds).get("maxUnavailable", 1), desired, True)
    if desired > 0 and count == 0 and max_surge(ds, desired) == 0:
        return 1
    return count


def updated_pods_on_node(
    pods: Sequence[Mapping[str, Any]], pod_hash: str, generation: int | None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, bool]:
    """findUpdatedPodsOnNode: (new pod, old pod, at most one of each)."""
    new: Mapping[str, Any] | None = None
    old: Mapping[str, Any] | None = None
    for pod in pods:
        if is_deleting(pod):
            continue
        if is_pod_updated(pod, pod_hash, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update(
    ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], by_node: NodePods, now: datetime
) -> tuple[list[str], list[str]]:
    """rollingUpdate: (old pods to delete, nodes that get a new pod beside their old one)."""
    wanted = desired_nodes(ds, nodes)
    candidates = {name: by_node.get(name, []) for name in wanted} | by_node
    if allows_surge(ds):
        return _surge_update(ds, nodes, candidates, len(wanted), now)
    return _unavailable_update(ds, candidates, len(wanted), now), []


def _unavailable_update(
    ds: Mapping[str, Any], candidates: NodePods, desired: int, now: datetime
) -> list[str]:
    """maxSurge 0: old pods go, at most maxUnavailable nodes down at once; an old pod that is
    unavailable anyway may always go."""
    pod_hash, generation, min_ready = revision_hash(ds), template_generation(ds), _min_ready(ds)
    budget = max_unavailable(ds, desired)
    unavailable = 0
    replace: list[str] = []
    optional: list[str] = []
    for node_name in sorted(candidates):
        new, old, ok = updated_pods_on_node(candidates[node_name], pod_hash, generation)
        if not ok or (old is None) == (new is None):
            unavailable += 1  # manage creates or deletes here
        elif new is not None:
            unavailable += not is_pod_available(new, min_ready, now)
        elif old is not None and not is_pod_available(old, min_ready, now):
            replace.append(name_of(old))
        elif old is not None and unavailable < budget:
            optional.append(name_of(old))
    room = min(max(budget - unavailable, 0), len(optional))
    return replace + optional[:room]


def _surge_update(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    candidates: NodePods,
    desired: int,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """maxSurge > 0: a new pod starts beside an old one on at most maxSurge nodes at once (at
    once where the old one is unavailable); the old one goes when the new one is available. An
    old pod on a node that no longer fits goes only while enough pods elsewhere are available."""
    pod_hash, generation, min_ready = revision_hash(ds), template_generation(ds), _min_ready(ds)
    fits = {name_of(node): node_should_run(ds, node)[0] for node in nodes}
    budget = max_surge(ds, desired)
    surging = available = 0
    delete: list[str] = []
    unfit: list[str] = []
    allowed: list[str] = []
    optional: list[str] = []
    for node_name in sorted(candidates):
        new, old, ok = updated_pods_on_node(candidates[node_name], pod_hash, generation)
        if not ok:
            surging += 1  # manage cleans this node up
            continue
        current = old if old is not None else new
        available += current is not None and is_pod_available(current, min_ready, now)
        if old is None:
            continue
        if new is not None:
            if is_pod_available(new, min_ready, now):
                delete.append(name_of(old))
            else:
                surging += 1
        elif not fits.get(node_name):
            # off a node it no longer fits: at once when down, else when others can stand in
            (unfit if is_pod_available(old, min_ready, now) else delete).append(name_of(old))
        elif not is_pod_available(old, min_ready, now):
            allowed.append(node_name)
        elif surging < budget:
            optional.append(node_name)
    delete += unfit[: max(min(available - desired, len(unfit)), 0)]
    room = min(max(budget - surging, 0), len(optional))
    return delete, allowed + optional[:room]


def is_rolling(ds: Mapping[str, Any]) -> bool:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def resync_after(ds: Mapping[str, Any], status: Mapping[str, Any]) -> int | None:
    """Seconds after which to sync again, when a ready pod is not yet available (as upstream
    enqueues the DaemonSet after minReadySeconds); None when nothing waits on the clock."""
    min_ready = _min_ready(ds)
    if min_ready > 0 and status.get("numberReady", 0) != status.get("numberAvailable", 0):
        return min_ready
    return None


# -- status ----------------------------------------------------------------------------------------


def daemonset_status(
    ds: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]], by_node: NodePods, now: datetime
) -> dict[str, Any]:
    """updateDaemonSetStatus: the counts, from the oldest pod on each node that should run one."""
    pod_hash, generation, min_ready = revision_hash(ds), template_generation(ds), _min_ready(ds)
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
) -> list[Action]:
    """syncDaemonSet for one DaemonSet, given every Node and its pods (others are left out).

    `taken` holds the pod names of the namespace, which new pods avoid (default: the names in
    `pods`). Returns pod deletions and creations with their events, then the status update
    when the status changes. A DaemonSet being deleted gets nothing (its pods are the garbage
    collector's). The rolling update runs only in a sync that `manage` left alone.
    """
    if is_deleting(ds):
        return []
    all_pods = list(pods)
    node_list = list(nodes)
    by_node = nodes_to_daemon_pods(ds, all_pods)
    plan = manage(ds, node_list, by_node, now)
    if not plan.create and not plan.delete and is_rolling(ds):
        doomed, beside = rolling_update(ds, node_list, by_node, now)
        for name in doomed:
            plan.doomed({"metadata": {"name": name}})
        plan.create += beside
    names = taken if taken is not None else {name_of(p) for p in all_pods}
    actions = sync_nodes(ds, plan, names, now, rng)
    status = daemonset_status(ds, node_list, by_node, now)
    if status != (ds.get("status") or {}):
        updated = unconditional(deep(ds))
        updated["status"] = status
        actions.append(UpdateStatus(updated))
    return actions
