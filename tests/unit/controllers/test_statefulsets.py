"""The StatefulSet controller over a fake cluster: ordered pods, scaling, rolling updates,
revisions and status."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.controllers import statefulsets as ssc
from podwall.controllers.meta import deep, meta
from podwall.controllers.revisions import RESOURCE as REVISIONS
from podwall.controllers.statefulpods import default_statefulset_spec

from .cluster import FakeCluster

STS = "statefulsets.apps"


def statefulset(**spec: Any) -> Obj:
    body: dict[str, Any] = {
        "serviceName": "db",
        "replicas": 3,
        "selector": {"matchLabels": {"app": "db"}},
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{"name": "db", "image": "db:1"}]},
        },
        **spec,
    }
    default_statefulset_spec(body)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": body,
    }


class Stateful:
    """A FakeCluster with one StatefulSet and its controller in the loop."""

    def __init__(self, **spec: Any) -> None:
        self.cluster = FakeCluster()
        self.cluster.add(statefulset(**spec))

    @property
    def sts(self) -> Obj:
        return self.cluster.get(STS, "db")

    def pods(self) -> dict[str, Obj]:
        return {
            meta(p)["name"]: p
            for p in self.cluster.items("pods")
            if not meta(p).get("deletionTimestamp")
        }

    def images(self) -> dict[str, str]:
        return {n: p["spec"]["containers"][0]["image"] for n, p in self.pods().items()}

    def revisions(self) -> list[Obj]:
        return self.cluster.items(REVISIONS)

    def sync(self) -> list[Action]:
        actions = ssc.reconcile_statefulset(
            self.sts, self.cluster.items("pods"), self.revisions(), self.cluster.now
        )
        for action in actions:
            self.cluster.apply(action)
        return actions

    def settle(self) -> list[list[Action]]:
        rounds = []
        for _ in range(20):
            actions = self.sync()
            if not actions:
                return rounds
            rounds.append(actions)
        raise AssertionError("the StatefulSet controller did not settle")

    def run(self, rounds: int = 40) -> list[list[str]]:
        """Controller and kubelet in turn until at rest; the pod names after each round."""
        seen = []
        for _ in range(rounds):
            self.settle()
            seen.append(sorted(self.pods()))
            before = len(self.cluster.applied)
            self.cluster.kubelet()
            self.cluster.tick()
            if len(self.cluster.applied) == before and not self.sync():
                return seen
        raise AssertionError("the cluster did not come to rest")

    def edit(self, **spec: Any) -> None:
        new = deep(self.sts)
        new["spec"].update(spec)
        self.cluster.apply(Update(new))

    def image(self, image: str) -> None:
        template = deep(self.sts["spec"]["template"])
        template["spec"]["containers"][0]["image"] = image
        self.edit(template=template)

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.sts["status"]
        return status


def created(actions: list[Action]) -> list[str]:
    return [
        meta(a.obj)["name"] for a in actions if isinstance(a, Create) and a.obj["kind"] == "Pod"
    ]


def deleted(actions: list[Action]) -> list[str]:
    return [a.name for a in actions if isinstance(a, Delete) and a.resource == "pods"]


@pytest.mark.parametrize(
    ("policy", "first_round"),
    [
        pytest.param("OrderedReady", ["db-0"], id="ordered-one-at-a-time"),
        pytest.param("Parallel", ["db-0", "db-1", "db-2"], id="parallel-all-at-once"),
    ],
)
def test_pods_are_named_by_ordinal_and_made_per_policy(policy: str, first_round: list[str]) -> None:
    s = Stateful(podManagementPolicy=policy)
    assert s.run()[0] == first_round
    assert sorted(s.pods()) == ["db-0", "db-1", "db-2"]
    pod = s.pods()["db-1"]
    assert pod["spec"]["hostname"] == "db-1"
    assert pod["spec"]["subdomain"] == "db"
    labels = pod["metadata"]["labels"]
    revision = s.status()["updateRevision"]
    assert labels == {
        "app": "db",
        "statefulset.kubernetes.io/pod-name": "db-1",
        "apps.kubernetes.io/pod-index": "1",
        "controller-revision-hash": revision,
    }
    ref = pod["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["controller"]) == ("StatefulSet", "db", True)


def test_ordered_ready_waits_for_each_pod_to_run_and_be_ready() -> None:
    s = Stateful()
    assert created(s.sync()) == ["db-0"]
    assert created(s.sync()) == []  # db-0 is pending: nothing more
    s.cluster.kubelet()
    assert created(s.sync()) == ["db-1"]


def test_status_counts_and_revisions_once_at_rest() -> None:
    s = Stateful()
    s.run()
    status = s.status()
    assert status == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": status["updateRevision"],
        "updateRevision": status["updateRevision"],
        "availableReplicas": 3,
    }
    (revision,) = s.revisions()
    assert meta(revision)["name"] == status["updateRevision"]
    assert revision["revision"] == 1
    assert s.cluster.events()[:2] == [
        "SuccessfulCreate: create Pod db-0 in StatefulSet db successful",
        "SuccessfulCreate: create Pod db-1 in StatefulSet db successful",
    ]


def test_scaling_down_removes_the_highest_ordinal_first() -> None:
    s = Stateful(replicas=4)
    s.run()
    s.edit(replicas=1)
    assert [deleted(s.sync()) for _ in range(4)] == [["db-3"], ["db-2"], ["db-1"], []]
    assert sorted(s.pods()) == ["db-0"]
    assert s.status()["replicas"] == 1


def test_scaling_down_waits_while_a_condemned_pod_terminates() -> None:
    s = Stateful()
    s.run()
    s.edit(replicas=1)
    pods = s.cluster.items("pods")
    for pod in pods:
        if meta(pod)["name"] == "db-2":
            meta(pod)["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    actions = ssc.reconcile_statefulset(s.sts, pods, s.revisions(), s.cluster.now)
    assert deleted(actions) == []


def test_parallel_scale_down_removes_all_condemned_at_once() -> None:
    s = Stateful(replicas=4, podManagementPolicy="Parallel")
    s.run()
    s.edit(replicas=1)
    assert deleted(s.sync()) == ["db-3", "db-2", "db-1"]


def test_a_rolling_update_goes_from_the_highest_ordinal_down() -> None:
    s = Stateful()
    s.run()
    old = s.status()["currentRevision"]
    s.image("db:2")
    order: list[str] = []
    for _ in range(40):
        for actions in s.settle():
            order += deleted(actions)
        s.cluster.kubelet()
        s.cluster.tick()
        if set(s.images().values()) == {"db:2"} and not s.sync():
            break
    assert order == ["db-2", "db-1", "db-0"]
    status = s.status()
    assert status["currentRevision"] == status["updateRevision"] != old
    assert (status["currentReplicas"], status["updatedReplicas"]) == (3, 3)
    assert sorted(r["revision"] for r in s.revisions()) == [1, 2]


def test_a_partition_keeps_the_lower_ordinals_at_the_current_revision() -> None:
    s = Stateful(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    s.run()
    s.image("db:2")
    s.run()
    assert s.images() == {"db-0": "db:1", "db-1": "db:1", "db-2": "db:2"}
    status = s.status()
    assert status["currentRevision"] != status["updateRevision"]
    assert (status["currentReplicas"], status["updatedReplicas"]) == (2, 1)
    s.cluster.apply(Delete("pods", "default", "db-0"))
    s.run()
    assert s.images()["db-0"] == "db:1"  # below the partition: made again at the old revision


def test_on_delete_replaces_only_what_was_deleted() -> None:
    s = Stateful(updateStrategy={"type": "OnDelete"})
    s.run()
    s.image("db:2")
    s.run()
    assert set(s.images().values()) == {"db:1"}
    s.cluster.apply(Delete("pods", "default", "db-1"))
    s.run()
    assert s.images() == {"db-0": "db:1", "db-1": "db:2", "db-2": "db:1"}


def test_undo_renumbers_the_old_revision_and_restores_its_template() -> None:
    s = Stateful()
    s.run()
    first = s.status()["updateRevision"]
    s.image("db:2")
    s.run()
    s.image("db:1")  # what `kubectl rollout undo` patches back
    s.run()
    assert set(s.images().values()) == {"db:1"}
    by_name = {meta(r)["name"]: r["revision"] for r in s.revisions()}
    assert by_name[first] == 3
    assert sorted(by_name.values()) == [2, 3]
    assert s.status()["updateRevision"] == first


def test_history_is_pruned_to_the_limit_keeping_live_revisions() -> None:
    s = Stateful(revisionHistoryLimit=1)
    s.run()
    for tag in ("2", "3", "4"):
        s.image(f"db:{tag}")
        s.run()
    revisions = sorted(s.revisions(), key=lambda r: int(r["revision"]))
    assert [r["revision"] for r in revisions] == [3, 4]  # the live one and one more
    assert meta(revisions[-1])["name"] == s.status()["updateRevision"]


@pytest.mark.parametrize(
    ("policy", "deleted_first"),
    [
        pytest.param("OrderedReady", ["db-0"], id="ordered-stops-at-the-first"),
        pytest.param("Parallel", ["db-0", "db-1"], id="parallel-goes-through-all"),
    ],
)
def test_failed_pods_are_deleted_then_made_again(policy: str, deleted_first: list[str]) -> None:
    s = Stateful(replicas=2, podManagementPolicy=policy)
    s.run()
    for name in ("db-0", "db-1"):
        pod = s.pods()[name]
        pod["status"]["phase"] = "Failed"  # evicted, say: restartPolicy Always never fails it
        s.cluster.apply(UpdateStatus(pod))
    assert deleted(s.sync()) == deleted_first
    s.run()
    assert {p["status"]["phase"] for p in s.pods().values()} == {"Running"}


def test_claim_templates_are_not_provisioned_and_a_warning_says_so() -> None:
    s = Stateful(replicas=1, volumeClaimTemplates=[{"metadata": {"name": "data"}}])
    s.run()
    assert "volumes" not in s.pods()["db-0"]["spec"]
    warnings = [e for e in s.cluster.events() if e.startswith("FailedCreatePodVolume")]
    assert warnings == [
        "FailedCreatePodVolume: PersistentVolumeClaims are not served: volumeClaimTemplates "
        "['data'] are not provisioned for Pod db-0; it runs without those volumes"
    ]


def test_a_set_being_deleted_gets_nothing() -> None:
    s = Stateful()
    sts = s.sts
    meta(sts)["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    assert ssc.reconcile_statefulset(sts, [], [], s.cluster.now) == []


def test_pods_of_another_owner_or_name_are_ignored() -> None:
    s = Stateful(replicas=1)
    s.run()
    stray = deep(s.pods()["db-0"])
    meta(stray).update(name="other-0", uid="x")
    assert ssc.reconcile_statefulset(s.sts, [*s.cluster.items("pods"), stray], s.revisions(),
                                     s.cluster.now) == []  # fmt: skip


def test_resync_waits_out_min_ready_seconds() -> None:
    sts = statefulset(minReadySeconds=10)
    assert ssc.resync_after(sts, {"readyReplicas": 2, "availableReplicas": 1}) == 10
    assert ssc.resync_after(sts, {"readyReplicas": 2, "availableReplicas": 2}) is None
    assert ssc.resync_after(statefulset(), {"readyReplicas": 2, "availableReplicas": 1}) is None
