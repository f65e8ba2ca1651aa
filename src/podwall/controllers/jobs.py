"""The Job controller: pods run to completion, counted, retried up to a limit, then a verdict.

Mirrors pkg/controller/job/job_controller.go (`syncJob`, `manageJob`, `pastBackoffLimitOnFailure`,
`pastActiveDeadline`) as kube-controller-manager 1.32 runs it, with the delayed terminal
conditions: a Job that reached its completions gets `SuccessCriteriaMet`, then `Complete` (and
`completionTime`) once none of its pods is still running or terminating; a Job past its
backoffLimit (`BackoffLimitExceeded`) or its activeDeadlineSeconds (`DeadlineExceeded`) gets
`FailureTarget`, its running pods are deleted, then `Failed`. `suspend` deletes the running pods
and sets `Suspended`. Also the TTL-after-finished controller (pkg/controller/ttlafterfinished):
a finished Job with `ttlSecondsAfterFinished` is deleted once that time has passed (in the
background, where upstream deletes in the foreground; the garbage collector takes its pods).

Simplified: podwall puts no `batch.kubernetes.io/job-tracking` finalizer on pods, so the counts
are those of the pods in the API, never lower than the counts already in the status (a finished
pod that is deleted stays counted, but one deleted before its Job saw it finish is missed;
`uncountedTerminatedPods` stays empty). No podFailurePolicy, successPolicy or
backoffLimitPerIndex; no expectations (the server applies every action before the next sync).
Pure: the time and randomness are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from podwall.controllers import events
from podwall.controllers.actions import Action, Create, Delete, Obj, UpdateStatus
from podwall.controllers.jobpods import (
    backoff_remaining,
    format_intervals,
    is_active,
    is_indexed,
    is_terminating,
    new_pod,
    parse_intervals,
    pending_indexes,
    phase,
    succeeded_indexes,
)
from podwall.controllers.meta import (
    controlled_by,
    creation_key,
    deep,
    is_deleting,
    name_of,
    namespace_of,
    parse_time,
    rfc3339,
    unconditional,
)
from podwall.controllers.naming import generate_name
from podwall.controllers.podstatus import is_pod_ready

JOB_CONTROLLER = "job-controller"
JOBS = "jobs.batch"
BURST = 500
"""Most pods created by one sync (upstream creates in slow-start batches up to this)."""

COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
SUCCESS_CRITERIA_MET, FAILURE_TARGET = "SuccessCriteriaMet", "FailureTarget"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")


@dataclass(frozen=True, slots=True)
class JobSync:
    """What one sync decided: the actions, and when to sync again (None: on a change only)."""

    actions: list[Action]
    requeue_after: float | None = None


@dataclass(slots=True)
class _Counts:
    """What the Job's pods add up to."""

    active: list[Obj] = field(default_factory=list)
    terminating: int = 0
    ready: int = 0
    succeeded: int = 0
    failed: int = 0
    restarts: int = 0  # container restarts of running and pending pods (OnFailure)
    done_indexes: set[int] = field(default_factory=set)


# -- reading the Job ---------------------------------------------------------------------------


def _spec(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return job.get("spec") or {}


def _status(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return job.get("status") or {}


def condition(job: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The Job's condition of type `kind` when its status is True."""
    for c in _status(job).get("conditions") or ():
        if c.get("type") == kind and c.get("status") == "True":
            return dict(c)
    return None


def is_finished(job: Mapping[str, Any]) -> bool:
    """IsJobFinished: Complete or Failed."""
    return condition(job, COMPLETE) is not None or condition(job, FAILED) is not None


def _restart_policy(job: Mapping[str, Any]) -> str:
    return str(((_spec(job).get("template") or {}).get("spec") or {}).get("restartPolicy", ""))


def _counts(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> _Counts:
    counts = _Counts()
    replace_terminating = _spec(job).get("podReplacementPolicy") != "Failed"
    succeeded = failed = 0
    for pod in pods:
        if is_active(pod):
            counts.active.append(deep(pod))
            counts.ready += is_pod_ready(pod)
            counts.restarts += _restart_count(pod)
        elif is_terminating(pod):
            counts.terminating += 1
            failed += replace_terminating  # isPodFailed: a deleted pod that did not succeed
        succeeded += phase(pod) == "Succeeded"
        failed += phase(pod) == "Failed"
    status = _status(job)
    if is_indexed(job):
        completions = int(_spec(job).get("completions") or 0)
        known = {i for i in parse_intervals(status.get("completedIndexes")) if i < completions}
        counts.done_indexes = known | succeeded_indexes(pods, completions)
        succeeded = len(counts.done_indexes)
    counts.succeeded = max(succeeded, int(status.get("succeeded") or 0))
    counts.failed = max(failed, int(status.get("failed") or 0))
    return counts


def _restart_count(pod: Mapping[str, Any]) -> int:
    status = pod.get("status") or {}
    if status.get("phase") not in ("Running", "Pending"):
        return 0
    entries = [
        *(status.get("initContainerStatuses") or ()),
        *(status.get("containerStatuses") or ()),
    ]
    return sum(int(s.get("restartCount") or 0) for s in entries)


# -- the verdict -------------------------------------------------------------------------------


def _past_backoff_limit(job: Mapping[str, Any], counts: _Counts) -> bool:
    """failed > backoffLimit, or (OnFailure) the restarts of running pods reached it."""
    limit = int(_spec(job).get("backoffLimit", 6))
    if counts.failed > limit:
        return True
    if _restart_policy(job) != "OnFailure":
        return False
    return counts.restarts > 0 if limit == 0 else counts.restarts >= limit


def _deadline(job: Mapping[str, Any]) -> datetime | None:
    """When the Job's activeDeadlineSeconds runs out (None: no deadline, or not started)."""
    seconds = _spec(job).get("activeDeadlineSeconds")
    start = _status(job).get("startTime")
    if seconds is None or not start or _spec(job).get("suspend"):
        return None
    return parse_time(start) + timedelta(seconds=int(seconds))


def _is_complete(job: Mapping[str, Any], counts: _Counts) -> bool:
    completions = _spec(job).get("completions")
    if completions is None:
        return counts.succeeded > 0 and not counts.active
    return counts.succeeded >= int(completions)


def _verdict(job: Mapping[str, Any], counts: _Counts, now: datetime) -> tuple[str, str, str] | None:
    """(interim condition, reason, message) once the Job's outcome is known, else None."""
    for interim in (SUCCESS_CRITERIA_MET, FAILURE_TARGET):
        held = condition(job, interim)
        if held is not None:
            return interim, str(held.get("reason", "")), str(held.get("message", ""))
    if _past_backoff_limit(job, counts):
        return FAILURE_TARGET, *BACKOFF_LIMIT_EXCEEDED
    deadline = _deadline(job)
    if deadline is not None and now >= deadline:
        return FAILURE_TARGET, *DEADLINE_EXCEEDED
    if _is_complete(job, counts):
        return SUCCESS_CRITERIA_MET, *COMPLETIONS_REACHED
    return None


# -- conditions and status ---------------------------------------------------------------------


def new_condition(kind: str, reason: str, message: str, now: datetime, value: str = "True") -> Obj:
    stamp = rfc3339(now)
    return {
        "type": kind,
        "status": value,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _ensure(status: Obj, wanted: Obj) -> bool:
    """Add `wanted` to the status' conditions, or turn the condition of its type to its
    status; True when changed. A False condition is never added (ensureJobConditionStatus)."""
    conditions: list[Obj] = list(status.get("conditions") or ())
    for i, c in enumerate(conditions):
        if c.get("type") == wanted["type"]:
            if c.get("status") == wanted["status"]:
                return False
            conditions[i] = wanted
            break
    else:
        if wanted["status"] != "True":
            return False
        conditions.append(wanted)
    status["conditions"] = conditions
    return True


def _status_of(job: Mapping[str, Any], counts: _Counts, active: int) -> Obj:
    """The status fields the counts set; conditions and times are the caller's."""
    old = _status(job)
    status: Obj = {k: deep({k: v})[k] for k, v in old.items() if k in _KEPT}
    numbers = {"active": active, "succeeded": counts.succeeded, "failed": counts.failed}
    status.update({k: v for k, v in numbers.items() if v})
    status["ready"] = counts.ready if active else 0
    status["terminating"] = counts.terminating
    status["uncountedTerminatedPods"] = {}
    if is_indexed(job):
        completed = format_intervals(counts.done_indexes)
        if completed:
            status["completedIndexes"] = completed
    return status


_KEPT = ("conditions", "startTime", "completionTime")


# -- the sync ----------------------------------------------------------------------------------


def _event(job: Mapping[str, Any], reason: str, message: str, now: datetime, warn: bool) -> Obj:
    return events.new_event(
        job,
        reason=reason,
        message=message,
        now=now,
        component=JOB_CONTROLLER,
        type_=events.WARNING if warn else events.NORMAL,
    )


def _delete_pods(
    job: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], now: datetime
) -> list[Action]:
    actions: list[Action] = []
    for pod in pods:
        actions.append(Delete("pods", namespace_of(job), name_of(pod)))
        actions.append(
            Create(_event(job, "SuccessfulDelete", f"Deleted pod: {name_of(pod)}", now, False))
        )
    return actions


def _newest_first(pods: Iterable[Obj]) -> list[Obj]:
    """controller.ActivePods' deletion order, roughly: not ready first, then the newest."""
    by_age = sorted(pods, key=creation_key, reverse=True)
    return sorted(by_age, key=is_pod_ready)


def _want_active(job: Mapping[str, Any], counts: _Counts) -> int:
    parallelism = int(_spec(job).get("parallelism", 1))
    completions = _spec(job).get("completions")
    if completions is None:
        return len(counts.active) if counts.succeeded > 0 else parallelism
    return max(min(int(completions) - counts.succeeded, parallelism), 0)


def _create_pods(
    job: Mapping[str, Any],
    counts: _Counts,
    wanted: int,
    taken: Container[str],
    now: datetime,
    rng: random.Random,
) -> list[Action]:
    indexes: list[int | None]
    if is_indexed(job):
        completions = int(_spec(job).get("completions") or 0)
        indexes = list(pending_indexes(completions, counts.done_indexes, counts.active, wanted))
    else:
        indexes = [None] * wanted
    actions: list[Action] = []
    fresh: set[str] = set()
    for index in indexes[:BURST]:
        prefix = f"{name_of(job)}-" if index is None else f"{name_of(job)}-{index}-"
        name = generate_name(prefix, rng)
        while name in taken or name in fresh:
            name = generate_name(prefix, rng)
        fresh.add(name)
        actions.append(Create(new_pod(job, name, index)))
        actions.append(Create(_event(job, "SuccessfulCreate", f"Created pod: {name}", now, False)))
    return actions


def _manage(
    job: Mapping[str, Any],
    counts: _Counts,
    pods: Sequence[Mapping[str, Any]],
    taken: Container[str],
    now: datetime,
    rng: random.Random,
) -> tuple[list[Action], int, float | None]:
    """manageJob: (actions, pods active after them, seconds until a back-off ends)."""
    active = len(counts.active)
    want = _want_active(job, counts)
    if active > want:
        doomed = _newest_first(counts.active)[: active - want]
        return _delete_pods(job, doomed, now), want, None
    missing = want - active
    if _spec(job).get("podReplacementPolicy") == "Failed":
        missing -= counts.terminating
    if missing <= 0:
        return [], active, None
    wait = backoff_remaining(counts.failed, pods, now)
    if wait is not None:
        return [], active, wait.total_seconds()
    actions = _create_pods(job, counts, missing, taken, now, rng)
    return actions, active + len(actions) // 2, None


def _suspend(job: Mapping[str, Any], status: Obj, counts: _Counts, now: datetime) -> list[Action]:
    actions = _delete_pods(job, counts.active, now)
    if _ensure(status, new_condition(SUSPENDED, "JobSuspended", "Job suspended", now)):
        actions.append(Create(_event(job, "Suspended", "Job suspended", now, False)))
    return actions


def _resume(job: Mapping[str, Any], status: Obj, now: datetime) -> list[Action]:
    resumed = new_condition(SUSPENDED, "JobResumed", "Job resumed", now, "False")
    if not _ensure(status, resumed):
        return []
    status["startTime"] = rfc3339(now)
    return [Create(_event(job, "Resumed", "Job resumed", now, False))]


def _finish(
    job: Mapping[str, Any],
    status: Obj,
    counts: _Counts,
    verdict: tuple[str, str, str],
    now: datetime,
) -> list[Action]:
    """The interim condition; the running pods deleted; the final condition once none is left."""
    interim, reason, message = verdict
    _ensure(status, new_condition(interim, reason, message, now))
    actions = _delete_pods(job, counts.active, now)
    if counts.active or counts.terminating:
        status["terminating"] = counts.terminating + len(counts.active)
        status.pop("active", None)
        status["ready"] = 0
        return actions
    status.pop("active", None)
    status["ready"] = 0
    if interim == SUCCESS_CRITERIA_MET:
        _ensure(status, new_condition(COMPLETE, reason, message, now))
        status["completionTime"] = rfc3339(now)
        return [*actions, Create(_event(job, "Completed", "Job completed", now, False))]
    _ensure(status, new_condition(FAILED, reason, message, now))
    return [*actions, Create(_event(job, reason, message, now, True))]


def _finished_at(job: Mapping[str, Any]) -> datetime | None:
    done = condition(job, COMPLETE) or condition(job, FAILED) or {}
    stamp = _status(job).get("completionTime") or done.get("lastTransitionTime")
    return parse_time(str(stamp)) if stamp else None


def _expire(job: Mapping[str, Any], now: datetime) -> JobSync:
    """The TTL-after-finished controller: delete a finished Job once its TTL ran out."""
    ttl = _spec(job).get("ttlSecondsAfterFinished")
    finished = _finished_at(job)
    if ttl is None or finished is None:
        return JobSync([])
    remaining = (finished + timedelta(seconds=int(ttl)) - now).total_seconds()
    if remaining > 0:
        return JobSync([], remaining)
    return JobSync([Delete(JOBS, namespace_of(job), name_of(job))])


def _next_check(job: Mapping[str, Any], status: Mapping[str, Any], now: datetime) -> float | None:
    deadline = _deadline({**job, "status": status})
    if deadline is None:
        return None
    return max((deadline - now).total_seconds(), 0.0)


def reconcile_job(
    job: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    now: datetime,
    rng: random.Random,
    taken: Container[str] | None = None,
) -> JobSync:
    """syncJob for one Job, given (at least) the pods it controls.

    `taken` holds the pod names of the namespace, which new pods avoid (default: the names in
    `pods`). Returns pod creations and deletions with their events, then the status update
    when the status changes, and when to sync again (a deadline, a back-off, a TTL).
    """
    if is_deleting(job):
        return JobSync([])
    if is_finished(job):
        return _expire(job, now)
    owned = controlled_by(pods, job)
    counts = _counts(job, owned)
    status = _status_of(job, counts, len(counts.active))
    suspended = bool(_spec(job).get("suspend"))
    actions: list[Action] = []
    requeue: float | None = None
    if not suspended:
        actions += _resume(job, status, now)
        status.setdefault("startTime", rfc3339(now))
    verdict = _verdict({**job, "status": status}, counts, now)
    if verdict is not None:
        actions += _finish(job, status, counts, verdict, now)
    elif suspended:
        actions += _suspend(job, status, counts, now)
        status.pop("active", None)
        status["ready"] = 0
    else:
        names = taken if taken is not None else {name_of(p) for p in owned}
        managed, active, requeue = _manage(job, counts, owned, names, now, rng)
        actions += managed
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        deadline = _next_check(job, status, now)
        if deadline is not None:
            requeue = deadline if requeue is None else min(requeue, deadline)
    if status != dict(_status(job)):
        updated = unconditional(deep(job))
        updated["status"] = status
        actions.append(UpdateStatus(updated))
    if is_finished({"status": status}):
        expiry = _expire({**job, "status": status}, now)
        requeue = 0.0 if expiry.actions else expiry.requeue_after
    return JobSync(actions, requeue)
