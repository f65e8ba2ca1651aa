"""The garbage collector on a Store: what goes, what stays, and in which order.

The Deployment, ReplicaSet and pods come from the controllers, as on a cluster (their
ownerReferences say `controller` and `blockOwnerDeletion`); deletions go through
`deletion.delete`, the path DELETE takes. The controllers run in their own threads, so each
step waits for them to settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import admission, deletion
from podwall.apiserver.errors import NotFoundError
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_kind
from podwall.apiserver.store import DELETED, Store
from tests.unit.apiserver.controllerloops import admitted_store, running_loop, settle
from tests.unit.controllers.manifests import client_deployment

RS = "replicasets.apps"
DEPLOY = "deployments.apps"


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Reconciler]:
    with admitted_store(tmp_path / "state.db") as s, running_loop(s) as reconciler:
        yield reconciler


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    return store.create(resource.key, obj)


def names(store: Store, resource: str) -> list[str]:
    return [o["metadata"]["name"] for o in store.list(resource, "default")[0]]


def configmap(name: str, *owners: dict[str, Any], block: bool = False) -> dict[str, Any]:
    refs = [
        {
            "apiVersion": o["apiVersion"],
            "kind": o["kind"],
            "name": o["metadata"]["name"],
            "uid": o["metadata"]["uid"],
            **({"blockOwnerDeletion": True} if block else {}),
        }
        for o in owners
    ]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "ownerReferences": refs},
    }


def app(loop: Reconciler, replicas: int = 2) -> dict[str, Any]:
    """A Deployment with its ReplicaSet and `replicas` pods, settled."""
    deploy = client_deployment("web")
    deploy["spec"]["replicas"] = replicas
    created = put(loop.store, deploy)
    settle(loop)
    assert len(names(loop.store, "pods")) == replicas
    return created


def test_background_deletes_the_deployment_now_then_its_replicaset_then_its_pods(
    loop: Reconciler,
) -> None:
    store = loop.store
    app(loop)
    deletion.delete(store, DEPLOY, "default", "web")
    assert "web" not in names(store, DEPLOY)
    settle(loop)
    assert names(store, RS) == []
    assert names(store, "pods") == []


def test_foreground_keeps_the_owner_marked_until_its_dependents_are_gone(
    loop: Reconciler,
) -> None:
    store = loop.store
    app(loop)
    watches = {r: store.watch(r, "default", store.resource_version) for r in (DEPLOY, RS, "pods")}
    marked = deletion.delete(store, DEPLOY, "default", "web", policy="Foreground")
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    settle(loop)
    assert (names(store, DEPLOY), names(store, RS), names(store, "pods")) == ([], [], [])
    gone: dict[str, list[int]] = {}
    for resource, watch in watches.items():
        while (event := watch.get(timeout=0)) is not None:
            if event.type == DELETED:
                gone.setdefault(resource, []).append(event.resource_version)
        watch.close()
    assert len(gone["pods"]) == 2
    assert max(gone["pods"]) < min(gone[RS]), "the pods go before their ReplicaSet"
    assert max(gone[RS]) < min(gone[DEPLOY]), "the ReplicaSet goes before the Deployment"


def test_orphan_keeps_the_replicaset_and_its_pods_without_the_reference(
    loop: Reconciler,
) -> None:
    store = loop.store
    app(loop)
    (rs,) = names(store, RS)
    pods = names(store, "pods")
    marked = deletion.delete(store, DEPLOY, "default", "web", policy="Orphan")
    assert marked["metadata"]["finalizers"] == ["orphan"]
    settle(loop)
    assert names(store, DEPLOY) == []
    assert names(store, RS) == [rs]
    assert "ownerReferences" not in store.get(RS, "default", rs)["metadata"]
    assert names(store, "pods") == pods, "the ReplicaSet still runs its pods"
    for pod in store.list("pods", "default")[0]:
        assert [r["name"] for r in pod["metadata"]["ownerReferences"]] == [rs]


def test_a_dependent_with_another_live_owner_only_loses_the_dead_ones_reference(
    loop: Reconciler,
) -> None:
    store = loop.store
    keeper = put(store, configmap("keeper"))
    leaver = put(store, configmap("leaver"))
    put(store, configmap("shared", keeper, leaver))
    settle(loop)
    deletion.delete(store, "configmaps", "default", "leaver")
    settle(loop)
    shared = store.get("configmaps", "default", "shared")
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["keeper"]


def test_dependents_go_recursively_and_owners_of_other_kinds_count(loop: Reconciler) -> None:
    store = loop.store
    root = put(store, configmap("root"))
    middle = put(store, configmap("middle", root))
    put(store, configmap("leaf", middle))
    settle(loop)
    deletion.delete(store, "configmaps", "default", "root")
    settle(loop)
    assert not {"root", "middle", "leaf"} & set(names(store, "configmaps"))


def test_a_dependent_whose_owner_never_existed_is_collected(loop: Reconciler) -> None:
    store = loop.store
    ghost = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ghost", "namespace": "default", "uid": "not-a-live-uid"},
    }
    put(store, configmap("haunted", ghost))
    settle(loop)
    with pytest.raises(NotFoundError):
        store.get("configmaps", "default", "haunted")


def test_an_owner_of_a_kind_not_served_is_never_taken_for_gone(loop: Reconciler) -> None:
    store = loop.store
    alien = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default", "uid": "widget-uid"},
    }
    put(store, configmap("kept", alien))
    settle(loop)
    assert store.get("configmaps", "default", "kept")


def test_an_object_with_a_finalizer_stays_until_it_is_removed(loop: Reconciler) -> None:
    store = loop.store
    put(store, held(configmap("held")))
    marked = deletion.delete(store, "configmaps", "default", "held")
    assert marked["metadata"]["deletionTimestamp"]
    settle(loop)
    kept = store.get("configmaps", "default", "held")
    assert kept["metadata"]["finalizers"] == ["example.com/hold"]
    release(store, "held")
    settle(loop)
    with pytest.raises(NotFoundError):
        store.get("configmaps", "default", "held")


def held(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with a finalizer nobody removes but the test."""
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    return obj


def release(store: Store, name: str) -> None:
    def change(current: dict[str, Any]) -> dict[str, Any]:
        current["metadata"].pop("finalizers")
        return current

    store.mutate("configmaps", "default", name, change)


@pytest.mark.parametrize(
    ("block", "owner_waits"),
    [(True, True), (False, False)],
    ids=["a dependent that blocks holds the owner", "one that does not block does not"],
)
def test_foreground_waits_for_the_dependents_that_block_its_deletion(
    loop: Reconciler, block: bool, owner_waits: bool
) -> None:
    store = loop.store
    owner = put(store, configmap("owner"))
    put(store, held(configmap("dependent", owner, block=block)))
    put(store, configmap("bystander", owner))
    settle(loop)
    deletion.delete(store, "configmaps", "default", "owner", policy="Foreground")
    settle(loop)
    left = set(names(store, "configmaps"))
    assert "bystander" not in left
    assert ("owner" in left) is owner_waits
    assert store.get("configmaps", "default", "dependent")["metadata"]["deletionTimestamp"]
    release(store, "dependent")
    settle(loop)
    assert not {"owner", "dependent", "bystander"} & set(names(store, "configmaps"))
