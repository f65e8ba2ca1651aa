"""Garbage collection: deleting an owner deletes its dependents, one level at a time."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.apiserver.controllers import Delete, Update, collect, orphan, resource_of

from .cluster import FakeCluster
from .manifests import simple_app


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
