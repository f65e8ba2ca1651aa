"""The Job controller wired into a Store: the selector the store generates, what a change
queues, what a sync writes, and the pods leaving with their Job.

A Store with `mutating.Admission` and a `Reconciler` running the Job controller and the
garbage collector, as `podwall up` runs them; the kubelet's part is played by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.errors import ApiError
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_kind
from podwall.apiserver.store import Store
from podwall.clock import utc_now
from podwall.controllers import pod_running, pod_terminated
from tests.unit.apiserver.controllerloops import admitted_store, queued_by, running_loop, settle

JOBS = "jobs.batch"


def job(name: str = "probe", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "probe", "image": "busybox"}],
                }
            },
            **spec,
        },
    }


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    """Create `obj` as the API's POST does: PrepareForCreate, defaults and validation."""
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    admission.validate(resource, obj)
    return store.create(resource.key, obj)


def change(store: Store, resource: str, name: str, edit: Callable[[dict[str, Any]], Any]) -> None:
    def changed(current: dict[str, Any]) -> dict[str, Any]:
        edit(current)
        return current

    store.mutate(resource, "default", name, changed)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with admitted_store(tmp_path / "state.db") as s:
        yield s


def test_the_store_generates_the_selector_from_the_uid(store: Store) -> None:
    stored = put(store, job())
    uid = stored["metadata"]["uid"]
    assert stored["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    assert stored["spec"]["template"]["metadata"]["labels"]["controller-uid"] == uid
    assert stored["status"] == {}


def test_a_template_label_that_contradicts_the_generated_one_is_refused(store: Store) -> None:
    bad = job()
    bad["spec"]["template"]["metadata"] = {"labels": {"batch.kubernetes.io/job-name": "x"}}
    with pytest.raises(ApiError) as caught:
        put(store, bad)
    assert caught.value.code == 422
    assert caught.value.message.startswith(
        'Job.batch "probe" is invalid: spec.template.metadata.labels[batch.kubernetes.io/job-name]'
        ": Invalid value: map[string]string{"
    )
    assert caught.value.message.endswith(": must be 'probe'")


def test_the_template_of_a_job_cannot_change_but_its_labels_can(store: Store) -> None:
    put(store, job())

    def new_image(j: dict[str, Any]) -> None:
        j["spec"]["template"]["spec"]["containers"][0]["image"] = "other"

    with pytest.raises(ApiError) as caught:
        change(store, JOBS, "probe", new_image)
    assert caught.value.message.startswith('Job.batch "probe" is invalid: spec.template: ')
    assert caught.value.message.endswith(": field is immutable")
    change(store, JOBS, "probe", lambda j: j["metadata"].update(labels={"lab": "1"}))


@pytest.fixture
def queued(store: Store) -> Iterator[Callable[[], list[Any]]]:
    """The informers run, the worker does not: what the Job controller queued (emptied)."""
    with queued_by(store, "job") as drain:
        yield drain


def owned_pod(store: Store, owner: dict[str, Any] | None) -> dict[str, Any]:
    refs = []
    if owner is not None:
        meta = owner["metadata"]
        refs = [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                 "uid": meta["uid"], "controller": True}]  # fmt: skip
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "namespace": "default", "ownerReferences": refs},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}  # fmt: skip
    return put(store, pod)


@pytest.mark.parametrize(
    ("owned", "expected"),
    [
        pytest.param(True, [("default", "probe")], id="a pod of a Job: the Job"),
        pytest.param(False, [], id="a pod of nobody: nothing"),
    ],
)
def test_a_change_queues_the_job_it_concerns(
    store: Store, queued: Callable[[], list[Any]], owned: bool, expected: list[Any]
) -> None:
    stored = put(store, job())
    assert queued() == [("default", "probe")]
    owned_pod(store, stored if owned else None)
    assert queued() == expected


@pytest.fixture
def loop(store: Store) -> Iterator[Reconciler]:
    with running_loop(store, ["job", "garbagecollector"]) as reconciler:
        yield reconciler


def pods(store: Store) -> list[dict[str, Any]]:
    return store.list("pods", "default")[0]


def kubelet(store: Store, step: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    for pod in pods(store):
        change(store, "pods", pod["metadata"]["name"], lambda p: p.update(step(p)))


def test_a_job_runs_its_pod_to_completion_and_its_pods_go_with_it(
    store: Store, loop: Reconciler
) -> None:
    put(store, job())
    settle(loop)
    (pod,) = pods(store)
    assert pod["metadata"]["name"].startswith("probe-")
    assert store.get(JOBS, "default", "probe")["status"]["active"] == 1
    kubelet(store, lambda p: pod_running(p, "198.18.0.7", utc_now()))
    kubelet(store, lambda p: pod_terminated(p, 0, "Completed", utc_now()))
    settle(loop)
    status = store.get(JOBS, "default", "probe")["status"]
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert status["succeeded"] == 1
    store.delete(JOBS, "default", "probe")
    settle(loop)
    assert pods(store) == []


def test_a_finished_job_with_ttl_zero_is_deleted(store: Store, loop: Reconciler) -> None:
    put(store, job(ttlSecondsAfterFinished=0))
    settle(loop)
    kubelet(store, lambda p: pod_terminated(p, 0, "Completed", utc_now()))
    settle(loop)
    assert store.list(JOBS, "default")[0] == []
