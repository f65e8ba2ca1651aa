"""The CronJob controller: a Job at each scheduled time, with the history kept short.

Mirrors pkg/controller/cronjob (cronjob_controllerv2.go `syncCronJob`, utils.go
`mostRecentScheduleTime`, `getJobFromTemplate2`, `cleanupFinishedJobs`): a Job named
`<cronjob>-<scheduled time in minutes since the epoch>` for the most recent scheduled time not
yet run (missed ones before it are not made up for, as upstream starts only the latest),
unless it is older than `startingDeadlineSeconds`; `concurrencyPolicy` Forbid skips a time
while a Job runs, Replace deletes the running ones first; finished Jobs leave `status.active`
(`lastSuccessfulTime` follows the completed ones) and the oldest beyond the history limits are
deleted; `suspend` stops new Jobs. The schedule's times are `cronschedule`'s.

Simplified: a Job this controller created enters `status.active` at the next sync, once the
Job (and its uid) is in the caches, where upstream adds it as it creates it; no
`TooManyMissedTimes` count. Pure: the time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from podwall.controllers import events
from podwall.controllers.actions import Action, Create, Delete, Obj, UpdateStatus
from podwall.controllers.cronschedule import ScheduleError, parse
from podwall.controllers.jobs import COMPLETE, FAILED, condition, is_finished
from podwall.controllers.meta import (
    annotations_of,
    controlled_by,
    controller_ref,
    creation_key,
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    parse_time,
    rfc3339,
    uid_of,
    unconditional,
)

CRONJOB_CONTROLLER = "cronjob-controller"
JOBS = "jobs.batch"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


@dataclass(frozen=True, slots=True)
class CronJobSync:
    """What one sync decided: the actions, and when to sync again (None: on a change only)."""

    actions: list[Action]
    requeue_after: float | None = None


def _spec(cronjob: Mapping[str, Any]) -> Mapping[str, Any]:
    return cronjob.get("spec") or {}


def _event(
    cronjob: Mapping[str, Any], reason: str, message: str, now: datetime, warn: bool = False
) -> Obj:
    return events.new_event(
        cronjob,
        reason=reason,
        message=message,
        now=now,
        component=CRONJOB_CONTROLLER,
        type_=events.WARNING if warn else events.NORMAL,
    )


def job_name(cronjob: Mapping[str, Any], scheduled: datetime) -> str:
    """getJobName: the CronJob's name and the scheduled time in minutes since the epoch."""
    return f"{name_of(cronjob)}-{int(scheduled.timestamp()) // 60}"


def job_reference(job: Mapping[str, Any]) -> Obj:
    """ref.GetReference of a Job: what status.active lists."""
    m = meta(job)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": name_of(job),
        "namespace": namespace_of(job),
        "uid": uid_of(job),
        "resourceVersion": str(m.get("resourceVersion") or ""),
    }


def new_job(cronjob: Mapping[str, Any], scheduled: datetime, zone_time: datetime) -> Obj:
    """getJobFromTemplate2: the jobTemplate's labels, annotations and spec, owned by the
    CronJob, stamped with the time it was scheduled for."""
    template = _spec(cronjob).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_ANNOTATION] = zone_time.isoformat().replace("+00:00", "Z")
    metadata: Obj = {
        "name": job_name(cronjob, scheduled),
        "namespace": namespace_of(cronjob),
        "annotations": annotations,
        "ownerReferences": [controller_ref(cronjob)],
    }
    if template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])
    spec = deep(template.get("spec") or {})
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}


# -- what the Jobs say -------------------------------------------------------------------------


def _finished_how(job: Mapping[str, Any]) -> str:
    return COMPLETE if condition(job, COMPLETE) is not None else FAILED


def _ours(cronjob: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """A Job this controller created for the time it last scheduled."""
    stamp = annotations_of(job).get(SCHEDULED_ANNOTATION)
    last = (cronjob.get("status") or {}).get("lastScheduleTime")
    if not stamp or not last:
        return False
    return parse_time(stamp) == parse_time(str(last))


def _reconcile_active(
    cronjob: Mapping[str, Any], jobs: list[Obj], status: Obj, now: datetime
) -> list[Action]:
    """The active list follows the Jobs: finished ones leave, missing ones too, ours join."""
    actions: list[Action] = []
    active = list(status.get("active") or ())
    listed = {str(ref.get("uid")) for ref in active}
    by_uid = {uid_of(j): j for j in jobs}
    for job in jobs:
        found = uid_of(job) in listed
        if not found and not is_finished(job):
            if _ours(cronjob, job):
                active.append(job_reference(job))
            else:
                message = f"Saw a job that the controller did not create or forgot: {name_of(job)}"
                actions.append(Create(_event(cronjob, "UnexpectedJob", message, now, warn=True)))
        elif found and is_finished(job):
            active = [ref for ref in active if ref.get("uid") != uid_of(job)]
            message = f"Saw completed job: {name_of(job)}, condition: {_finished_how(job)}"
            actions.append(Create(_event(cronjob, "SawCompletedJob", message, now)))
        completed = (job.get("status") or {}).get("completionTime")
        if is_finished(job) and completed and condition(job, COMPLETE) is not None:
            last = status.get("lastSuccessfulTime")
            if not last or parse_time(str(completed)) > parse_time(str(last)):
                status["lastSuccessfulTime"] = completed
    for ref in list(active):
        if str(ref.get("uid")) not in by_uid:
            active.remove(ref)
            message = f"Active job went missing: {ref.get('name')}"
            actions.append(Create(_event(cronjob, "MissingJob", message, now)))
    if active:
        status["active"] = active
    else:
        status.pop("active", None)
    return actions


def _cleanup(cronjob: Mapping[str, Any], jobs: list[Obj], now: datetime) -> list[Action]:
    """cleanupFinishedJobs: the oldest finished Jobs beyond the history limits go."""
    spec = _spec(cronjob)
    actions: list[Action] = []
    for kind, field in (
        (COMPLETE, "successfulJobsHistoryLimit"),
        (FAILED, "failedJobsHistoryLimit"),
    ):
        limit = spec.get(field)
        if limit is None:
            continue
        finished = sorted(
            (j for j in jobs if is_finished(j) and _finished_how(j) == kind and not is_deleting(j)),
            key=_start_key,
        )
        for job in finished[: max(len(finished) - int(limit), 0)]:
            actions.append(Delete(JOBS, namespace_of(job), name_of(job)))
            actions.append(
                Create(_event(cronjob, "SuccessfulDelete", f"Deleted job {name_of(job)}", now))
            )
    return actions


def _start_key(job: Mapping[str, Any]) -> tuple[str, str, str]:
    """byJobStartTime: by start time (a Job not started last), then name."""
    start = str((job.get("status") or {}).get("startTime") or "~")
    return start, *creation_key(job)


# -- the schedule ------------------------------------------------------------------------------


def _due(cronjob: Mapping[str, Any], now: datetime) -> tuple[datetime | None, datetime, Any]:
    """(the most recent scheduled time not yet run, or None; the next one; the schedule)."""
    spec, status = _spec(cronjob), cronjob.get("status") or {}
    schedule = parse(str(spec.get("schedule") or ""), spec.get("timeZone"))
    earliest = parse_time(str(status.get("lastScheduleTime") or meta(cronjob)["creationTimestamp"]))
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=int(deadline)))
    latest = schedule.previous(now)
    following = schedule.next(now)
    return (latest if latest > earliest else None), following, schedule


def _requeue(following: datetime, now: datetime) -> float:
    """nextScheduleTimeDuration: a little after the next scheduled time."""
    return max((following - now).total_seconds(), 0.0) + 0.1


def reconcile_cronjob(
    cronjob: Mapping[str, Any], jobs: Iterable[Mapping[str, Any]], now: datetime
) -> CronJobSync:
    """syncCronJob for one CronJob, given (at least) the Jobs it controls."""
    if is_deleting(cronjob):
        return CronJobSync([])
    owned = controlled_by(jobs, cronjob)
    status: Obj = deep(cronjob.get("status") or {})
    actions = _reconcile_active(cronjob, owned, status, now)
    actions += _cleanup(cronjob, owned, now)
    requeue: float | None = None
    if not _spec(cronjob).get("suspend"):
        started, requeue = _start(cronjob, owned, status, now)
        actions += started
    if status != (cronjob.get("status") or {}):
        updated = unconditional(deep(cronjob))
        updated["status"] = status
        actions.append(UpdateStatus(updated))
    return CronJobSync(actions, requeue)


def _start(
    cronjob: Mapping[str, Any], owned: list[Obj], status: Obj, now: datetime
) -> tuple[list[Action], float | None]:
    """The Job for the time that is due, if any; when to look again."""
    spec = _spec(cronjob)
    try:
        scheduled, following, schedule = _due(cronjob, now)
    except ScheduleError as exc:
        message = f"unparseable schedule: {spec.get('schedule')!r} : {exc}"
        return [Create(_event(cronjob, "UnparseableSchedule", message, now, warn=True))], None
    requeue = _requeue(following, now)
    if scheduled is None:
        return [], requeue
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
        stamp = scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000")
        message = f"Missed scheduled time to start a job: {stamp}"
        return [Create(_event(cronjob, "MissSchedule", message, now, warn=True))], requeue
    name = job_name(cronjob, scheduled)
    if any(name_of(j) == name for j in owned):
        return [], requeue  # already started (its status may lag)
    actions: list[Action] = []
    active = list(status.get("active") or ())
    policy = spec.get("concurrencyPolicy", "Allow")
    if active and policy == "Forbid":
        message = (
            "Not starting job because prior execution is running and concurrency policy is Forbid"
        )
        return [Create(_event(cronjob, "JobAlreadyActive", message, now))], requeue
    if active and policy == "Replace":
        for ref in active:
            actions.append(Delete(JOBS, namespace_of(cronjob), str(ref.get("name"))))
            actions.append(
                Create(_event(cronjob, "SuccessfulDelete", f"Deleted job {ref.get('name')}", now))
            )
        status.pop("active", None)
    job = new_job(cronjob, scheduled, scheduled.astimezone(schedule.zone))
    actions.append(Create(job))
    actions.append(Create(_event(cronjob, "SuccessfulCreate", f"Created job {name}", now)))
    status["lastScheduleTime"] = rfc3339(scheduled)
    return actions, requeue
