"""The CronJob controller wired into a Store: a Job when a time is due, owned and tracked.

A Store with `mutating.Admission` and a `Reconciler` running the CronJob and Job controllers
and the garbage collector, on a clock six minutes ahead, so that a `*/5` time is due at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store
from podwall.clock import utc_now
from tests.unit.apiserver.test_jobloop import put

CRONJOBS, JOBS = "cronjobs.batch", "jobs.batch"


def cronjob() -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "b"}]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}},
    }


def ahead() -> datetime:
    return utc_now() + timedelta(minutes=6)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    allow = Admission(s)
    allow.install()
    yield s
    allow.remove()
    s.close()


@pytest.fixture
def loop(store: Store) -> Iterator[Reconciler]:
    reconciler = Reconciler(store, clock=ahead, controllers=["cronjob", "job", "garbagecollector"])
    reconciler.install()
    yield reconciler
    reconciler.remove()


def test_a_due_time_starts_a_job_the_cronjob_tracks_and_its_jobs_go_with_it(
    store: Store, loop: Reconciler
) -> None:
    put(store, cronjob())
    assert loop.wait_idle()
    (job,) = store.list(JOBS, "default")[0]
    assert job["metadata"]["ownerReferences"][0]["name"] == "tick"
    assert job["spec"]["selector"]["matchLabels"] == {
        "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]
    }
    assert store.list("pods", "default")[0]  # the Job controller runs it
    status = store.get(CRONJOBS, "default", "tick")["status"]
    assert [ref["name"] for ref in status["active"]] == [job["metadata"]["name"]]
    store.delete(CRONJOBS, "default", "tick")
    assert loop.wait_idle()
    assert store.list(JOBS, "default")[0] == []
