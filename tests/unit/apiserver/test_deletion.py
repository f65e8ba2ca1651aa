"""DELETE's half of deletion, on a Store with no controllers: removed now, or marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import deletion
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.errors import ApiError, ConflictError, NotFoundError
from podwall.apiserver.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


def configmap(name: str, *finalizers: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


@pytest.mark.parametrize(
    ("options", "query", "policy"),
    [
        ({}, None, None),
        ({"propagationPolicy": "Foreground"}, None, "Foreground"),
        ({}, "Orphan", "Orphan"),
        ({"propagationPolicy": "Background"}, "Orphan", "Background"),
        ({"orphanDependents": True}, None, "Orphan"),
        ({"orphanDependents": False}, None, "Background"),
    ],
    ids=[
        "nothing asked: the kind's default",
        "the body's policy",
        "the query's policy",
        "the body wins over the query",
        "orphanDependents true is Orphan",
        "orphanDependents false is Background",
    ],
)
def test_the_propagation_policy_asked_for(
    options: dict[str, Any], query: str | None, policy: str | None
) -> None:
    assert deletion.propagation_policy(options, query) == policy


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"propagationPolicy": "Sideways"},
            'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
            '"Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
        ),
        (
            {"propagationPolicy": "Orphan", "orphanDependents": True},
            'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: '
            '"Orphan": orphanDependents and deletionPropagation cannot be both set',
        ),
    ],
    ids=["an unknown policy", "both spellings at once"],
)
def test_bad_delete_options_are_invalid(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as caught:
        deletion.propagation_policy(options)
    assert caught.value.code == 422
    assert caught.value.message == message


def test_background_removes_the_object_at_once(store: Store) -> None:
    store.create("configmaps", configmap("a"))
    gone = deletion.delete(store, "configmaps", "default", "a")
    assert "deletionTimestamp" not in gone["metadata"]
    with pytest.raises(NotFoundError):
        store.get("configmaps", "default", "a")


@pytest.mark.parametrize(
    ("policy", "before", "after"),
    [
        ("Foreground", [], ["foregroundDeletion"]),
        ("Orphan", [], ["orphan"]),
        (None, ["example.com/hold"], ["example.com/hold"]),
        ("Orphan", ["example.com/hold"], ["example.com/hold", "orphan"]),
        ("Foreground", ["orphan"], ["foregroundDeletion"]),
    ],
    ids=[
        "Foreground adds foregroundDeletion",
        "Orphan adds orphan",
        "a finalizer of someone else's keeps the object",
        "the collector's finalizer goes after the others",
        "Foreground replaces orphan",
    ],
)
def test_an_object_left_with_finalizers_is_marked_not_removed(
    store: Store, policy: str | None, before: list[str], after: list[str]
) -> None:
    created = store.create("configmaps", configmap("a", *before))
    marked = deletion.delete(store, "configmaps", "default", "a", policy=policy)
    stored = store.get("configmaps", "default", "a")
    assert stored == marked
    assert stored["metadata"]["finalizers"] == after
    assert stored["metadata"]["deletionTimestamp"]
    assert stored["metadata"]["deletionGracePeriodSeconds"] == 0
    assert stored["metadata"]["uid"] == created["metadata"]["uid"]


def test_a_background_delete_of_a_marked_object_drops_the_collectors_finalizer(
    store: Store,
) -> None:
    store.create("configmaps", configmap("a"))
    deletion.delete(store, "configmaps", "default", "a", policy="Foreground")
    deletion.delete(store, "configmaps", "default", "a", policy="Background")
    with pytest.raises(NotFoundError):
        store.get("configmaps", "default", "a")


def test_a_second_delete_without_a_policy_leaves_a_marked_object_as_it_is(store: Store) -> None:
    store.create("configmaps", configmap("a"))
    first = deletion.delete(store, "configmaps", "default", "a", policy="Orphan")
    again = deletion.delete(store, "configmaps", "default", "a")
    assert again == first


def replication_controller(*finalizers: str) -> dict[str, Any]:
    return {**configmap("rc", *finalizers), "kind": "ReplicationController"}


@pytest.mark.parametrize(
    ("policy", "before", "after"),
    [
        (None, [], ["orphan"]),
        (None, ["foregroundDeletion"], ["foregroundDeletion"]),
        ("Foreground", [], ["foregroundDeletion"]),
        ("Background", [], None),
    ],
    ids=[
        "no policy: v1's default orphans the pods",
        "no policy: a collector's finalizer there overrides the default",
        "a policy asked for is the policy",
        "kubectl delete asks for Background: removed at once",
    ],
)
def test_a_replication_controller_orphans_by_default(
    store: Store, policy: str | None, before: list[str], after: list[str] | None
) -> None:
    store.create("replicationcontrollers", replication_controller(*before))
    deletion.delete(store, "replicationcontrollers", "default", "rc", policy=policy)
    if after is None:
        with pytest.raises(NotFoundError):
            store.get("replicationcontrollers", "default", "rc")
    else:
        stored = store.get("replicationcontrollers", "default", "rc")
        assert stored["metadata"]["finalizers"] == after


def test_a_deletion_timestamp_is_kept_by_later_writes(store: Store) -> None:
    store.create("configmaps", configmap("a", "example.com/hold"))
    marked = deletion.delete(store, "configmaps", "default", "a")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        current["data"] = {"k": "v"}
        return current

    changed = store.mutate("configmaps", "default", "a", change)
    assert changed["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]


@pytest.mark.parametrize("policy", [None, "Foreground"], ids=["removed now", "marked"])
def test_preconditions_hold_on_both_paths(store: Store, policy: str | None) -> None:
    store.create("configmaps", configmap("a"))
    with pytest.raises(ConflictError) as caught:
        deletion.delete(store, "configmaps", "default", "a", policy=policy, uid="other")
    assert "Precondition failed: UID in precondition: other" in caught.value.message
    assert "deletionTimestamp" not in store.get("configmaps", "default", "a")["metadata"]


@pytest.mark.parametrize("policy", [None, "Orphan"], ids=["removed now", "marked"])
def test_a_dry_run_changes_nothing(store: Store, policy: str | None) -> None:
    created = store.create("configmaps", configmap("a"))
    answer = deletion.delete(store, "configmaps", "default", "a", policy=policy, dry_run=True)
    assert answer["metadata"]["name"] == "a"
    assert store.get("configmaps", "default", "a") == created


def test_finish_removes_a_marked_object_once_its_finalizers_are_gone(store: Store) -> None:
    store.create("configmaps", configmap("a", "example.com/hold"))
    marked = deletion.delete(store, "configmaps", "default", "a")
    assert deletion.finish(store, "configmaps", marked) is None  # still held

    def release(current: dict[str, Any]) -> dict[str, Any]:
        current["metadata"].pop("finalizers")
        return current

    released = store.mutate("configmaps", "default", "a", release)
    assert deletion.finish(store, "configmaps", released) is not None
    with pytest.raises(NotFoundError):
        store.get("configmaps", "default", "a")


def test_finish_leaves_an_object_that_is_not_being_deleted(store: Store) -> None:
    created = store.create("configmaps", configmap("a"))
    assert deletion.finish(store, "configmaps", created) is None
    assert store.get("configmaps", "default", "a") == created
