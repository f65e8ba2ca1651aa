"""The ReplicaSet controller: pods from the template, scale down order, status; the same
controller over ReplicationControllers, and their defaults."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from podwall.controllers import (
    Create,
    Delete,
    Update,
    UpdateStatus,
    reconcile_replicaset,
    resource_of,
)
from podwall.controllers.podstatus import pod_running
from podwall.controllers.replicasets import default_replication_controller, pods_to_delete

from .cluster import FakeCluster

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web", "pod-template-hash": "5d4f8b9c7"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
}


def replicaset(replicas: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-5d4f8b9c7", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": TEMPLATE["metadata"]["labels"]},
            "template": TEMPLATE,
            **spec,
        },
    }


def test_missing_pods_are_created_from_the_template_with_an_owner_and_an_event() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(2))
    actions = reconcile_replicaset(rs, [], cluster.now, random.Random(3))
    pods = [a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "Pod"]
    events = [a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "Event"]
    assert len(pods) == 2
    assert len({p["metadata"]["name"] for p in pods}) == 2
    for pod in pods:
        assert pod["metadata"]["name"].startswith("web-5d4f8b9c7-")
        assert len(pod["metadata"]["name"]) == len("web-5d4f8b9c7-") + 5
        assert pod["metadata"]["generateName"] == "web-5d4f8b9c7-"
        assert pod["metadata"]["labels"] == TEMPLATE["metadata"]["labels"]
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
        assert pod["spec"] == rs["spec"]["template"]["spec"]
    assert [e["message"] for e in events] == [f"Created pod: {p['metadata']['name']}" for p in pods]
    assert {e["reason"] for e in events} == {"SuccessfulCreate"}
    assert {e["source"]["component"] for e in events} == {"replicaset-controller"}


def test_the_same_seed_gives_the_same_pod_names() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(3))

    def names(seed: int) -> list[str]:
        actions = reconcile_replicaset(rs, [], cluster.now, random.Random(seed))
        return [a.obj["metadata"]["name"] for a in actions if isinstance(a, Create)]

    assert names(5) == names(5)


def test_a_generated_name_never_repeats_an_existing_pod() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(1))
    first = reconcile_replicaset(rs, [], cluster.now, random.Random(9))[0]
    assert isinstance(first, Create)
    again = reconcile_replicaset(rs, [first.obj], cluster.now, random.Random(9))
    created = [a.obj["metadata"]["name"] for a in again if isinstance(a, Create)]
    assert first.obj["metadata"]["name"] not in created


def test_status_counts_the_pods_the_sync_started_from() -> None:
    cluster = FakeCluster()
    cluster.add(replicaset(2))
    cluster.settle()
    status = cluster.get("replicasets.apps", "web-5d4f8b9c7")["status"]
    assert status == {"replicas": 2, "fullyLabeledReplicas": 2, "observedGeneration": 1}
    cluster.kubelet()
    cluster.settle()
    status = cluster.get("replicasets.apps", "web-5d4f8b9c7")["status"]
    assert status["readyReplicas"] == status["availableReplicas"] == 2


def test_min_ready_seconds_delays_availability_but_not_readiness() -> None:
    cluster = FakeCluster()
    cluster.add(replicaset(1, minReadySeconds=30))
    cluster.settle()
    cluster.kubelet()
    cluster.settle()
    status = cluster.get("replicasets.apps", "web-5d4f8b9c7")["status"]
    assert (status.get("readyReplicas"), status.get("availableReplicas")) == (1, None)
    cluster.tick(31)
    cluster.settle()
    assert cluster.get("replicasets.apps", "web-5d4f8b9c7")["status"]["availableReplicas"] == 1


def test_a_settled_replicaset_needs_nothing() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(2))
    cluster.run()
    rs = cluster.get("replicasets.apps", "web-5d4f8b9c7")
    assert reconcile_replicaset(rs, cluster.items("pods"), cluster.now, random.Random(1)) == []


def test_scaling_down_deletes_pods_and_says_so() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(3))
    cluster.run()
    rs = cluster.get("replicasets.apps", "web-5d4f8b9c7")
    rs["spec"]["replicas"] = 1
    actions = reconcile_replicaset(rs, cluster.items("pods"), cluster.now, random.Random(1))
    deleted = [a.name for a in actions if isinstance(a, Delete)]
    assert len(deleted) == 2
    messages = [a.obj["message"] for a in actions if isinstance(a, Create)]
    assert messages == [f"Deleted pod: {name}" for name in deleted]


def _pod(name: str, created: int, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": f"2026-11-26T10:00:{created:02d}Z"},
        "spec": {"nodeName": "podwall", "containers": [{"name": "web", "image": "nginx:1.27"}]},
        "status": {"phase": "Running", **status},
    }


@pytest.mark.parametrize(
    ("pods", "first"),
    [
        pytest.param(
            [_pod("ready", 1), {**_pod("unscheduled", 0), "spec": {}}],
            "unscheduled",
            id="an unscheduled pod goes before a scheduled one",
        ),
        pytest.param(
            [_pod("running", 1), _pod("pending", 0, phase="Pending")],
            "pending",
            id="a pending pod goes before a running one",
        ),
        pytest.param(
            [_pod("old", 1), _pod("new", 5)],
            "new",
            id="the newer of two equal pods goes first",
        ),
    ],
)
def test_scale_down_order(pods: list[dict[str, Any]], first: str) -> None:
    assert pods_to_delete(pods, 1)[0]["metadata"]["name"] == first


def test_a_ready_pod_outlives_an_unready_one() -> None:
    start = FakeCluster().now
    ready = pod_running(_pod("ready", 5), "198.18.0.9", start)
    unready = _pod("unready", 1)
    assert pods_to_delete([ready, unready], 1)[0]["metadata"]["name"] == "unready"
    newer_ready = pod_running(_pod("later", 1), "198.18.0.8", start + timedelta(seconds=9))
    assert pods_to_delete([ready, newer_ready], 1)[0]["metadata"]["name"] == "later"


def test_terminating_pods_are_replaced_and_not_counted() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(1))
    cluster.run()
    (pod,) = cluster.items("pods")
    pod["metadata"]["deletionTimestamp"] = "2026-11-26T10:01:00Z"
    rs = cluster.get("replicasets.apps", "web-5d4f8b9c7")
    actions = reconcile_replicaset(rs, [pod], cluster.now, random.Random(1))
    assert sum(isinstance(a, Create) and a.obj["kind"] == "Pod" for a in actions) == 1
    status = next(a.obj["status"] for a in actions if isinstance(a, UpdateStatus))
    assert status["replicas"] == 0


def test_a_replicaset_being_deleted_creates_nothing() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(2))
    rs["metadata"]["deletionTimestamp"] = "2026-11-26T10:01:00Z"
    actions = reconcile_replicaset(rs, [], cluster.now, random.Random(1))
    assert all(isinstance(a, UpdateStatus) for a in actions)


def test_pods_of_another_owner_are_not_counted() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replicaset(1))
    stranger = {
        "metadata": {
            "name": "web-5d4f8b9c7-zzzzz",
            "labels": TEMPLATE["metadata"]["labels"],
            "ownerReferences": [{"uid": "someone-else", "controller": True}],
        },
        "status": {"phase": "Running"},
    }
    actions = reconcile_replicaset(rs, [stranger], cluster.now, random.Random(1))
    assert sum(isinstance(a, Create) and a.obj["kind"] == "Pod" for a in actions) == 1


# ReplicationControllers: the same controller, over core/v1's kind.


def replication_controller(replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "frontend", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"app": "web"}, "template": TEMPLATE},
    }


def test_an_rc_s_pods_are_owned_by_it_and_its_events_come_from_its_own_controller() -> None:
    cluster = FakeCluster()
    rc = cluster.add(replication_controller(2))
    actions = reconcile_replicaset(rc, [], cluster.now, random.Random(3))
    pods = [a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "Pod"]
    events = [a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "Event"]
    assert [p["metadata"]["ownerReferences"] for p in pods] == [
        [
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "name": "frontend",
                "uid": rc["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    ] * 2
    assert all(p["metadata"]["generateName"] == "frontend-" for p in pods)
    assert {e["source"]["component"] for e in events} == {"replication-controller"}
    assert {e["involvedObject"]["kind"] for e in events} == {"ReplicationController"}


def test_an_rc_s_status_has_a_replicaset_s_fields() -> None:
    cluster = FakeCluster()
    rc = cluster.add(replication_controller(2))
    for action in reconcile_replicaset(rc, [], cluster.now, random.Random(3)):
        cluster.apply(action)
    rc = cluster.get("replicationcontrollers", "frontend")
    for action in reconcile_replicaset(rc, cluster.items("pods"), cluster.now, random.Random(3)):
        cluster.apply(action)
    status = cluster.get("replicationcontrollers", "frontend")["status"]
    assert status == {"replicas": 2, "fullyLabeledReplicas": 2, "observedGeneration": 1}


@pytest.mark.parametrize(
    ("given", "spec", "labels"),
    [
        pytest.param(
            {"template": TEMPLATE},
            {"selector": TEMPLATE["metadata"]["labels"], "replicas": 1},
            TEMPLATE["metadata"]["labels"],
            id="no selector, no labels, no replicas: the template's labels, one replica",
        ),
        pytest.param(
            {"selector": {"app": "web"}, "template": TEMPLATE, "replicas": 0},
            {"selector": {"app": "web"}, "replicas": 0},
            TEMPLATE["metadata"]["labels"],
            id="a given selector and replicas stay",
        ),
        pytest.param(
            {"template": {"spec": TEMPLATE["spec"]}},
            {"replicas": 1},
            None,
            id="a template without labels gives nothing",
        ),
        pytest.param(
            {"template": {"metadata": {"labels": {}}, "spec": TEMPLATE["spec"]}},
            {"selector": {}, "replicas": 1},
            {},
            id="empty template labels are labels (Go's non-nil map): an empty selector stays",
        ),
        pytest.param({}, {"replicas": 1}, None, id="no template: nothing but the replicas"),
    ],
)  # fmt: skip
def test_default_replication_controller(
    given: dict[str, Any], spec: dict[str, Any], labels: dict[str, str] | None
) -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "x"}}
    out = default_replication_controller({**rc, "spec": given})
    assert {k: v for k, v in out["spec"].items() if k != "template"} == spec
    assert out["metadata"].get("labels") == labels
    assert out["spec"].get("template") == given.get("template")  # the API server's to default


def test_an_rc_s_own_labels_are_kept() -> None:
    rc = {"metadata": {"name": "x", "labels": {"mine": "yes"}}, "spec": {"template": TEMPLATE}}
    assert default_replication_controller(rc)["metadata"]["labels"] == {"mine": "yes"}


# Release: a pod relabelled out of its set's selector is no longer the set's.


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(replicaset, id="a ReplicaSet's LabelSelector"),
        pytest.param(replication_controller, id="a ReplicationController's plain map"),
    ],
)
def test_a_pod_the_selector_no_longer_picks_is_released_and_replaced(make: Any) -> None:
    cluster = FakeCluster()
    rs = cluster.add(make(1))
    cluster.run()
    (pod,) = cluster.items("pods")
    pod["metadata"]["labels"] = {"app": "debug"}
    rs = cluster.get(resource_of(rs), rs["metadata"]["name"])
    actions = reconcile_replicaset(rs, [pod], cluster.now, random.Random(1))
    (released,) = [a.obj for a in actions if isinstance(a, Update)]
    assert released["metadata"]["name"] == pod["metadata"]["name"]
    assert "ownerReferences" not in released["metadata"]
    assert sum(isinstance(a, Create) and a.obj["kind"] == "Pod" for a in actions) == 1
    status = next(a.obj["status"] for a in actions if isinstance(a, UpdateStatus))
    assert status["replicas"] == 0  # the released pod is not counted


def test_a_pod_the_selector_still_picks_stays() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replication_controller(1))
    cluster.run()
    (pod,) = cluster.items("pods")
    pod["metadata"]["labels"]["extra"] = "label"
    rs = cluster.get("replicationcontrollers", "frontend")
    assert reconcile_replicaset(rs, [pod], cluster.now, random.Random(1)) == []


def test_a_set_being_deleted_releases_nothing_and_counts_only_what_it_picks() -> None:
    cluster = FakeCluster()
    rs = cluster.add(replication_controller(1))
    cluster.run()
    (pod,) = cluster.items("pods")
    pod["metadata"]["labels"] = {"app": "debug"}
    rs = cluster.get("replicationcontrollers", "frontend")
    rs["metadata"]["deletionTimestamp"] = "2026-11-26T10:01:00Z"
    actions = reconcile_replicaset(rs, [pod], cluster.now, random.Random(1))
    assert [type(a) for a in actions] == [UpdateStatus]
    assert actions[0].obj["status"]["replicas"] == 0
