"""The scheduler: the choice as a table, the lab's placement in every order, waiting pods."""

from __future__ import annotations

import itertools
import weakref
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_kind
from podwall.apiserver.scheduler import Load, Scheduler, choose
from podwall.apiserver.store import Store
from podwall.cluster.local import ensure_cluster_dns
from tests.unit.controllers.manifests import (
    CURL,
    JSON_MOCK,
    backend_deployment,
    client_deployment,
)


def node(
    name: str, *, ready: bool = True, labels: dict[str, str] | None = None, cordoned: bool = False
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"unschedulable": True} if cordoned else {},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def pod(
    name: str,
    *,
    image: str = CURL,
    on: str = "",
    owner: str = "",
    selector: dict[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if owner:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "uid": owner, "controller": True}]
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    if on:
        spec["nodeName"] = on
    if selector:
        spec["nodeSelector"] = selector
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


TWO = [node("node-1"), node("node-2")]

CASES = [
    pytest.param(pod("p"), TWO, [], "node-1", id="empty-nodes-tie-on-name"),
    pytest.param(pod("p"), TWO, [pod("a", image="x", on="node-1")], "node-2", id="fewest-pods"),
    pytest.param(
        pod("p"),
        TWO,
        [pod("a", image=CURL, on="node-1"), pod("b", image="x", on="node-2")],
        "node-1",
        id="image-locality-before-fewest-pods",
    ),
    pytest.param(
        pod("p", owner="rs"),
        TWO,
        [
            pod("a", owner="rs", on="node-1"),
            pod("b", image="x", on="node-2"),
            pod("c", image="x", on="node-2"),
        ],
        "node-2",
        id="spread-replicas-before-image-locality",
    ),
    pytest.param(
        pod("p"),
        TWO,
        [pod("a", image="x", on="node-1", phase="Succeeded")],
        "node-1",
        id="finished-pods-do-not-count",
    ),
    pytest.param(
        pod("p"),
        [node("node-1", ready=False), node("node-2")],
        [],
        "node-2",
        id="not-ready-skipped",
    ),
    pytest.param(
        pod("p"),
        [node("node-1", cordoned=True), node("node-2")],
        [],
        "node-2",
        id="cordoned-skipped",
    ),
    pytest.param(
        pod("p", selector={"disk": "ssd"}),
        [node("node-1"), node("node-2", labels={"disk": "ssd"})],
        [pod("a", image="x", on="node-2")],
        "node-2",
        id="node-selector",
    ),
    pytest.param(
        pod("p", selector={"kubernetes.io/hostname": "node-2"}),
        TWO,
        [],
        "node-2",
        id="node-selector-by-hostname",
    ),
]


@pytest.mark.parametrize(("new", "nodes", "pods", "expected"), CASES)
def test_choose(
    new: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]], expected: str
) -> None:
    assert choose(new, nodes, pods).node == expected


@pytest.mark.parametrize(
    ("new", "nodes", "message"),
    [
        pytest.param(pod("p"), [], "no nodes available to schedule pods", id="no-nodes"),
        pytest.param(
            pod("p", selector={"disk": "ssd"}),
            [node("node-1"), node("node-2", ready=False)],
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.",
            id="selector-and-not-ready",
        ),
    ],
)
def test_no_fitting_node_says_why(
    new: dict[str, Any], nodes: list[dict[str, Any]], message: str
) -> None:
    verdict = choose(new, nodes, [])
    assert verdict.node is None
    assert verdict.message == message


CONTROLLERS: weakref.WeakKeyDictionary[Store, Reconciler] = weakref.WeakKeyDictionary()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    if s in CONTROLLERS:
        CONTROLLERS[s].remove()
    s.close()


def settle(store: Store) -> None:
    """Wait for the controllers to act on what was written (they run in their own threads)."""
    if store in CONTROLLERS:
        assert CONTROLLERS[store].wait_idle()


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    created = store.create(resource.key, obj)
    settle(store)
    return created


def running(store: Store, scheduler: Scheduler) -> None:
    Admission(store, scheduler=scheduler).install()
    controllers = CONTROLLERS[store] = Reconciler(store)
    controllers.install()
    scheduler.install()


def node_of(store: Store, app: str) -> str:
    (found,) = store.list("pods", "default", lambda p: p["metadata"]["labels"]["app"] == app)[0]
    return str(found["spec"]["nodeName"])


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(["frontend", "not-frontend", "backend"])),
    ids="-then-".join,
)
def test_the_lab_on_two_nodes_puts_the_clients_together_and_backend_apart(
    store: Store, order: tuple[str, ...]
) -> None:
    scheduler = Scheduler(store)
    running(store, scheduler)
    for n in TWO:
        put(store, dict(n))
    ensure_cluster_dns(store)
    settle(store)
    for app in order:
        put(store, backend_deployment() if app == "backend" else client_deployment(app))
    assert node_of(store, "frontend") == node_of(store, "not-frontend")
    assert node_of(store, "backend") != node_of(store, "frontend")
    backend = store.list("pods", "default", lambda p: p["metadata"]["labels"]["app"] == "backend")
    assert backend[0][0]["spec"]["containers"][0]["image"] == JSON_MOCK


def test_a_pod_waits_unschedulable_and_is_bound_when_a_node_is_ready(store: Store) -> None:
    scheduler = Scheduler(store)
    running(store, scheduler)
    put(store, client_deployment("frontend"))
    (waiting,) = store.list("pods", "default")[0]
    assert "nodeName" not in waiting["spec"]
    scheduled = {c["type"]: c for c in waiting["status"]["conditions"]}["PodScheduled"]
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    assert scheduled["message"] == "no nodes available to schedule pods"
    put(store, node("node-1", ready=False))
    assert "nodeName" not in store.list("pods", "default")[0][0]["spec"]
    store.mutate("nodes", "", "node-1", lambda n: {**n, **node("node-1")})
    settle(store)
    (bound,) = store.list("pods", "default")[0]
    assert bound["spec"]["nodeName"] == "node-1"
    scheduled = {c["type"]: c for c in bound["status"]["conditions"]}["PodScheduled"]
    assert scheduled["status"] == "True"
    assert "reason" not in scheduled


def test_a_pod_that_names_its_node_keeps_it(store: Store) -> None:
    running(store, Scheduler(store))
    put(store, node("node-1"))
    put(store, pod("p", on="node-9") | {"apiVersion": "v1", "kind": "Pod"})
    (stored,) = store.list("pods", "default")[0]
    assert stored["spec"]["nodeName"] == "node-9"
    conditions = {c["type"]: c["status"] for c in stored["status"]["conditions"]}
    assert conditions["PodScheduled"] == "True"


def test_replicas_spread_evenly_and_the_kept_load_follows_the_store(store: Store) -> None:
    scheduler = Scheduler(store)
    running(store, scheduler)
    for name in ("node-1", "node-2", "node-3"):
        put(store, node(name))
    deploy = client_deployment("web")
    deploy["spec"]["replicas"] = 9
    put(store, deploy)
    placed = Counter(p["spec"]["nodeName"] for p in store.list("pods", "default")[0])
    assert placed == {"node-1": 3, "node-2": 3, "node-3": 3}
    store.mutate(
        "deployments.apps", "default", "web", lambda d: d | {"spec": d["spec"] | {"replicas": 4}}
    )
    settle(store)
    kept = scheduler._current_load()
    assert kept == Load.of(store.list("pods")[0])
    assert sum(kept.pods.values()) == 4
