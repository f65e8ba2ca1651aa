"""The CronJob controller over a fake cluster: Jobs on schedule, concurrency, history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from podwall.controllers import Action, Create, Obj, UpdateStatus
from podwall.controllers import cronjobs as cc
from podwall.controllers.jobs import new_condition
from podwall.controllers.jobspec import default_cronjob
from podwall.controllers.meta import meta, rfc3339

from .cluster import T0, FakeCluster

CRONJOBS, JOBS = "cronjobs.batch", "jobs.batch"


def cronjob(**spec: Any) -> Obj:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "b"}]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}},
                "spec": {"template": template},
            },
            **spec,
        },
    }


class CronJobs:
    """A FakeCluster holding one CronJob (created at T0, 10:00) and its controller."""

    def __init__(self, **spec: Any) -> None:
        self.cluster = FakeCluster()
        self.cluster.add(default_cronjob(cronjob(**spec)))
        self.requeue: float | None = None

    @property
    def cronjob(self) -> Obj:
        return self.cluster.get(CRONJOBS, "tick")

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.cronjob.get("status") or {})

    def jobs(self) -> list[str]:
        return [meta(j)["name"] for j in self.cluster.items(JOBS)]

    def at(self, minutes: int) -> None:
        self.cluster.now = T0 + timedelta(minutes=minutes)

    def sync(self) -> list[Action]:
        result = cc.reconcile_cronjob(self.cronjob, self.cluster.items(JOBS), self.cluster.now)
        for action in result.actions:
            self.cluster.apply(action)
        self.requeue = result.requeue_after
        return result.actions

    def settle(self) -> None:
        """Sync until only Events are left to write (a Forbid skip is told at every sync)."""
        for _ in range(10):
            if all(_is_event(a) for a in self.sync()):
                return
        raise AssertionError("the CronJob controller did not settle")

    def finish(self, name: str, kind: str = "Complete") -> None:
        job = self.cluster.get(JOBS, name)
        job["status"] = {"conditions": [new_condition(kind, "r", "m", self.cluster.now)]}
        if kind == "Complete":
            job["status"]["completionTime"] = rfc3339(self.cluster.now)
        self.cluster.apply(UpdateStatus(job))


def _is_event(action: Action) -> bool:
    return isinstance(action, Create) and action.obj.get("kind") == "Event"


def minutes(at: datetime) -> int:
    return int(at.timestamp()) // 60


def test_nothing_before_the_first_time_then_a_job_named_for_it() -> None:
    c = CronJobs()
    c.at(4)
    c.settle()
    assert c.jobs() == []
    assert c.requeue == pytest.approx(60.1)
    c.at(6)
    c.settle()
    name = f"tick-{minutes(T0 + timedelta(minutes=5))}"
    assert c.jobs() == [name]
    job = c.cluster.get(JOBS, name)
    assert meta(job)["labels"] == {"app": "tick"}
    assert meta(job)["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-11-26T10:05:00Z"
    }
    assert meta(job)["ownerReferences"][0]["kind"] == "CronJob"
    assert c.status["lastScheduleTime"] == "2026-11-26T10:05:00Z"
    assert [ref["name"] for ref in c.status["active"]] == [name]
    assert c.cluster.events() == [f"SuccessfulCreate: Created job {name}"]


def test_a_finished_job_leaves_the_active_list() -> None:
    c = CronJobs()
    c.at(5)
    c.settle()
    (name,) = c.jobs()
    c.finish(name)
    c.settle()
    assert "active" not in c.status
    assert c.status["lastSuccessfulTime"] == rfc3339(c.cluster.now)
    assert (
        c.cluster.events()[-1] == f"SawCompletedJob: Saw completed job: {name}, condition: Complete"
    )


@pytest.mark.parametrize(
    ("policy", "jobs_after", "event"),
    [
        pytest.param("Allow", 2, "SuccessfulCreate", id="Allow: both run"),
        pytest.param("Forbid", 1, "JobAlreadyActive", id="Forbid: the second waits"),
        pytest.param("Replace", 1, "SuccessfulCreate", id="Replace: the first goes"),
    ],
)
def test_concurrency_policy(policy: str, jobs_after: int, event: str) -> None:
    c = CronJobs(concurrencyPolicy=policy)
    c.at(5)
    c.settle()
    c.at(10)
    c.settle()
    assert len(c.jobs()) == jobs_after
    assert c.cluster.events()[-1].startswith(event)


def test_only_the_latest_missed_time_is_run() -> None:
    c = CronJobs()
    c.at(32)
    c.settle()
    assert c.jobs() == [f"tick-{minutes(T0 + timedelta(minutes=30))}"]


def test_a_time_past_the_starting_deadline_is_missed() -> None:
    c = CronJobs(startingDeadlineSeconds=30)
    c.at(6)
    c.settle()
    assert c.jobs() == []


def test_a_suspended_cronjob_starts_nothing() -> None:
    c = CronJobs(suspend=True)
    c.at(6)
    c.settle()
    assert c.jobs() == []
    assert c.requeue is None


def test_history_keeps_the_newest_finished_jobs() -> None:
    c = CronJobs(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=0)
    for step, kind in ((5, "Complete"), (10, "Complete"), (15, "Failed")):
        c.at(step)
        c.settle()
        c.finish(c.jobs()[-1], kind)
    c.settle()
    assert c.jobs() == [f"tick-{minutes(T0 + timedelta(minutes=10))}"]


def test_a_job_made_by_hand_is_unexpected_and_not_active() -> None:
    c = CronJobs()
    c.at(1)
    by_hand = cc.new_job(c.cronjob, T0, T0)
    meta(by_hand)["name"] = "manual"
    meta(by_hand)["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
    c.cluster.add(by_hand)
    c.sync()
    assert "active" not in c.status
    assert c.cluster.events() == [
        "UnexpectedJob: Saw a job that the controller did not create or forgot: manual"
    ]


def test_an_unparseable_schedule_is_a_warning() -> None:
    c = CronJobs(schedule="@every 1m")
    c.at(1)
    c.sync()
    assert c.cluster.events() == [
        "UnparseableSchedule: unparseable schedule: '@every 1m' : @every schedules are not run "
        "by podwall"
    ]
