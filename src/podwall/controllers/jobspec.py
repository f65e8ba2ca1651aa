"""Jobs and CronJobs as the registry stores them: upstream's defaults and the generated selector.

Mirrors pkg/apis/batch/v1/defaults.go (`SetDefaults_Job`, `SetDefaults_CronJob`) and the Job
strategy's `generateSelector` (pkg/registry/batch/job/strategy.go): unless `manualSelector` is
true, the pod template gets the labels `batch.kubernetes.io/controller-uid`,
`batch.kubernetes.io/job-name` and their legacy twins `controller-uid`, `job-name` (a label the
user set is kept, and validation says when it is wrong), and the selector matches the
controller uid. The uid must be set before `generate_selector` runs (the store sets it).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import deep, name_of, uid_of
from podwall.controllers.pods import default_pod_template

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
"""The annotation (and label) that carries an Indexed Job pod's index."""
INSTANTIATE_ANNOTATION = "cronjob.kubernetes.io/instantiate"
MAX_INT32 = 2**31 - 1


def _template_of(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    template = spec.get("template")
    return template if isinstance(template, Mapping) else {}


def default_job_spec(spec: Mapping[str, Any]) -> Obj:
    """SetDefaults_Job's spec part, also what a CronJob's jobTemplate gets."""
    out = deep(spec)
    if out.get("completions") is None and out.get("parallelism") is None:
        out["completions"] = 1
        out["parallelism"] = 1
    out.setdefault("parallelism", 1)
    if out.get("backoffLimit") is None:
        out["backoffLimit"] = MAX_INT32 if out.get("backoffLimitPerIndex") is not None else 6
    out.setdefault("completionMode", "NonIndexed")
    out.setdefault("suspend", False)
    if out.get("podReplacementPolicy") is None:
        failure_policy = out.get("podFailurePolicy") is not None
        out["podReplacementPolicy"] = "Failed" if failure_policy else "TerminatingOrFailed"
    out["template"] = default_pod_template(_template_of(out))
    out["template"].setdefault("metadata", {}).pop("creationTimestamp", None)
    return out


def default_job(job: Mapping[str, Any]) -> Obj:
    """SetDefaults_Job: the spec's defaults; a Job without labels takes its template's."""
    out = deep(job)
    out["spec"] = default_job_spec(out.get("spec") or {})
    metadata = out.setdefault("metadata", {})
    template_labels = (out["spec"]["template"].get("metadata") or {}).get("labels")
    if not metadata.get("labels") and template_labels:
        metadata["labels"] = dict(template_labels)
    return out


def is_manual_selector(job: Mapping[str, Any]) -> bool:
    return bool((job.get("spec") or {}).get("manualSelector"))


def generate_selector(job: Mapping[str, Any]) -> Obj:
    """generateSelector: the name and uid labels on the template (what is set stays), and
    `batch.kubernetes.io/controller-uid` in the selector's matchLabels."""
    out = deep(job)
    spec = out.setdefault("spec", {})
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name_of(job))
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid_of(job))
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match_labels = selector.get("matchLabels")
    if not isinstance(match_labels, dict):
        match_labels = selector["matchLabels"] = {}
    match_labels.setdefault(CONTROLLER_UID_LABEL, uid_of(job))
    return out


def prepare_job(new: Mapping[str, Any], stored: Mapping[str, Any] | None) -> Obj:
    """The registry's create: defaults, then the selector unless it is manual (and a Job
    without labels takes the template's, generated ones included). An update changes nothing
    here (the selector and template are immutable)."""
    if stored is not None:
        return deep(new)
    job = default_job(new)
    # Upstream defaults the Job's labels again when it reads the Job back from storage, by
    # then from the generated template labels: what `kubectl describe job` shows.
    return job if is_manual_selector(job) else default_job(generate_selector(job))


def default_cronjob(cronjob: Mapping[str, Any]) -> Obj:
    """SetDefaults_CronJob, and the jobTemplate's Job defaults."""
    out = deep(cronjob)
    spec = out.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if isinstance(template, dict):
        template["spec"] = default_job_spec(template.get("spec") or {})
    return out
