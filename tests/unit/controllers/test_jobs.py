"""The Job controller over a fake cluster: pods run to completion, failures, deadlines, TTL."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from podwall.controllers import Action, Delete, Obj, UpdateStatus
from podwall.controllers import jobs as jc
from podwall.controllers.jobspec import default_job, generate_selector
from podwall.controllers.meta import meta, rfc3339
from podwall.controllers.podstatus import pod_restarted, pod_running, pod_terminated

from .cluster import T0, FakeCluster

JOBS = "jobs.batch"


def job(restart: str = "Never", **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "probe", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": restart,
                    "containers": [{"name": "probe", "image": "busybox"}],
                }
            },
            **spec,
        },
    }


class Jobs:
    """A FakeCluster holding one Job (defaulted, its selector generated) and its controller."""

    def __init__(self, restart: str = "Never", **spec: Any) -> None:
        self.cluster = FakeCluster()
        self.rng = random.Random(3)
        created = self.cluster.add(default_job(job(restart, **spec)))
        self.cluster.objects[(JOBS, "default", "probe")] = generate_selector(created)
        self.requeue: float | None = None

    @property
    def job(self) -> Obj:
        return self.cluster.get(JOBS, "probe")

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.job.get("status") or {})

    def conditions(self) -> list[tuple[str, str]]:
        return [(c["type"], c["reason"]) for c in self.status.get("conditions") or ()]

    def pods(self) -> list[Obj]:
        return self.cluster.items("pods")

    def sync(self) -> list[Action]:
        result = jc.reconcile_job(self.job, self.pods(), self.cluster.now, self.rng)
        for action in result.actions:
            self.cluster.apply(action)
        self.requeue = result.requeue_after
        return result.actions

    def settle(self) -> None:
        for _ in range(10):
            if not self.sync():
                return
        raise AssertionError("the Job controller did not settle")

    def each_pod(self, change: Callable[[Obj], Obj]) -> None:
        """The kubelet's part: `change` every pod that has not finished."""
        for pod in self.pods():
            if pod["status"].get("phase") not in ("Succeeded", "Failed"):
                self.cluster.apply(UpdateStatus(change(pod)))

    def run_pods(self) -> None:
        self.each_pod(lambda p: pod_running(p, "198.18.0.9", self.cluster.now))

    def exit_pods(self, code: int) -> None:
        reason = "Completed" if code == 0 else "Error"
        self.each_pod(lambda p: pod_terminated(p, code, reason, self.cluster.now))


def test_a_job_runs_one_pod_labelled_and_owned_then_completes() -> None:
    j = Jobs()
    j.settle()
    (pod,) = j.pods()
    assert pod["metadata"]["generateName"] == "probe-"
    labels = pod["metadata"]["labels"]
    uid = meta(j.job)["uid"]
    assert labels == {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "probe",
        "controller-uid": uid,
        "job-name": "probe",
    }
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert j.status == {
        "active": 1,
        "ready": 0,
        "terminating": 0,
        "startTime": rfc3339(T0),
        "uncountedTerminatedPods": {},
    }
    j.run_pods()
    j.settle()
    assert j.status["ready"] == 1
    j.cluster.tick(5)
    j.exit_pods(0)
    j.settle()
    assert j.conditions() == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    assert j.status["succeeded"] == 1
    assert "active" not in j.status
    assert j.status["completionTime"] == rfc3339(T0.replace(second=5))
    assert j.cluster.events()[-1] == "Completed: Job completed"
    assert len(j.pods()) == 1  # a finished Job keeps its pods


def test_a_failed_pod_fails_a_job_with_backoff_limit_zero_and_no_retry() -> None:
    j = Jobs(backoffLimit=0)
    j.settle()
    j.run_pods()
    j.exit_pods(1)
    j.settle()
    assert j.conditions() == [
        ("FailureTarget", "BackoffLimitExceeded"),
        ("Failed", "BackoffLimitExceeded"),
    ]
    assert j.status["failed"] == 1
    assert "completionTime" not in j.status
    assert len(j.pods()) == 1
    assert j.cluster.events()[-1] == (
        "BackoffLimitExceeded: Job has reached the specified backoff limit"
    )


def test_a_failure_under_the_limit_is_retried_after_a_back_off() -> None:
    j = Jobs(backoffLimit=2)
    j.settle()
    j.exit_pods(1)
    j.settle()
    assert len(j.pods()) == 1
    assert j.status["failed"] == 1
    assert j.requeue == 10.0  # 10 s after the first failure
    j.cluster.tick(10)
    j.settle()
    assert len(j.pods()) == 2
    assert j.status["active"] == 1
    j.exit_pods(1)
    j.settle()
    assert j.requeue == 20.0
    j.cluster.tick(20)
    j.settle()
    j.exit_pods(1)
    j.settle()
    assert j.conditions()[-1] == ("Failed", "BackoffLimitExceeded")
    assert j.status["failed"] == 3


def test_on_failure_restarts_count_against_the_backoff_limit() -> None:
    j = Jobs("OnFailure", backoffLimit=2)
    j.settle()
    j.run_pods()
    j.each_pod(lambda p: pod_restarted(p, j.cluster.now))
    j.settle()
    assert j.conditions() == []
    j.each_pod(lambda p: pod_restarted(p, j.cluster.now))
    j.settle()
    assert j.conditions()[0] == ("FailureTarget", "BackoffLimitExceeded")
    assert j.pods() == []  # the running pod is deleted
    assert j.conditions()[-1] == ("Failed", "BackoffLimitExceeded")


def test_a_job_past_its_deadline_deletes_its_pods_and_fails() -> None:
    j = Jobs(activeDeadlineSeconds=30)
    j.settle()
    j.run_pods()
    j.settle()
    assert j.requeue == 30.0
    j.cluster.tick(30)
    j.settle()
    assert j.pods() == []
    assert j.conditions() == [
        ("FailureTarget", "DeadlineExceeded"),
        ("Failed", "DeadlineExceeded"),
    ]


@pytest.mark.parametrize(
    ("spec", "first", "total"),
    [
        pytest.param({"completions": 3, "parallelism": 2}, 2, 3, id="completions 3 by twos"),
        pytest.param({"parallelism": 2, "completions": None}, 2, 2, id="no completions: a pool"),
        pytest.param({"completions": 1, "parallelism": 5}, 1, 1, id="never more than remain"),
    ],
)
def test_parallelism_and_completions(spec: dict[str, Any], first: int, total: int) -> None:
    j = Jobs(**spec)
    j.settle()
    assert j.status["active"] == first
    created = first
    for _ in range(5):
        j.exit_pods(0)
        j.settle()
        created = len(j.pods())
        if j.conditions():
            break
    assert created == total
    assert j.conditions()[-1] == ("Complete", "CompletionsReached")


def test_an_indexed_job_gives_each_pod_its_index() -> None:
    j = Jobs(completionMode="Indexed", completions=3, parallelism=3)
    j.settle()
    pods = sorted(j.pods(), key=lambda p: p["metadata"]["generateName"])
    assert [p["metadata"]["generateName"] for p in pods] == ["probe-0-", "probe-1-", "probe-2-"]
    index = "batch.kubernetes.io/job-completion-index"
    assert [p["metadata"]["annotations"][index] for p in pods] == ["0", "1", "2"]
    assert pods[1]["metadata"]["labels"][index] == "1"
    (env,) = pods[1]["spec"]["containers"][0]["env"]
    assert env == {
        "name": "JOB_COMPLETION_INDEX",
        "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{index}']"}},
    }
    j.exit_pods(0)
    j.settle()
    assert j.status["completedIndexes"] == "0-2"
    assert j.conditions()[-1] == ("Complete", "CompletionsReached")


def test_a_suspended_job_deletes_its_pods_and_resumes_with_a_new_start_time() -> None:
    j = Jobs()
    j.settle()
    j.cluster.objects[(JOBS, "default", "probe")]["spec"]["suspend"] = True
    j.settle()
    assert j.pods() == []
    assert j.conditions() == [("Suspended", "JobSuspended")]
    j.cluster.tick(7)
    j.cluster.objects[(JOBS, "default", "probe")]["spec"]["suspend"] = False
    j.settle()
    assert j.conditions() == [("Suspended", "JobResumed")]
    assert j.status["startTime"] == rfc3339(T0.replace(second=7))
    assert len(j.pods()) == 1


def test_a_finished_job_with_a_ttl_is_deleted_once_it_ran_out() -> None:
    j = Jobs(ttlSecondsAfterFinished=60)
    j.settle()
    j.exit_pods(0)
    j.settle()
    assert j.requeue == 60.0
    j.cluster.tick(59)
    assert j.sync() == []
    j.cluster.tick(1)
    assert j.sync() == [Delete(JOBS, "default", "probe")]


def test_a_counted_pod_that_is_deleted_stays_counted() -> None:
    j = Jobs(completions=2, parallelism=1)
    j.settle()
    j.exit_pods(0)
    j.settle()
    assert j.status["succeeded"] == 1
    (done, _) = sorted(j.pods(), key=lambda p: p["status"]["phase"] != "Succeeded")
    j.cluster.apply(Delete("pods", "default", done["metadata"]["name"]))
    j.settle()
    assert j.status["succeeded"] == 1
