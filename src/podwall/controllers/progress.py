"""A Deployment's status: counts over its ReplicaSets, availability, and rollout progress.

Mirrors `calculateStatus` (pkg/controller/deployment/sync.go) and `syncRolloutStatus`
(progress.go): `Available` says whether `replicas - maxUnavailable` pods are available
(`MinimumReplicasAvailable` / "Deployment has minimum availability."); `Progressing` moves
through `NewReplicaSetCreated`, `ReplicaSetUpdated` ("ReplicaSet \"x\" is progressing.") to
`NewReplicaSetAvailable` ("ReplicaSet \"x\" has successfully progressed."), or to
`ProgressDeadlineExceeded` after `progressDeadlineSeconds` without progress. Counts that are zero
are left out, as upstream's `omitempty` does. Pure: the time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.controllers import deploymentutil as du
from podwall.controllers.actions import Obj
from podwall.controllers.meta import deep, meta, name_of


def _available_condition(deploy: Mapping[str, Any], available: int, now: datetime) -> Obj:
    if available >= du.replicas(deploy) - du.max_unavailable(deploy):
        message = "Deployment has minimum availability."
        return du.new_condition("Available", "True", du.MIN_AVAILABLE, message, now)
    message = "Deployment does not have minimum availability."
    return du.new_condition("Available", "False", du.MIN_UNAVAILABLE, message, now)


def calculate_status(
    deploy: Mapping[str, Any],
    all_rss: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: datetime,
) -> Obj:
    """calculateStatus: counts summed over the ReplicaSets, and the Available condition."""
    available = du.total_status(all_rss, "availableReplicas")
    counts = {
        "observedGeneration": int(meta(deploy).get("generation", 0)),
        "replicas": du.total_status(all_rss, "replicas"),
        "updatedReplicas": du.count(new_rs, "replicas") if new_rs else 0,
        "readyReplicas": du.total_status(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(du.total_replicas(all_rss) - available, 0),
    }
    state: Obj = {key: value for key, value in counts.items() if value}
    current = du.status(deploy)
    if current.get("collisionCount") is not None:
        state["collisionCount"] = current["collisionCount"]
    if current.get("conditions"):
        state["conditions"] = deep(current)["conditions"]
    du.set_condition(state, _available_condition(deploy, available, now))
    return state


def rollout_status(
    deploy: Mapping[str, Any],
    all_rss: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: datetime,
) -> Obj:
    """syncRolloutStatus: the status with the Progressing condition brought up to date."""
    state = calculate_status(deploy, all_rss, new_rs, now)
    if not du.has_progress_deadline(deploy):
        du.remove_condition(state, "Progressing")
        return state
    current = du.get_condition(du.status(deploy), "Progressing")
    complete = (
        state.get("replicas", 0) == state.get("updatedReplicas", 0)
        and current is not None
        and current.get("reason") == du.NEW_RS_AVAILABLE
    )
    if not complete:
        _estimate_progress(deploy, state, current, new_rs, now)
    return state


def _estimate_progress(
    deploy: Mapping[str, Any],
    state: Obj,
    current: Obj | None,
    new_rs: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    subject = f'ReplicaSet "{name_of(new_rs)}"' if new_rs else f'Deployment "{name_of(deploy)}"'
    if du.deployment_complete(deploy, state):
        message = f"{subject} has successfully progressed."
        condition = du.new_condition("Progressing", "True", du.NEW_RS_AVAILABLE, message, now)
        du.set_condition(state, condition)
    elif du.deployment_progressing(deploy, state):
        # Progress moves lastUpdateTime even when the reason stays: remove, then set.
        message = f"{subject} is progressing."
        condition = du.new_condition("Progressing", "True", du.RS_UPDATED, message, now)
        if current is not None:
            if current.get("status") == "True":
                condition["lastTransitionTime"] = current.get("lastTransitionTime")
            du.remove_condition(state, "Progressing")
        du.set_condition(state, condition)
    elif du.deployment_timed_out(deploy, state, now):
        message = f"{subject} has timed out progressing."
        condition = du.new_condition("Progressing", "False", du.TIMED_OUT, message, now)
        du.set_condition(state, condition)
