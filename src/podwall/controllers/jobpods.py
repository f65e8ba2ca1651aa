"""A Job's pods: the pod for a new attempt, which pods count as what, and completion indexes.

Mirrors pkg/controller/job: `GetPodFromTemplate` with the Job as controller (pods named
`<job>-<5 chars>`, or `<job>-<index>-<5 chars>` for an Indexed Job), indexed_job_utils.go
(the `batch.kubernetes.io/job-completion-index` annotation and label, the
`JOB_COMPLETION_INDEX` environment variable, the hostname `<job>-<index>`, `completedIndexes`
as intervals `0-2,4`), `controller.IsPodActive` and the pod failure back-off
(`getRemainingTimeForFailuresCount`: 10 s doubled per failure, at most 6 minutes, from the last
failure). Pure: no I/O; times are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.jobspec import COMPLETION_INDEX
from podwall.controllers.meta import (
    annotations_of,
    controller_ref,
    deep,
    is_deleting,
    name_of,
    namespace_of,
    parse_time,
)

INDEX_ENV = "JOB_COMPLETION_INDEX"
DEFAULT_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=6)


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_active(pod: Mapping[str, Any]) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    return phase(pod) not in ("Succeeded", "Failed") and not is_deleting(pod)


def is_terminating(pod: Mapping[str, Any]) -> bool:
    """Being deleted but not finished: what `status.terminating` counts."""
    return is_deleting(pod) and phase(pod) not in ("Succeeded", "Failed")


def is_indexed(job: Mapping[str, Any]) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def index_of(pod: Mapping[str, Any]) -> int | None:
    """getCompletionIndex: the annotation's number, None when absent or not a number."""
    value = annotations_of(pod).get(COMPLETION_INDEX)
    if value is None or not value.isdigit():
        return None
    return int(value)


def _with_index_env(container: Mapping[str, Any]) -> Obj:
    out = deep(container)
    env = [e for e in out.get("env") or () if e.get("name") != INDEX_ENV]
    ref = {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}
    out["env"] = [*env, {"name": INDEX_ENV, "valueFrom": ref}]
    return out


def new_pod(job: Mapping[str, Any], name: str, index: int | None) -> Obj:
    """The pod of one attempt, owned by `job`; with `index` for an Indexed Job."""
    template = (job.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    labels = dict(template_meta.get("labels") or {})
    annotations = dict(template_meta.get("annotations") or {})
    spec = deep(template.get("spec") or {})
    prefix = f"{name_of(job)}-"
    if index is not None:
        labels[COMPLETION_INDEX] = annotations[COMPLETION_INDEX] = str(index)
        prefix = f"{name_of(job)}-{index}-"
        for field in ("initContainers", "containers"):
            if field in spec:
                spec[field] = [_with_index_env(c) for c in spec[field] or ()]
        if spec.get("subdomain"):
            spec.setdefault("hostname", f"{name_of(job)}-{index}")
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": prefix,
        "namespace": namespace_of(job),
        "labels": labels,
        "ownerReferences": [controller_ref(job)],
    }
    if annotations:
        metadata["annotations"] = annotations
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def succeeded_indexes(pods: Iterable[Mapping[str, Any]], completions: int) -> set[int]:
    """The indexes with a Succeeded pod, within [0, completions)."""
    done = set()
    for pod in pods:
        index = index_of(pod)
        if phase(pod) == "Succeeded" and index is not None and index < completions:
            done.add(index)
    return done


def parse_intervals(text: str | None) -> set[int]:
    """`0-2,4` -> {0, 1, 2, 4}; what does not parse is skipped (as parseIndexesFromString)."""
    out: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            out.update(range(int(first), int(last or first) + 1))
    return out


def format_intervals(indexes: Iterable[int]) -> str:
    """{0, 1, 2, 4} -> `0-2,4` (succeededIndexesToString)."""
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def pending_indexes(
    completions: int, done: set[int], active: Sequence[Mapping[str, Any]], wanted: int
) -> list[int]:
    """firstPendingIndexes: the lowest `wanted` indexes neither done nor being worked on."""
    busy = {index_of(pod) for pod in active}
    free = (i for i in range(completions) if i not in done and i not in busy)
    return [i for _, i in zip(range(max(wanted, 0)), free, strict=False)]


def _finished_at(pod: Mapping[str, Any]) -> datetime | None:
    """When a failed pod finished: its containers' last finishedAt, else its creation."""
    stamps = [
        str(((s.get("state") or {}).get("terminated") or {}).get("finishedAt") or "")
        for s in (pod.get("status") or {}).get("containerStatuses") or ()
    ]
    stamps = [s for s in stamps if s]
    if stamps:
        return max(parse_time(s) for s in stamps)
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    return parse_time(created) if created else None


def backoff_remaining(
    failed: int, pods: Iterable[Mapping[str, Any]], now: datetime
) -> timedelta | None:
    """How long new pods wait after `failed` failures (None: they need not wait)."""
    if failed <= 0:
        return None
    finished = [t for p in pods if phase(p) == "Failed" and (t := _finished_at(p)) is not None]
    if not finished:
        return None
    delay = min(DEFAULT_BACKOFF * 2 ** min(failed - 1, 16), MAX_BACKOFF)
    remaining = max(finished) + delay - now
    return remaining if remaining > timedelta(0) else None
