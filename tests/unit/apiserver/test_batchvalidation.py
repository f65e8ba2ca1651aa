"""Job and CronJob validation, in the words kube-apiserver answers with."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.apiserver import batchvalidation as bv
from podwall.controllers.jobspec import default_job, generate_selector

UID = "0b7e3d5c-1111-4222-8333-444455556666"


def job(**spec: Any) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "b"}]}}
    return {"metadata": {"name": "probe", "uid": UID}, "spec": {"template": template, **spec}}


def rendered(errs: list[Any]) -> list[str]:
    return [e.render() for e in errs]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="a valid Job"),
        pytest.param({"parallelism": -1}, ["spec.parallelism: Invalid value: -1: must be greater "
                                           "than or equal to 0"], id="negative parallelism"),
        pytest.param({"backoffLimit": -2, "ttlSecondsAfterFinished": -1},
                     ["spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
                      "spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or "
                      "equal to 0"], id="negative backoffLimit and TTL"),
        pytest.param({"completionMode": "Indexed"},
                     ["spec.completions: Required value: when completion mode is Indexed"],
                     id="Indexed without completions"),
        pytest.param({"completionMode": "Sometimes"},
                     ['spec.completionMode: Unsupported value: "Sometimes": supported values: '
                      '"NonIndexed", "Indexed"'], id="an unknown completion mode"),
        pytest.param({"podReplacementPolicy": "Failed", "podFailurePolicy": {"rules": []}}, [],
                     id="a failure policy with Failed replacement"),
        pytest.param({"podReplacementPolicy": "TerminatingOrFailed",
                      "podFailurePolicy": {"rules": []}},
                     ['spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": '
                      'supported values: "Failed"'], id="a failure policy needs Failed"),
    ],
)  # fmt: skip
def test_job_spec(spec: dict[str, Any], expected: list[str]) -> None:
    assert rendered(bv.validate_job(job(**spec))) == expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("Always", ['spec.template.spec.restartPolicy: Unsupported value: "Always": '
                                'supported values: "OnFailure", "Never"'], id="Always"),
        pytest.param("OnFailure", [], id="OnFailure"),
    ],
)  # fmt: skip
def test_restart_policy(policy: str, expected: list[str]) -> None:
    obj = job()
    obj["spec"]["template"]["spec"]["restartPolicy"] = policy
    assert rendered(bv.validate_job(obj)) == expected


def test_a_generated_selector_passes_and_a_foreign_label_is_named() -> None:
    assert bv.validate_job_selector(generate_selector(default_job(job()))) == []
    obj = job()
    obj["spec"]["template"]["metadata"] = {"labels": {"job-name": "other"}}
    assert rendered(bv.validate_job_selector(generate_selector(obj))) == [
        "spec.template.metadata.labels[job-name]: Invalid value: "
        'map[string]string{"batch.kubernetes.io/controller-uid":"' + UID + '", '
        '"batch.kubernetes.io/job-name":"probe", "controller-uid":"' + UID + '", '
        '"job-name":"other"}: must be \'probe\''
    ]


def test_a_manual_selector_must_match_the_template() -> None:
    obj = job(manualSelector=True, selector={"matchLabels": {"app": "x"}})
    assert rendered(bv.validate_job(obj)) == [
        "spec.template.metadata.labels: Invalid value: map[string]string{}: "
        "`selector` does not match template `labels`"
    ]
    assert rendered(bv.validate_job(job(manualSelector=True))) == ["spec.selector: Required value"]


def test_selector_template_and_completions_are_immutable() -> None:
    old = generate_selector(default_job(job(completions=2)))
    new = generate_selector(default_job(job(completions=3)))
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    new["spec"]["selector"] = {"matchLabels": {"app": "x"}}
    paths = [e.path for e in bv.validate_job_update(new, old)]
    assert paths == ["spec.completions", "spec.selector", "spec.template"]
    assert bv.validate_job_update(old, old) == []


def cronjob(**spec: Any) -> dict[str, Any]:
    template = job()["spec"]
    return {"spec": {"schedule": "*/5 * * * *", "concurrencyPolicy": "Allow",
                     "jobTemplate": {"spec": template}, **spec}}  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="a valid CronJob"),
        pytest.param({"schedule": ""}, ["spec.schedule: Required value"], id="no schedule"),
        pytest.param({"concurrencyPolicy": "Sometimes"},
                     ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: '
                      '"Allow", "Forbid", "Replace"'], id="an unknown concurrency policy"),
        pytest.param({"startingDeadlineSeconds": -1},
                     ["spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or "
                      "equal to 0"], id="a negative starting deadline"),
    ],
)  # fmt: skip
def test_cronjob_spec(spec: dict[str, Any], expected: list[str]) -> None:
    assert rendered(bv.validate_cronjob(cronjob(**spec))) == expected


def test_a_cronjob_job_template_has_its_selector_generated() -> None:
    obj = cronjob()
    obj["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    assert rendered(bv.validate_cronjob(obj)) == [
        "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
        'map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
        "`selector` will be auto-generated"
    ]


def test_a_cronjob_name_leaves_room_for_the_jobs_suffix() -> None:
    obj = {**cronjob(), "metadata": {"name": "n" * 53}}
    assert rendered(bv.validate_cronjob(obj)) == [
        f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters'
    ]
