"""Validation of batch/v1 Jobs and CronJobs, in upstream's words (pkg/apis/batch/validation).

`validate_job` is ValidateJob but for the selector, which the store generates from the Job's uid
after this runs (the registry's `generateSelector`); `validate_job_selector` checks it then
(ValidateGeneratedSelector and the selector's half of ValidateJobSpec). `validate_job_update`
is ValidateJobSpecUpdate's immutable fields. `validate_cronjob` is ValidateCronJob; a
schedule that does not parse is named with croniter's words where robfig/cron's differ. Not
checked: podFailurePolicy, successPolicy, backoffLimitPerIndex and maxFailedIndexes (podwall's
controller does not act on them either), nor that a Job's name fits in a label value. A
template changed in any way is refused, where upstream lets a suspended Job that never started
change its scheduling directives. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.apiserver.appsvalidation import selector_matches_template
from podwall.apiserver.goformat import GoText, go_label_selector, go_map
from podwall.apiserver.podvalidation import validate_template_spec
from podwall.controllers import cronschedule
from podwall.controllers.jobspec import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    is_manual_selector,
)
from podwall.controllers.meta import name_of, uid_of
from podwall.model.fielderrors import FieldError, invalid, not_supported, required
from podwall.model.labelselectors import SelectorError, as_selector

MAX_PARALLELISM_INDEXED = 100_000
MAX_CRONJOB_NAME = 52
"""A CronJob's Jobs add 11 characters (`-<minutes>`) and must stay a DNS-1035 label."""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _nonnegative(spec: Mapping[str, Any], name: str, path: str) -> list[FieldError]:
    """ValidateNonnegativeField, for a field that is set."""
    value = spec.get(name)
    if isinstance(value, int) and value < 0:
        return [invalid(f"{path}.{name}", value, "must be greater than or equal to 0")]
    return []


def _completion_mode(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    mode = spec.get("completionMode")
    if mode is None:
        return []
    if mode not in ("NonIndexed", "Indexed"):
        return [not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"])]
    if mode != "Indexed":
        return []
    errs: list[FieldError] = []
    if spec.get("completions") is None:
        errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
    parallelism = spec.get("parallelism")
    if isinstance(parallelism, int) and parallelism > MAX_PARALLELISM_INDEXED:
        limit = MAX_PARALLELISM_INDEXED
        detail = f"must be less than or equal to {limit} when completion mode is Indexed"
        errs.append(invalid(f"{path}.parallelism", parallelism, detail))
    return errs


def _pod_replacement_policy(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    policy = spec.get("podReplacementPolicy")
    if policy is None:
        return []
    if spec.get("podFailurePolicy") is not None:
        allowed = ["Failed"]
    else:
        allowed = ["Failed", "TerminatingOrFailed"]
    if policy not in allowed:
        return [not_supported(f"{path}.podReplacementPolicy", policy, allowed)]
    return []


def validate_job_spec(spec: Mapping[str, Any], path: str = "spec") -> list[FieldError]:
    """validateJobSpec: counts not negative, a known completion mode and replacement policy,
    a template with containers and restartPolicy OnFailure or Never."""
    errs: list[FieldError] = []
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                 "ttlSecondsAfterFinished"):  # fmt: skip
        errs += _nonnegative(spec, name, path)
    errs += _completion_mode(spec, path)
    errs += _pod_replacement_policy(spec, path)
    raw_pod_spec = _dict(spec.get("template")).get("spec")
    errs += validate_template_spec(raw_pod_spec, f"{path}.template.spec")
    pod_spec = _dict(raw_pod_spec)
    restart = pod_spec.get("restartPolicy", "")
    if restart not in ("OnFailure", "Never"):
        errs.append(
            not_supported(f"{path}.template.spec.restartPolicy", restart, ["OnFailure", "Never"])
        )
    return errs


def validate_job(job: Mapping[str, Any]) -> list[FieldError]:
    """ValidateJob's spec checks; with a manual selector, the selector's too."""
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs = validate_job_spec(spec)
    if is_manual_selector(job):
        errs += _selector_errors(spec)
    return errs


def _selector_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    """ValidateJobSpec's selector half: required, valid, and matching the template's labels."""
    selector = spec.get("selector")
    if selector is None:
        return [required("spec.selector")]
    labels = _dict(_dict(spec.get("template")).get("metadata")).get("labels") or {}
    return selector_matches_template(selector, labels)


def _has_label(labels: Mapping[str, str], key: str, expected: str) -> list[FieldError]:
    """ValidateHasLabel on spec.template.metadata."""
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(path, go_map(labels), f"must be '{expected}'")]
    return []


def validate_job_selector(job: Mapping[str, Any]) -> list[FieldError]:
    """ValidateGeneratedSelector (unless the selector is manual) and the selector's checks."""
    spec = _dict(job.get("spec"))
    if is_manual_selector(job):
        return []
    errs: list[FieldError] = []
    if spec.get("selector") is None:
        return [required("spec.selector")]
    labels = _dict(_dict(spec.get("template")).get("metadata")).get("labels") or {}
    expected = {
        LEGACY_CONTROLLER_UID_LABEL: uid_of(job),
        LEGACY_JOB_NAME_LABEL: name_of(job),
        CONTROLLER_UID_LABEL: uid_of(job),
        JOB_NAME_LABEL: name_of(job),
    }
    for key, value in expected.items():
        errs += _has_label(labels, key, value)
    try:
        chosen = as_selector(spec["selector"])
    except SelectorError:
        chosen = None
    if chosen is not None and not chosen.matches(expected):
        printed = GoText("", (go_label_selector(spec["selector"]),))
        errs.append(invalid("spec.selector", printed, "`selector` not auto-generated"))
    return errs + _selector_errors(spec)


def validate_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """ValidateJobSpecUpdate's immutable fields: completions (but for Indexed Jobs scaled
    with parallelism), selector and template."""
    spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    errs: list[FieldError] = []
    if spec.get("completions") != old_spec.get("completions"):
        elastic = spec.get("completionMode") == "Indexed" and spec.get("completions") == spec.get(
            "parallelism"
        )
        if not elastic:
            errs.append(invalid("spec.completions", spec.get("completions"), "field is immutable"))
    if spec.get("selector") != old_spec.get("selector"):
        value = GoText("", (go_label_selector(spec.get("selector")),))
        errs.append(invalid("spec.selector", value, "field is immutable"))
    if spec.get("template") != old_spec.get("template"):
        errs.append(invalid("spec.template", spec.get("template"), "field is immutable"))
    return errs


def _schedule(spec: Mapping[str, Any]) -> list[FieldError]:
    """validateScheduleFormat and validateTimeZone."""
    schedule = spec.get("schedule")
    if not schedule or not isinstance(schedule, str):
        return [required("spec.schedule")]
    errs: list[FieldError] = []
    if "TZ" in schedule:
        detail = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        errs.append(invalid("spec.schedule", schedule, detail))
    elif (problem := cronschedule.check(schedule)) is not None:
        errs.append(invalid("spec.schedule", schedule, problem))
    zone = spec.get("timeZone")
    if isinstance(zone, str):
        try:
            cronschedule.zone_of(zone)
        except cronschedule.ScheduleError as exc:
            errs.append(invalid("spec.timeZone", zone, str(exc)))
    return errs


def validate_cronjob(cronjob: Mapping[str, Any]) -> list[FieldError]:
    """ValidateCronJobSpec: a schedule, a known concurrency policy, counts not negative, and a
    jobTemplate whose selector is left to be generated."""
    spec = cronjob.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    name = name_of(cronjob)
    if len(name) > MAX_CRONJOB_NAME:
        detail = f"must be no more than {MAX_CRONJOB_NAME} characters"
        errs.append(invalid("metadata.name", name, detail))
    errs += _schedule(spec)
    for name in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs += _nonnegative(spec, name, "spec")
    policy = spec.get("concurrencyPolicy", "")
    if policy == "":
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    template_spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    path = "spec.jobTemplate.spec"
    errs += validate_job_spec(template_spec, path)
    if template_spec.get("selector") is not None:
        value = GoText("", (go_label_selector(template_spec["selector"]),))
        errs.append(invalid(f"{path}.selector", value, "`selector` will be auto-generated"))
    if template_spec.get("manualSelector"):
        errs.append(
            not_supported(
                f"{path}.manualSelector", template_spec["manualSelector"], ["nil", "false"]
            )
        )
    return errs
