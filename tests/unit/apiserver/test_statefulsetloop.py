"""The StatefulSet controller wired into a Store: what a change queues, and what a sync writes.

A Store with `mutating.Admission` and a `Reconciler` running the StatefulSet controller and the
garbage collector, as `podwall up` runs them; the kubelet's part is played by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.errors import ApiError
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store
from podwall.clock import utc_now
from podwall.controllers import pod_running
from tests.unit.apiserver.controllerloops import admitted_store, queued_by, running_loop, settle
from tests.unit.apiserver.test_daemonsetloop import change, put

STS = "statefulsets.apps"
REVISIONS = "controllerrevisions.apps"


def statefulset(replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {
            "serviceName": "db",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "db:1"}]},
            },
        },
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with admitted_store(tmp_path / "state.db") as s:
        yield s


@pytest.fixture
def queued(store: Store) -> Iterator[Callable[[], list[Any]]]:
    """The informers run, the worker does not: what the controller queued (emptied)."""
    put(store, statefulset())
    with queued_by(store, "statefulset") as drain:
        drain()
        yield drain


def owned_pod(store: Store, name: str, kind: str) -> dict[str, Any]:
    uid = store.get(STS, "default", "db")["metadata"]["uid"]
    ref = {"apiVersion": "apps/v1", "kind": kind, "name": "db", "uid": uid, "controller": True}
    return put(
        store,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "ownerReferences": [ref]},
            "spec": {"containers": [{"name": "c", "image": "db:1"}]},
        },
    )


CASES: list[tuple[str, Callable[[Store], object], list[Any]]] = [
    ("the set changed: it",
     lambda s: change(s, STS, "db", lambda d: d["spec"].update(replicas=3)), [("default", "db")]),
    ("a pod it controls: the set", lambda s: owned_pod(s, "db-7", "StatefulSet"),
     [("default", "db")]),
    ("a pod another kind controls: nothing", lambda s: owned_pod(s, "db-8", "ReplicaSet"), []),
]  # fmt: skip


@pytest.mark.parametrize(("step", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_change_queues_the_set_it_concerns(
    store: Store,
    queued: Callable[[], list[Any]],
    step: Callable[[Store], object],
    expected: list[Any],
) -> None:
    step(store)
    assert queued() == expected


@pytest.fixture
def loop(store: Store) -> Iterator[Reconciler]:
    with running_loop(store, ["statefulset", "garbagecollector"]) as reconciler:
        yield reconciler


def pods(store: Store) -> list[str]:
    return sorted(p["metadata"]["name"] for p in store.list("pods", "default")[0])


def start(store: Store) -> None:
    for pod in store.list("pods", "default")[0]:
        if pod["status"].get("phase") == "Pending":
            change(store, "pods", pod["metadata"]["name"],
                   lambda p: p.update(pod_running(p, "198.18.0.7", utc_now())))  # fmt: skip


def test_a_set_makes_its_pods_in_order_and_goes_with_them_and_its_history(
    store: Store, loop: Reconciler
) -> None:
    put(store, statefulset())
    settle(loop)
    assert pods(store) == ["db-0"]  # db-1 waits for db-0 to be Running and Ready
    start(store)
    settle(loop)
    assert pods(store) == ["db-0", "db-1"]
    start(store)
    settle(loop)
    status = store.get(STS, "default", "db")["status"]
    assert (status["replicas"], status["readyReplicas"], status["observedGeneration"]) == (2, 2, 1)
    (revision,) = store.list(REVISIONS, "default")[0]
    assert revision["metadata"]["name"] == status["currentRevision"] == status["updateRevision"]

    store.delete(STS, "default", "db")
    settle(loop)
    assert pods(store) == []
    assert store.list(REVISIONS, "default")[0] == []


def test_only_the_mutable_fields_of_a_set_may_change(store: Store) -> None:
    put(store, statefulset())
    change(store, STS, "db", lambda d: d["spec"].update(replicas=5, minReadySeconds=2))
    with pytest.raises(ApiError) as caught:
        change(store, STS, "db", lambda d: d["spec"].update(revisionHistoryLimit=3))
    assert caught.value.code == 422
    assert caught.value.message == (
        'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for '
        "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    )


def test_a_revisions_data_cannot_change(store: Store, loop: Reconciler) -> None:
    put(store, statefulset())
    settle(loop)
    (revision,) = store.list(REVISIONS, "default")[0]
    name = revision["metadata"]["name"]
    change(store, REVISIONS, name, lambda r: r.update(revision=7))
    with pytest.raises(ApiError) as caught:
        change(store, REVISIONS, name, lambda r: r.update(data={"spec": {}}))
    assert caught.value.message == (
        f'ControllerRevision.apps "{name}" is invalid: data: Invalid value: '
        '{"spec": {}}: field is immutable'
    )
