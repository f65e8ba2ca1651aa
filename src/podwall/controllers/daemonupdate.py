"""The DaemonSet update strategy: how far a rollout may go in one sync.

Mirrors pkg/controller/daemon/update.go (`rollingUpdate`, `findUpdatedPodsOnNode`,
`updatedDesiredNodeCounts`) and util (`SurgeCount`, `UnavailableCount`, `AllowsSurge`):
without surge, old pods go while at most maxUnavailable nodes lack an available pod; with
maxSurge, a new pod starts beside the old one and the old one goes once the new one is
available. OnDelete replaces nothing. Pure: the time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.controllers.daemonpods import (
    NodePods,
    desired_nodes,
    is_pod_updated,
    min_ready_seconds,
    node_should_run,
    revision_hash,
    template_generation,
)
from podwall.controllers.deploymentutil import scaled_value
from podwall.controllers.meta import is_deleting, name_of
from podwall.controllers.podstatus import is_pod_available


def _rolling(ds: Mapping[str, Any]) -> Mapping[str, Any]:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return {}
    rolling: Mapping[str, Any] = strategy.get("rollingUpdate") or {}
    return rolling


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
    pod_hash, generation, min_ready = (
        revision_hash(ds),
        template_generation(ds),
        min_ready_seconds(ds),
    )
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
    pod_hash, generation, min_ready = (
        revision_hash(ds),
        template_generation(ds),
        min_ready_seconds(ds),
    )
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
