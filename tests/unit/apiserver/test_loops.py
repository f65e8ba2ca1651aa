"""Which keys a change queues, per controller: only what the change concerns.

The informers run, the workers do not: each test makes one change and reads the queues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store

Queued = dict[str, list[Any]]


def owner_ref(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": kind,
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def service(name: str, selector: dict[str, str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


class World:
    """A Deployment `web`, its ReplicaSet `web-1`, a ReplicationController `web-rc`, Services
    `web`, `db`, `any` and `manual`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        meta = {"namespace": "default"}
        self.deploy = store.create(
            "deployments.apps",
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**meta, "name": "web"}},
        )
        self.rs = store.create(
            "replicasets.apps",
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    **meta,
                    "name": "web-1",
                    "ownerReferences": [owner_ref("Deployment", self.deploy)],
                },
            },
        )
        self.rc = store.create(
            "replicationcontrollers",
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "metadata": {**meta, "name": "web-rc"},
            },
        )
        for name, selector in [("web", {"app": "web"}), ("db", {"app": "db"}), ("any", {})]:
            store.create("services", service(name, selector))
        store.create("services", service("manual", None))

    def pod(
        self, name: str, app: str, ip: str | None = "198.18.0.5", owner: Any = None
    ) -> dict[str, Any]:
        owner = owner or self.rs
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "labels": {"app": app},
                "ownerReferences": [owner_ref(owner["kind"], owner)],
            },
            "spec": {"containers": []},
            "status": {"phase": "Running"},
        }
        if ip:
            pod["status"]["podIP"] = ip
        return pod


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, Reconciler]]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    loop = Reconciler(s)
    world = World(s)
    loop.informers.start()  # the informers only: nothing takes keys from the queues
    drain(loop)
    yield world, loop
    loop.informers.stop()
    s.close()


def drain(loop: Reconciler) -> Queued:
    """What each controller has queued (emptied)."""
    out: Queued = {}
    for controller in loop.controllers:
        keys = []
        while (key := controller.queue.get(timeout=0)) is not None:
            keys.append(key)
            controller.queue.done(key)
        out[controller.name] = sorted(keys)
    return out


def relabel(store: Store, name: str, app: str) -> None:
    def change(current: dict[str, Any]) -> dict[str, Any]:
        current["metadata"]["labels"] = {"app": app}
        return current

    store.mutate("pods", "default", name, change)


Step = Callable[[World], object]

CASES: list[tuple[str, Step, Queued]] = [
    (
        "a new pod: its ReplicaSet, the Services it matches",
        lambda w: w.store.create("pods", w.pod("p", "web")),
        {
            "deployment": [],
            "replicaset": [("default", "web-1")],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [("default", "any"), ("default", "web")],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a new pod without an address yet: no Service, endpoints cannot hold it",
        lambda w: w.store.create("pods", w.pod("p", "web", ip=None)),
        {
            "deployment": [],
            "replicaset": [("default", "web-1")],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a new pod of a ReplicationController: its RC, not a ReplicaSet",
        lambda w: w.store.create("pods", w.pod("p", "web", ip=None, owner=w.rc)),
        {
            "deployment": [],
            "replicaset": [],
            "replicationcontroller": [("default", "web-rc")],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a ReplicationController's change: it",
        lambda w: w.store.update("replicationcontrollers", {**w.rc, "spec": {"replicas": 2}}),
        {
            "deployment": [],
            "replicaset": [],
            "replicationcontroller": [("default", "web-rc")],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a ReplicaSet's change: it and its Deployment",
        lambda w: w.store.update("replicasets.apps", {**w.rs, "spec": {"replicas": 2}}),
        {
            "deployment": [("default", "web")],
            "replicaset": [("default", "web-1")],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a Deployment's change: it",
        lambda w: w.store.update("deployments.apps", {**w.deploy, "spec": {"replicas": 2}}),
        {
            "deployment": [("default", "web")],
            "replicaset": [],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a Service's change: it",
        lambda w: w.store.delete("services", "default", "db"),
        {
            "deployment": [],
            "replicaset": [],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [("default", "db")],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": [],
        },
    ),
    (
        "a ClusterRole's change: every aggregated ClusterRole",
        lambda w: w.store.create(
            "clusterroles.rbac.authorization.k8s.io",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "mine"},
                "rules": [],
            },
        ),
        {
            "deployment": [],
            "replicaset": [],
            "replicationcontroller": [],
            "daemonset": [],
            "statefulset": [],
            "job": [],
            "cronjob": [],
            "endpoints": [],
            "garbagecollector": [],
            "serviceaccount": [],
            "clusterrole-aggregation": ["admin", "edit", "view"],
        },
    ),
]


@pytest.mark.parametrize(("change", "queued"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_change_queues_what_it_concerns(
    world: tuple[World, Reconciler], change: Step, queued: Queued
) -> None:
    w, loop = world
    change(w)
    assert drain(loop) == queued


def test_a_pod_relabelled_queues_the_services_of_its_old_and_new_labels(
    world: tuple[World, Reconciler],
) -> None:
    w, loop = world
    w.store.create("pods", w.pod("p", "web"))
    drain(loop)
    relabel(w.store, "p", "db")
    assert drain(loop)["endpoints"] == [("default", "any"), ("default", "db"), ("default", "web")]


def test_a_deleted_pod_queues_its_replicaset_and_its_deployment(
    world: tuple[World, Reconciler],
) -> None:
    w, loop = world
    w.store.create("pods", w.pod("p", "web"))
    drain(loop)
    w.store.delete("pods", "default", "p")
    queued = drain(loop)
    assert queued["replicaset"] == [("default", "web-1")]
    assert queued["deployment"] == [("default", "web")]


def test_a_deleted_owner_queues_its_dependents_for_the_collector(
    world: tuple[World, Reconciler],
) -> None:
    w, loop = world
    w.store.delete("deployments.apps", "default", "web")
    (item,) = drain(loop)["garbagecollector"]
    assert (item[0], item[1].name) == ("attempt", "web-1")


def test_a_dependent_of_an_owner_nobody_has_seen_is_queued_for_the_collector(
    world: tuple[World, Reconciler],
) -> None:
    w, loop = world
    orphan = w.pod("p", "web")
    orphan["metadata"]["ownerReferences"][0]["uid"] = "never-seen"
    w.store.create("pods", orphan)
    (item,) = drain(loop)["garbagecollector"]
    assert (item[0], item[1].name) == ("attempt", "p")


def test_a_pod_change_endpoints_do_not_hold_queues_no_service(
    world: tuple[World, Reconciler],
) -> None:
    w, loop = world
    w.store.create("pods", w.pod("p", "web"))
    drain(loop)

    def restarted(current: dict[str, Any]) -> dict[str, Any]:
        current["status"]["containerStatuses"] = [{"name": "c", "restartCount": 1}]
        return current

    w.store.mutate("pods", "default", "p", restarted)
    assert drain(loop)["endpoints"] == []
