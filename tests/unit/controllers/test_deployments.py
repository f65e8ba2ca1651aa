"""The Deployment controller: ReplicaSets per template, scaling, rollouts, status, events."""

from __future__ import annotations

import re
from typing import Any

import pytest

from podwall.controllers import Create, Update, UpdateStatus, reconcile_deployment
from podwall.controllers.meta import meta
from podwall.controllers.naming import compute_hash

from .cluster import FakeCluster, by_name
from .manifests import JSON_MOCK, backend_deployment, client_deployment, simple_app

RS_NAME = re.compile(r"^(?P<deploy>[a-z-]+)-(?P<hash>[4-9bcdf]{1,10})$")


def tutorial_cluster() -> FakeCluster:
    cluster = FakeCluster()
    for deploy in simple_app():
        cluster.add(deploy)
    cluster.run()
    return cluster


def owned_replicasets(cluster: FakeCluster, name: str) -> list[dict[str, Any]]:
    uid = cluster.get("deployments.apps", name)["metadata"]["uid"]
    return [
        rs
        for rs in cluster.items("replicasets.apps")
        if rs["metadata"]["ownerReferences"][0]["uid"] == uid
    ]


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def set_replicas(cluster: FakeCluster, name: str, replicas: int) -> None:
    deploy = cluster.get("deployments.apps", name)
    deploy["spec"]["replicas"] = replicas
    cluster.apply(Update(deploy))


def set_image(cluster: FakeCluster, name: str, image: str) -> None:
    deploy = cluster.get("deployments.apps", name)
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = image
    cluster.apply(Update(deploy))


@pytest.mark.parametrize("name", ["frontend", "not-frontend", "backend"])
def test_each_tutorial_deployment_gets_one_replicaset_named_after_its_template_hash(
    name: str,
) -> None:
    cluster = tutorial_cluster()
    deploy = cluster.get("deployments.apps", name)
    (rs,) = owned_replicasets(cluster, name)
    match = RS_NAME.match(rs["metadata"]["name"])
    assert match is not None
    pod_hash = match["hash"]
    assert pod_hash == compute_hash(deploy["spec"]["template"]), "the hash of the stored template"
    assert rs["metadata"]["labels"] == {"app": name, "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": name, "pod-template-hash": pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"] == rs["metadata"]["labels"]
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
            "uid": deploy["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "1",
        "deployment.kubernetes.io/max-replicas": "2",
    }


@pytest.mark.parametrize("name", ["frontend", "not-frontend", "backend"])
def test_each_tutorial_deployment_runs_one_pod_named_after_its_replicaset(name: str) -> None:
    cluster = tutorial_cluster()
    (rs,) = owned_replicasets(cluster, name)
    rs_name = rs["metadata"]["name"]
    pods = [p for p in cluster.items("pods") if p["metadata"]["name"].startswith(f"{rs_name}-")]
    assert len(pods) == 1
    pod = pods[0]
    assert re.fullmatch(rf"{rs_name}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"])
    assert pod["metadata"]["generateName"] == f"{rs_name}-"
    assert pod["metadata"]["labels"] == rs["spec"]["template"]["metadata"]["labels"]
    assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert pod["spec"]["nodeName"] == "podwall"
    assert pod["status"]["phase"] == "Running"


def test_tutorial_deployments_end_ready_with_the_conditions_rollout_status_waits_for() -> None:
    cluster = tutorial_cluster()
    deploy = cluster.get("deployments.apps", "backend")
    rs_name = next(
        n for n in by_name(cluster.items("replicasets.apps")) if n.startswith("backend-")
    )
    status = deploy["status"]
    assert {k: status[k] for k in ("replicas", "updatedReplicas", "readyReplicas")} == {
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
    }
    assert status["availableReplicas"] == 1
    assert status["observedGeneration"] >= deploy["metadata"]["generation"]
    assert [c["type"] for c in status["conditions"]] == ["Available", "Progressing"]
    available, progressing = status["conditions"]
    assert (available["status"], available["reason"], available["message"]) == (
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs_name}" has successfully progressed.',
    )
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"


def test_the_first_reconcile_creates_the_replicaset_records_the_event_and_the_revision() -> None:
    cluster = FakeCluster()
    deploy = cluster.add(backend_deployment())
    actions = reconcile_deployment(deploy, [], [], cluster.now)
    assert all(isinstance(a, Create | Update | UpdateStatus) for a in actions)
    kinds = [(type(a).__name__, a.obj.get("kind")) for a in actions]  # type: ignore[union-attr]
    assert kinds == [
        ("Create", "ReplicaSet"),
        ("Create", "Event"),
        ("Update", "Deployment"),
        ("UpdateStatus", "Deployment"),
    ]
    rs, event, revision, status = (a.obj for a in actions)  # type: ignore[union-attr]
    assert rs["spec"]["replicas"] == 1
    assert event["reason"] == "ScalingReplicaSet"
    assert event["message"] == f"Scaled up replica set {rs['metadata']['name']} from 0 to 1"
    assert event["source"] == {"component": "deployment-controller"}
    assert revision["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    progressing = condition(status, "Progressing")
    assert progressing["reason"] == "NewReplicaSetCreated"
    assert progressing["message"] == f'Created new replica set "{rs["metadata"]["name"]}"'
    assert condition(status, "Available")["reason"] == "MinimumReplicasUnavailable"
    assert "resourceVersion" not in revision["metadata"]


def test_the_replicaset_template_is_the_stored_template_plus_the_hash_label() -> None:
    raw = backend_deployment()
    raw["metadata"]["uid"] = "d-1"
    (create, *_) = reconcile_deployment(raw, [], [], FakeCluster().now)
    assert isinstance(create, Create)
    template = create.obj["spec"]["template"]
    pod_hash = create.obj["metadata"]["labels"]["pod-template-hash"]
    expected = raw["spec"]["template"]
    assert template["spec"] == expected["spec"], "the controller adds no defaults of its own"
    assert template["metadata"]["labels"] == {"app": "backend", "pod-template-hash": pod_hash}


def test_a_second_reconcile_with_everything_in_place_does_nothing() -> None:
    cluster = tutorial_cluster()
    assert cluster.reconcile_once() == []
    for deploy in cluster.items("deployments.apps"):
        actions = reconcile_deployment(
            deploy, cluster.items("replicasets.apps"), cluster.items("pods"), cluster.now
        )
        assert actions == []


def test_replicasets_of_other_deployments_are_not_touched() -> None:
    cluster = tutorial_cluster()
    frontend = cluster.get("deployments.apps", "frontend")
    frontend["spec"]["replicas"] = 3
    actions = reconcile_deployment(
        frontend, cluster.items("replicasets.apps"), cluster.items("pods"), cluster.now
    )
    touched = {a.obj["metadata"]["name"] for a in actions if isinstance(a, Update)}
    assert all(name.startswith("frontend") for name in touched)


@pytest.mark.parametrize(
    ("replicas", "verb"),
    [
        pytest.param(3, "up", id="scaling up grows the replicaset and says so"),
        pytest.param(0, "down", id="scaling down to zero shrinks the replicaset and says so"),
    ],
)
def test_scaling(replicas: int, verb: str) -> None:
    cluster = tutorial_cluster()
    set_replicas(cluster, "backend", replicas)
    cluster.run()
    (rs,) = [
        r for r in cluster.items("replicasets.apps") if r["metadata"]["name"].startswith("backend-")
    ]
    assert rs["spec"]["replicas"] == replicas
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == str(
        replicas
    )
    pods = [p for p in cluster.items("pods") if p["metadata"]["labels"]["app"] == "backend"]
    assert len(pods) == replicas
    name = rs["metadata"]["name"]
    assert f"ScalingReplicaSet: Scaled {verb} replica set {name} from 1 to {replicas}" in (
        cluster.events()
    )
    deploy = cluster.get("deployments.apps", "backend")
    assert deploy["status"].get("readyReplicas", 0) == replicas


def test_a_template_change_rolls_out_a_new_replicaset_to_completion() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["replicas"] = 4
    cluster.add(deploy)
    cluster.run()
    (old_name,) = by_name(cluster.items("replicasets.apps"))
    set_image(cluster, "backend", JSON_MOCK.replace("1.2", "1.3"))
    cluster.run()
    rss = by_name(cluster.items("replicasets.apps"))
    (new_name,) = set(rss) - {old_name}
    assert rss[old_name]["spec"]["replicas"] == 0
    assert rss[new_name]["spec"]["replicas"] == 4
    assert rss[new_name]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = cluster.items("pods")
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods} == {new_name[8:]}
    deploy_now = cluster.get("deployments.apps", "backend")
    assert deploy_now["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deploy_now["status"]["updatedReplicas"] == 4
    assert condition(deploy_now, "Progressing")["message"] == (
        f'ReplicaSet "{new_name}" has successfully progressed.'
    )


def test_a_rolling_update_never_runs_more_than_max_surge_extra_pods() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["replicas"] = 4
    cluster.add(deploy)
    cluster.run()
    set_image(cluster, "backend", JSON_MOCK.replace("1.2", "1.3"))
    most = 0
    for _ in range(30):
        cluster.settle()
        active = [p for p in cluster.items("pods") if not p["metadata"].get("deletionTimestamp")]
        most = max(most, len(active))
        ready = sum(p["status"]["phase"] == "Running" for p in active)
        assert ready >= 3, "maxUnavailable 25% of 4 keeps three pods available"
        cluster.kubelet()
        cluster.tick()
    assert most == 5, "maxSurge 25% of 4 allows one extra pod"


def test_a_rollout_records_scale_up_create_scale_down_delete_in_that_order() -> None:
    cluster = tutorial_cluster()
    (old_name,) = [
        n for n in by_name(cluster.items("replicasets.apps")) if n.startswith("backend-")
    ]
    old_pod = next(p for p in by_name(cluster.items("pods")) if p.startswith(old_name))
    recorded = len(cluster.events())
    set_image(cluster, "backend", JSON_MOCK.replace("1.2", "1.3"))
    cluster.run()
    (new_name,) = {
        n for n in by_name(cluster.items("replicasets.apps")) if n.startswith("backend-")
    } - {old_name}
    (new_pod,) = [p for p in by_name(cluster.items("pods")) if p.startswith(new_name)]
    assert cluster.events()[recorded:] == [
        f"ScalingReplicaSet: Scaled up replica set {new_name} from 0 to 1",
        f"SuccessfulCreate: Created pod: {new_pod}",
        f"ScalingReplicaSet: Scaled down replica set {old_name} from 1 to 0",
        f"SuccessfulDelete: Deleted pod: {old_pod}",
    ]


def test_recreate_removes_every_old_pod_before_the_new_replicaset_is_made() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["replicas"] = 2
    deploy["spec"]["strategy"] = {"type": "Recreate"}
    cluster.add(deploy)
    cluster.run()
    (old_name,) = by_name(cluster.items("replicasets.apps"))
    set_image(cluster, "backend", JSON_MOCK.replace("1.2", "1.3"))
    first = cluster.reconcile_once()
    assert [type(a).__name__ for a in first][:1] == ["Update"]
    assert not any(isinstance(a, Create) and a.obj["kind"] == "ReplicaSet" for a in first)
    cluster.run()
    rss = by_name(cluster.items("replicasets.apps"))
    assert rss[old_name]["spec"]["replicas"] == 0
    assert sorted(r["spec"]["replicas"] for r in rss.values()) == [0, 2]


def test_a_name_taken_by_another_replicaset_bumps_the_collision_count() -> None:
    cluster = FakeCluster()
    deploy = cluster.add(backend_deployment())
    taken = cluster.add(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": f"backend-{compute_hash(deploy['spec']['template'])}"},
            "spec": {"replicas": 0, "selector": {}, "template": {"metadata": {}, "spec": {}}},
        }
    )
    actions = reconcile_deployment(deploy, [taken], [], cluster.now)
    assert len(actions) == 1
    assert isinstance(actions[0], UpdateStatus)
    assert actions[0].obj["status"]["collisionCount"] == 1
    cluster.apply(actions[0])
    cluster.run()
    names = set(by_name(cluster.items("replicasets.apps")))
    assert len(names) == 2
    new = next(n for n in names if n != taken["metadata"]["name"])
    template = cluster.get("deployments.apps", "backend")["spec"]["template"]
    assert new == f"backend-{compute_hash(template, 1)}"


def test_a_paused_deployment_does_not_roll_out_a_template_change() -> None:
    cluster = tutorial_cluster()
    deploy = cluster.get("deployments.apps", "backend")
    deploy["spec"]["paused"] = True
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "other:1"
    cluster.apply(Update(deploy))
    cluster.run()
    backend_rss = [
        n for n in by_name(cluster.items("replicasets.apps")) if n.startswith("backend-")
    ]
    assert len(backend_rss) == 1
    progressing = condition(cluster.get("deployments.apps", "backend"), "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")


def test_old_replicasets_beyond_the_revision_history_limit_are_deleted() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["revisionHistoryLimit"] = 1
    cluster.add(deploy)
    cluster.run()
    for version in ("1.3", "1.4", "1.5"):
        set_image(cluster, "backend", JSON_MOCK.replace("1.2", version))
        cluster.run()
    rss = cluster.items("replicasets.apps")
    revisions = sorted(
        r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for r in rss
    )
    assert revisions == ["3", "4"]


def test_an_undefaulted_deployment_gets_the_apps_v1_defaults_for_its_decisions() -> None:
    cluster = FakeCluster()
    deploy = client_deployment("frontend")
    del deploy["spec"]["replicas"]
    cluster.add(deploy)
    cluster.run()
    assert cluster.get("deployments.apps", "frontend")["status"]["readyReplicas"] == 1


def test_a_deployment_being_deleted_only_gets_its_status() -> None:
    cluster = tutorial_cluster()
    deploy = cluster.get("deployments.apps", "backend")
    deploy["metadata"]["deletionTimestamp"] = "2026-11-26T10:05:00Z"
    deploy["spec"]["replicas"] = 5
    actions = reconcile_deployment(
        deploy, cluster.items("replicasets.apps"), cluster.items("pods"), cluster.now
    )
    assert all(isinstance(a, UpdateStatus) for a in actions)
    assert meta(deploy)["name"] == "backend"


def test_scaling_in_the_middle_of_a_rollout_spreads_the_change_in_proportion() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["replicas"] = 10
    deploy["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2},
    }
    cluster.add(deploy)
    cluster.run()
    (old_name,) = by_name(cluster.items("replicasets.apps"))
    set_image(cluster, "backend", JSON_MOCK.replace("1.2", "1.3"))
    for action in cluster.reconcile_once():
        cluster.apply(action)
    sizes = {
        n: rs["spec"]["replicas"] for n, rs in by_name(cluster.items("replicasets.apps")).items()
    }
    (new_name,) = set(sizes) - {old_name}
    assert (sizes[old_name], sizes[new_name]) == (8, 3), "surge 3 up, then 2 unavailable down"
    set_replicas(cluster, "backend", 20)
    actions = cluster.reconcile_once()
    for action in actions:
        cluster.apply(action)
    sizes = {
        n: rs["spec"]["replicas"] for n, rs in by_name(cluster.items("replicasets.apps")).items()
    }
    assert sizes[old_name] + sizes[new_name] == 23, "20 replicas plus a surge of 3"
    assert (sizes[old_name], sizes[new_name]) == (18, 5)
    assert cluster.events()[-2:] == [
        f"ScalingReplicaSet: Scaled up replica set {old_name} from 8 to 18",
        f"ScalingReplicaSet: Scaled up replica set {new_name} from 3 to 5",
    ]
    cluster.run(rounds=40)
    assert cluster.get("deployments.apps", "backend")["status"]["updatedReplicas"] == 20


def test_a_rollout_without_progress_past_its_deadline_times_out() -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["progressDeadlineSeconds"] = 60
    cluster.add(deploy)
    cluster.settle()
    progressing = condition(cluster.get("deployments.apps", "backend"), "Progressing")
    assert progressing["reason"] in ("NewReplicaSetCreated", "ReplicaSetUpdated")
    cluster.tick(61)
    cluster.settle()
    progressing = condition(cluster.get("deployments.apps", "backend"), "Progressing")
    rs_name = next(iter(by_name(cluster.items("replicasets.apps"))))
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{rs_name}" has timed out progressing.',
    )
