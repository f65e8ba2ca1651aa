"""Garbage collection's rules: which dependents go, which stay, and with which policy."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import Delete, Update, collect, orphan, resource_of
from podwall.controllers.garbage import (
    OwnerState,
    Verdict,
    attempt_to_delete,
    blocks,
    deletion_finalizers,
    owner_state,
    without_finalizer,
)

from .cluster import FakeCluster
from .manifests import simple_app

ABSENT, LIVE, WAITING = OwnerState.ABSENT, OwnerState.LIVE, OwnerState.WAITING


def owned(name: str, kind: str, *owners: str, api_version: str = "v1") -> dict[str, Any]:
    refs = [{"uid": uid, "kind": "X", "name": uid, "apiVersion": "v1"} for uid in owners]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "ownerReferences": refs,
        },
    }


def test_deleting_a_deployment_deletes_its_replicaset_then_its_pods() -> None:
    cluster = FakeCluster()
    for deploy in simple_app():
        cluster.add(deploy)
    cluster.run()
    cluster.apply(Delete("deployments.apps", "default", "backend"))
    assert not [
        rs
        for rs in cluster.items("replicasets.apps")
        if rs["metadata"]["name"].startswith("backend-")
    ]
    assert not [p for p in cluster.items("pods") if p["metadata"]["labels"]["app"] == "backend"]
    assert len(cluster.items("pods")) == 2, "the other deployments keep their pods"
    assert cluster.reconcile_once() == []


def test_collect_works_one_level_at_a_time() -> None:
    rs = owned("rs", "ReplicaSet", "deploy", api_version="apps/v1")
    pod = owned("pod", "Pod", "uid-rs")
    assert collect("deploy", [rs, pod]) == [Delete("replicasets.apps", "default", "rs")]
    assert collect("uid-rs", [pod]) == [Delete("pods", "default", "pod")]


def test_a_dependent_with_another_live_owner_only_loses_the_reference() -> None:
    alive = owned("alive", "ConfigMap")
    shared = owned("shared", "Pod", "gone", "uid-alive")
    (action,) = collect("gone", [alive, shared])
    assert isinstance(action, Update)
    assert [r["uid"] for r in action.obj["metadata"]["ownerReferences"]] == ["uid-alive"]


def test_a_dependent_whose_other_owner_is_gone_too_is_deleted() -> None:
    assert collect("gone", [owned("shared", "Pod", "gone", "also-gone")]) == [
        Delete("pods", "default", "shared")
    ]


def test_dependents_already_being_deleted_are_left_alone() -> None:
    pod = owned("pod", "Pod", "gone")
    pod["metadata"]["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    assert collect("gone", [pod]) == []


def test_orphan_propagation_removes_the_reference_and_keeps_the_object() -> None:
    (action,) = orphan("gone", [owned("pod", "Pod", "gone")])
    assert isinstance(action, Update)
    assert "ownerReferences" not in action.obj["metadata"]


@pytest.mark.parametrize(
    ("api_version", "kind", "resource"),
    [
        ("v1", "Pod", "pods"),
        ("apps/v1", "ReplicaSet", "replicasets.apps"),
        ("v1", "Endpoints", "endpoints"),
        ("discovery.k8s.io/v1", "EndpointSlice", "endpointslices.discovery.k8s.io"),
        ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies.networking.k8s.io"),
    ],
)
def test_store_keys(api_version: str, kind: str, resource: str) -> None:
    assert resource_of({"apiVersion": api_version, "kind": kind}) == resource


@pytest.mark.parametrize(
    ("owners", "states", "has_dependents", "finalizers", "verdict"),
    [
        (("a",), {"a": ABSENT}, False, (), Verdict(delete="Background")),
        (("a", "b"), {"a": ABSENT}, False, (), Verdict(delete="Background")),
        (("a",), {"a": LIVE}, False, (), None),
        (("a", "b"), {"a": ABSENT, "b": LIVE}, False, (), Verdict(drop=("a",))),
        (("a", "b"), {"a": WAITING, "b": LIVE}, True, (), Verdict(drop=("a",))),
        (("a",), {"a": WAITING}, True, (), Verdict(delete="Foreground")),
        (("a",), {"a": WAITING}, False, (), Verdict(delete="Background")),
        (("a",), {"a": ABSENT}, True, ("orphan",), Verdict(delete="Orphan")),
        (("a",), {"a": ABSENT}, True, ("foregroundDeletion",), Verdict(delete="Foreground")),
        ((), {}, False, (), None),
    ],
    ids=[
        "its only owner is gone: deleted in the background",
        "an owner nobody found counts as gone",
        "its owner lives: kept",
        "another owner lives: only the dead one's reference goes",
        "another owner lives: the reference to one waiting in the foreground goes",
        "its owner waits in the foreground and it has dependents: deleted in the foreground",
        "its owner waits in the foreground, no dependents of its own: in the background",
        "its own orphan finalizer: deleted orphaning its dependents",
        "its own foregroundDeletion finalizer: deleted in the foreground",
        "no ownerReferences: never collected",
    ],
)
def test_attempt_to_delete(
    owners: tuple[str, ...],
    states: dict[str, OwnerState],
    has_dependents: bool,
    finalizers: tuple[str, ...],
    verdict: Verdict | None,
) -> None:
    dependent = owned("dep", "Pod", *owners)
    if finalizers:
        dependent["metadata"]["finalizers"] = list(finalizers)
    assert attempt_to_delete(dependent, states, has_dependents) == verdict


def test_a_dependent_being_deleted_is_left_to_its_own_deletion() -> None:
    pod = owned("pod", "Pod", "gone")
    pod["metadata"]["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    assert attempt_to_delete(pod, {"gone": ABSENT}, False) is None


@pytest.mark.parametrize(
    ("policy", "before", "after"),
    [
        (None, [], []),
        ("Background", ["orphan", "foregroundDeletion", "x/y"], ["x/y"]),
        ("Orphan", ["x/y"], ["x/y", "orphan"]),
        ("Orphan", ["foregroundDeletion"], ["orphan"]),
        ("Foreground", ["orphan", "x/y"], ["x/y", "foregroundDeletion"]),
        ("Foreground", ["foregroundDeletion"], ["foregroundDeletion"]),
    ],
    ids=[
        "the default adds nothing",
        "Background removes the collector's finalizers, not others",
        "Orphan adds orphan after the others",
        "Orphan replaces foregroundDeletion",
        "Foreground replaces orphan",
        "Foreground twice adds it once",
    ],
)
def test_deletion_finalizers(policy: str | None, before: list[str], after: list[str]) -> None:
    assert deletion_finalizers(policy, before) == after


@pytest.mark.parametrize(
    ("found", "state"),
    [
        (None, ABSENT),
        ({"metadata": {"uid": "other"}}, ABSENT),
        ({"metadata": {"uid": "u"}}, LIVE),
        ({"metadata": {"uid": "u", "deletionTimestamp": "t", "finalizers": ["orphan"]}}, LIVE),
        (
            {
                "metadata": {
                    "uid": "u",
                    "deletionTimestamp": "t",
                    "finalizers": ["foregroundDeletion"],
                }
            },
            WAITING,
        ),
    ],
    ids=[
        "not found: absent",
        "another object under that name: absent",
        "found with its uid: live",
        "being deleted, orphaning: still live",
        "being deleted in the foreground: waiting for its dependents",
    ],
)
def test_owner_state(found: dict[str, Any] | None, state: OwnerState) -> None:
    assert owner_state(found, "u") is state


def test_only_a_reference_with_block_owner_deletion_blocks() -> None:
    pod = owned("pod", "Pod", "a", "b")
    pod["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = True
    assert (blocks(pod, "a"), blocks(pod, "b"), blocks(pod, "c")) == (True, False, False)


def test_without_finalizer_drops_the_field_with_the_last_one() -> None:
    obj = owned("o", "ConfigMap")
    obj["metadata"]["finalizers"] = ["orphan", "x/y"]
    once = without_finalizer(obj, "orphan")
    assert once["metadata"]["finalizers"] == ["x/y"]
    assert "finalizers" not in without_finalizer(once, "x/y")["metadata"]
    assert obj["metadata"]["finalizers"] == ["orphan", "x/y"], "the input is not changed"
