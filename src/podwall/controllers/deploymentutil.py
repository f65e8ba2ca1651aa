"""Deployment arithmetic and bookkeeping, without any decision of what to scale.

Mirrors pkg/controller/deployment/util/deployment_util.go: `ResolveFenceposts`, `MaxSurge`,
`MaxUnavailable`, `NewRSNewReplicas`, `GetReplicaSetProportion`, `EqualIgnoreHash`,
`FindNewReplicaSet`, revisions and their annotations, and the condition helpers
(`NewDeploymentCondition`, `SetDeploymentCondition`: a condition with the same status and reason
is left alone; its `lastTransitionTime` survives a change of reason). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import (
    annotations_of,
    creation_key,
    deep,
    meta,
    parse_time,
    rfc3339,
)

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NOT_COPIED = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
     "deprecated.deployment.rollback.to"}
)  # fmt: skip

MAX_INT32 = 2**31 - 1

# Condition reasons (deployment_util.go).
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def status(obj: Mapping[str, Any]) -> dict[str, Any]:
    value = obj.get("status")
    return value if isinstance(value, dict) else {}


def replicas(obj: Mapping[str, Any]) -> int:
    """`*spec.replicas` (defaulted to 1 when absent)."""
    return int(spec(obj).get("replicas", 1))


def count(obj: Mapping[str, Any], field: str) -> int:
    """An integer of the status; upstream omits zeros."""
    return int(status(obj).get(field, 0))


def is_rolling(deploy: Mapping[str, Any]) -> bool:
    kind = (spec(deploy).get("strategy") or {}).get("type", "RollingUpdate")
    return bool(kind == "RollingUpdate")


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: `25%` of total, rounded as asked."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%"))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(deploy: Mapping[str, Any]) -> tuple[int, int]:
    """ResolveFenceposts: (maxSurge, maxUnavailable); never both zero."""
    rolling = (spec(deploy).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(deploy)
    surge = scaled_value(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deploy: Mapping[str, Any]) -> int:
    return resolve_fenceposts(deploy)[0] if is_rolling(deploy) else 0


def max_unavailable(deploy: Mapping[str, Any]) -> int:
    if not is_rolling(deploy) or replicas(deploy) == 0:
        return 0
    return min(resolve_fenceposts(deploy)[1], replicas(deploy))


def total_replicas(rss: Iterable[Mapping[str, Any]]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(replicas(rs) for rs in rss)


def total_status(rss: Iterable[Mapping[str, Any]], field: str) -> int:
    """The sum of one status count (replicas, readyReplicas, availableReplicas)."""
    return sum(count(rs, field) for rs in rss)


def new_rs_new_replicas(
    deploy: Mapping[str, Any], all_rss: Sequence[Mapping[str, Any]], new_rs: Mapping[str, Any]
) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may grow now."""
    if not is_rolling(deploy):
        return replicas(deploy)
    surge = scaled_value(
        ((spec(deploy).get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
        replicas(deploy),
        True,
    )
    max_total = replicas(deploy) + surge
    current = total_replicas(all_rss)
    if current >= max_total:
        return replicas(new_rs)
    grow = min(max_total - current, replicas(deploy) - replicas(new_rs))
    return replicas(new_rs) + grow


def _round_half_away(value: float) -> int:
    """integer.RoundToInt32 (math.Round: halves away from zero)."""
    return int(math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1))


def proportion(rs: Mapping[str, Any], deploy: Mapping[str, Any], to_add: int, added: int) -> int:
    """GetReplicaSetProportion: this ReplicaSet's share of a scaling event."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, deploy)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: Mapping[str, Any], deploy: Mapping[str, Any]) -> int:
    """getReplicaSetFraction: its size scaled from the max-replicas it was made for."""
    if replicas(deploy) == 0:
        return -replicas(rs)
    deployment_replicas = replicas(deploy) + max_surge(deploy)
    annotated = annotations_of(rs).get(MAX_REPLICAS)
    base = int(annotated) if annotated and annotated.isdigit() else count(deploy, "replicas")
    if base == 0:
        return 0
    return _round_half_away(replicas(rs) * deployment_replicas / base) - replicas(rs)


def without_hash(template: Mapping[str, Any]) -> Obj:
    copy = deep(template)
    (copy.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return copy


def equal_ignore_hash(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """EqualIgnoreHash: the same pod template once `pod-template-hash` is set aside."""
    return without_hash(one) == without_hash(other)


def find_new_replicaset(deploy: Mapping[str, Any], rss: Sequence[Obj]) -> Obj | None:
    """FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's."""
    template = spec(deploy).get("template") or {}
    for rs in sorted(rss, key=creation_key):
        if equal_ignore_hash(spec(rs).get("template") or {}, template):
            return rs
    return None


def revision(obj: Mapping[str, Any]) -> int:
    """Revision: the revision annotation as a number (0 when absent or unreadable)."""
    text = annotations_of(obj).get(REVISION, "0")
    return int(text) if text.isdigit() else 0


def revision_key(rs: Mapping[str, Any]) -> tuple[int, str, str]:
    """ReplicaSetsByRevision: lowest revision first, creation time breaks ties."""
    return (revision(rs), *creation_key(rs))


def copy_annotations(deploy: Mapping[str, Any], rs: Obj) -> bool:
    """copyDeploymentAnnotationsToReplicaSet: all but apply and revision bookkeeping."""
    target = meta(rs).setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(deploy).items():
        if key not in _NOT_COPIED and target.get(key) != value:
            target[key] = value
            changed = True
    return changed


def set_revision(rs: Obj, new_revision: int) -> bool:
    """The revision part of SetNewReplicaSetAnnotations, history kept on a rollback."""
    target = meta(rs).setdefault("annotations", {})
    old = target.get(REVISION, "")
    old_number = int(old) if old.isdigit() else 0
    if old and not old.isdigit():
        return False
    if old_number >= new_revision:
        return False
    target[REVISION] = str(new_revision)
    if old:
        history = target.get(REVISION_HISTORY)
        target[REVISION_HISTORY] = f"{history},{old}" if history else old
    return True


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    """SetReplicasAnnotations: desired-replicas and max-replicas."""
    target = meta(rs).setdefault("annotations", {})
    wanted = {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(maximum)}
    changed = any(target.get(k) != v for k, v in wanted.items())
    target.update(wanted)
    return changed


def new_condition(kind: str, value: str, reason: str, message: str, now: datetime) -> Obj:
    """NewDeploymentCondition."""
    stamp = rfc3339(now)
    return {
        "type": kind,
        "status": value,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(state: Mapping[str, Any], kind: str) -> Obj | None:
    for condition in state.get("conditions") or ():
        if condition.get("type") == kind:
            return dict(condition)
    return None


def set_condition(state: Obj, condition: Obj) -> None:
    """SetDeploymentCondition: unchanged if status and reason agree; else moved to the end."""
    current = get_condition(state, condition["type"])
    if current and current["status"] == condition["status"]:
        if current.get("reason") == condition["reason"]:
            return
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(state, condition["type"])
    state.setdefault("conditions", []).append(condition)


def remove_condition(state: Obj, kind: str) -> None:
    kept = [c for c in state.get("conditions") or () if c.get("type") != kind]
    if kept:
        state["conditions"] = kept
    else:
        state.pop("conditions", None)


def has_progress_deadline(deploy: Mapping[str, Any]) -> bool:
    deadline = spec(deploy).get("progressDeadlineSeconds")
    return deadline is not None and int(deadline) != MAX_INT32


def has_revision_history_limit(deploy: Mapping[str, Any]) -> bool:
    limit = spec(deploy).get("revisionHistoryLimit")
    return limit is not None and int(limit) != MAX_INT32


def deployment_complete(deploy: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    """DeploymentComplete: every replica updated and available, the generation observed."""
    desired = replicas(deploy)
    return (
        int(state.get("updatedReplicas", 0)) == desired
        and int(state.get("replicas", 0)) == desired
        and int(state.get("availableReplicas", 0)) == desired
        and int(state.get("observedGeneration", 0)) >= int(meta(deploy).get("generation", 0))
    )


def deployment_progressing(deploy: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    """DeploymentProgressing: more updated, ready or available pods, or fewer old ones."""
    old = status(deploy)

    def get(source: Mapping[str, Any], field: str) -> int:
        return int(source.get(field, 0))

    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(state, "replicas") - get(state, "updatedReplicas")
    return (
        get(state, "updatedReplicas") > get(old, "updatedReplicas")
        or new_old < old_old
        or get(state, "readyReplicas") > get(old, "readyReplicas")
        or get(state, "availableReplicas") > get(old, "availableReplicas")
    )


def deployment_timed_out(
    deploy: Mapping[str, Any], state: Mapping[str, Any], now: datetime
) -> bool:
    """DeploymentTimedOut: no progress reported for progressDeadlineSeconds."""
    if not has_progress_deadline(deploy):
        return False
    condition = get_condition(state, "Progressing")
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    deadline = int(spec(deploy)["progressDeadlineSeconds"])
    last = parse_time(str(condition.get("lastUpdateTime")))
    return (now - last).total_seconds() > deadline
