"""The DaemonSet controller wired into a Store: what a change queues, and what a sync writes.

A Store with `mutating.Admission` and a `Reconciler` running the DaemonSet controller and the
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
from podwall.controllers import pod_running
from tests.unit.apiserver.controllerloops import admitted_store, queued_by, running_loop, settle

DS = "daemonsets.apps"


def node(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
        "spec": {},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-12-07T03:00:00Z"}
            ]
        },
    }


def daemonset(**pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}], **pod_spec},
            },
        },
    }


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    """Create `obj` as the API's POST does: PrepareForCreate and defaults, then the Store."""
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    return store.create(resource.key, obj)


def change(store: Store, resource: str, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    namespace = "" if resource == "nodes" else "default"

    def changed(current: dict[str, Any]) -> dict[str, Any]:
        edit(current)
        return current

    store.mutate(resource, namespace, name, changed)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with admitted_store(tmp_path / "state.db") as s:
        yield s


@pytest.fixture
def queued(store: Store) -> Iterator[Callable[[], list[Any]]]:
    """The informers run, the worker does not: what the DaemonSet controller queued (emptied)."""
    put(store, node("n1"))
    put(store, daemonset(nodeSelector={"role": "infra"}))
    with queued_by(store, "daemonset") as drain:
        drain()
        yield drain


def heartbeat(node: dict[str, Any]) -> None:
    node["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-12-07T03:00:10Z"


def not_ready(node: dict[str, Any]) -> None:
    node["status"]["conditions"][0]["status"] = "False"


CASES: list[tuple[str, Callable[[Store], object], list[Any]]] = [
    ("a node added: every DaemonSet", lambda s: put(s, node("n2")), [("default", "agent")]),
    ("a node's heartbeat: nothing", lambda s: change(s, "nodes", "n1", heartbeat), []),
    ("a node's condition turns: the DaemonSets whose verdict changed (none here)",
     lambda s: change(s, "nodes", "n1", not_ready), []),
    ("a label that makes the node fit: the DaemonSet",
     lambda s: change(s, "nodes", "n1", lambda n: n["metadata"]["labels"].update(role="infra")),
     [("default", "agent")]),
    ("a label nobody selects: nothing",
     lambda s: change(s, "nodes", "n1", lambda n: n["metadata"]["labels"].update(zone="a")), []),
    ("a node deleted: every DaemonSet", lambda s: s.delete("nodes", "", "n1"),
     [("default", "agent")]),
    ("the DaemonSet changed: it",
     lambda s: change(s, DS, "agent", lambda d: d["spec"].update(minReadySeconds=3)),
     [("default", "agent")]),
]  # fmt: skip


@pytest.mark.parametrize(("step", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_change_queues_the_daemonsets_it_concerns(
    store: Store,
    queued: Callable[[], list[Any]],
    step: Callable[[Store], object],
    expected: list[Any],
) -> None:
    step(store)
    assert queued() == expected


@pytest.fixture
def loop(store: Store) -> Iterator[Reconciler]:
    with running_loop(store, ["daemonset", "garbagecollector"]) as reconciler:
        yield reconciler


def pods(store: Store) -> dict[str, dict[str, Any]]:
    """node -> its daemon pod."""
    return {p["spec"]["nodeName"]: p for p in store.list("pods", "default")[0]}


def start(store: Store) -> None:
    for pod in store.list("pods", "default")[0]:
        if pod["status"].get("phase") == "Pending":
            change(store, "pods", pod["metadata"]["name"],
                   lambda p: p.update(pod_running(p, "198.18.0.7", utc_now())))  # fmt: skip


def test_a_daemonset_runs_a_pod_per_node_follows_nodes_and_goes_with_its_pods(
    store: Store, loop: Reconciler
) -> None:
    put(store, node("n1"))
    put(store, node("n2"))
    put(store, daemonset())
    settle(loop)
    assert sorted(pods(store)) == ["n1", "n2"]
    ds = store.get(DS, "default", "agent")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"
    labels = pods(store)["n1"]["metadata"]["labels"]
    assert labels["pod-template-generation"] == "1"
    assert set(labels) == {"app", "pod-template-generation", "controller-revision-hash"}
    start(store)
    settle(loop)
    status = store.get(DS, "default", "agent")["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"], status["numberAvailable"]) == (
        2,
        2,
        2,
    )

    put(store, node("n3"))
    settle(loop)
    assert sorted(pods(store)) == ["n1", "n2", "n3"]
    store.delete("nodes", "", "n1")
    settle(loop)
    assert sorted(pods(store)) == ["n2", "n3"]

    store.delete(DS, "default", "agent")
    settle(loop)
    assert pods(store) == {}


def test_a_template_change_moves_the_template_generation_and_rolls_the_pods(
    store: Store, loop: Reconciler
) -> None:
    put(store, node("n1"))
    put(store, daemonset())
    settle(loop)
    start(store)
    settle(loop)
    change(store, DS, "agent", lambda d: d["spec"].update(minReadySeconds=0))
    ds = store.get(DS, "default", "agent")
    assert ds["metadata"]["generation"] == 2  # the spec changed, the template did not
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"

    def new_image(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = "agent:2"

    change(store, DS, "agent", new_image)
    ds = store.get(DS, "default", "agent")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    settle(loop)
    (pod,) = pods(store).values()
    assert pod["spec"]["containers"][0]["image"] == "agent:2"
    assert pod["metadata"]["labels"]["pod-template-generation"] == "2"


def test_the_selector_of_a_daemonset_cannot_change(store: Store) -> None:
    put(store, daemonset())

    def relabel(d: dict[str, Any]) -> None:
        d["spec"]["selector"] = {
            "matchLabels": {"app": "agent", "tier": "x"},
            "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}],
        }
        d["spec"]["template"]["metadata"]["labels"]["tier"] = "x"

    with pytest.raises(ApiError) as caught:
        change(store, DS, "agent", relabel)
    assert caught.value.code == 422
    assert caught.value.message == (
        'DaemonSet.apps "agent" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"agent", "tier":"x"}, '
        'MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"zone", '
        'Operator:"In", Values:[]string{"a"}}}}: field is immutable'
    )
    change(store, DS, "agent", lambda d: d["spec"].update(minReadySeconds=1))  # the rest may
