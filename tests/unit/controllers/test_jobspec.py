"""Job and CronJob defaults, and the selector the registry generates from a Job's uid."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers.jobspec import (
    default_cronjob,
    default_job,
    default_job_spec,
    generate_selector,
    prepare_job,
)

UID = "0b7e3d5c-1111-4222-8333-444455556666"


def spec_of(**fields: Any) -> dict[str, Any]:
    return {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}, **fields}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, {"completions": 1, "parallelism": 1, "backoffLimit": 6},
                     id="neither completions nor parallelism: one pod, once"),
        pytest.param({"parallelism": 3}, {"parallelism": 3, "backoffLimit": 6},
                     id="parallelism alone: a work queue, no completions"),
        pytest.param({"completions": 4}, {"completions": 4, "parallelism": 1},
                     id="completions alone: one at a time"),
        pytest.param({"backoffLimitPerIndex": 1}, {"backoffLimit": 2**31 - 1},
                     id="a limit per index: no global backoffLimit"),
        pytest.param({}, {"completionMode": "NonIndexed", "suspend": False,
                          "podReplacementPolicy": "TerminatingOrFailed"},
                     id="mode, suspend and replacement policy"),
        pytest.param({"podFailurePolicy": {"rules": []}}, {"podReplacementPolicy": "Failed"},
                     id="a pod failure policy replaces only failed pods"),
    ],
)  # fmt: skip
def test_job_spec_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    spec = default_job_spec(spec_of(**given))
    assert {k: spec.get(k) for k in expected} == expected
    assert spec["template"]["spec"]["restartPolicy"] == "Always"  # validation refuses it


def test_a_job_without_labels_takes_its_templates() -> None:
    job = {"metadata": {"name": "j"}, "spec": spec_of()}
    job["spec"]["template"]["metadata"] = {"labels": {"app": "probe"}}
    assert default_job(job)["metadata"]["labels"] == {"app": "probe"}
    job["metadata"]["labels"] = {"own": "x"}
    assert default_job(job)["metadata"]["labels"] == {"own": "x"}


def test_the_generated_selector_picks_the_uid_and_the_template_carries_four_labels() -> None:
    job = {"metadata": {"name": "probe", "uid": UID}, "spec": spec_of()}
    out = generate_selector(job)
    assert out["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert out["spec"]["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "probe",
        "controller-uid": UID,
        "job-name": "probe",
    }


def test_a_label_the_user_set_is_kept_for_validation_to_judge() -> None:
    job = {"metadata": {"name": "probe", "uid": UID}, "spec": spec_of()}
    job["spec"]["template"]["metadata"] = {"labels": {"job-name": "other"}}
    assert generate_selector(job)["spec"]["template"]["metadata"]["labels"]["job-name"] == "other"


def test_a_manual_selector_is_left_alone_and_an_update_changes_nothing() -> None:
    selector = {"matchLabels": {"app": "x"}}
    job = {"metadata": {"name": "p", "uid": UID},
           "spec": spec_of(manualSelector=True, selector=selector)}  # fmt: skip
    assert prepare_job(job, None)["spec"]["selector"] == selector
    assert prepare_job(job, job) == job


def test_cronjob_defaults_and_its_job_template() -> None:
    cronjob = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": spec_of()}}}
    spec = default_cronjob(cronjob)["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 6


def test_a_job_without_labels_gets_the_generated_ones_when_created() -> None:
    job = {"metadata": {"name": "probe", "uid": UID}, "spec": spec_of()}
    labels = prepare_job(job, None)["metadata"]["labels"]
    assert labels == {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "probe",
        "controller-uid": UID,
        "job-name": "probe",
    }
