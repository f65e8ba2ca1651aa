"""The DaemonSet controller over a fake cluster: pods per node, rolling updates, status."""

from __future__ import annotations

import random
from typing import Any

import pytest

from podwall.controllers import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.controllers import daemonpods as dp
from podwall.controllers import daemonsets as dsc
from podwall.controllers.meta import deep, meta, rfc3339
from podwall.controllers.podstatus import pod_running

from .cluster import T0, FakeCluster
from .daemons import daemonset, node, prepared, taint


class Daemons:
    """A FakeCluster with Nodes and the DaemonSet controller in its loop."""

    def __init__(self, *nodes: dict[str, Any], **spec: Any) -> None:
        self.cluster = FakeCluster()
        self.nodes = list(nodes)
        self.rng = random.Random(7)
        self.cluster.add(dp.prepare_daemonset(daemonset(**spec), None))

    @property
    def ds(self) -> Obj:
        return self.cluster.get("daemonsets.apps", "agent")

    def pods(self) -> list[Obj]:
        return [p for p in self.cluster.items("pods") if not meta(p).get("deletionTimestamp")]

    def placement(self) -> dict[str, str]:
        """node -> image of its pod."""
        return {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"] for p in self.pods()}

    def sync(self) -> list[Action]:
        actions = dsc.reconcile_daemonset(
            self.ds, self.nodes, self.cluster.items("pods"), self.cluster.now, self.rng
        )
        for action in actions:
            self.cluster.apply(action)
        return actions

    def settle(self) -> None:
        for _ in range(20):
            if not self.sync():
                return
        raise AssertionError("the DaemonSet controller did not settle")

    def run(self, rounds: int = 30) -> list[dict[str, str]]:
        """Controller and kubelet in turn until at rest; the placement after each round."""
        seen = []
        for _ in range(rounds):
            self.settle()
            seen.append(self.placement())
            before = len(self.cluster.applied)
            self.cluster.kubelet()
            self.cluster.tick()
            if len(self.cluster.applied) == before and not self.sync():
                return seen
        raise AssertionError("the cluster did not come to rest")

    def update(self, **container: Any) -> None:
        stored = self.ds
        new = deep(stored)
        new["spec"]["template"]["spec"]["containers"][0].update(container)
        self.cluster.apply(Update(dp.prepare_daemonset(new, stored)))

    def update_spec(self, **pod_spec: Any) -> None:
        stored = self.ds
        new = deep(stored)
        new["spec"]["template"]["spec"].update(pod_spec)
        self.cluster.apply(Update(dp.prepare_daemonset(new, stored)))

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.ds["status"]
        return status


def counts(status: dict[str, Any]) -> tuple[int, ...]:
    """DESIRED CURRENT READY UP-TO-DATE AVAILABLE MISSCHEDULED, as `kubectl get ds`."""
    fields = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
              "updatedNumberScheduled", "numberAvailable", "numberMisscheduled")  # fmt: skip
    return tuple(int(status.get(f, 0)) for f in fields)


def test_one_pod_per_node_with_events_and_a_status_kubectl_reads() -> None:
    d = Daemons(node("n1"), node("n2"), node("n3"))
    d.run()
    assert d.placement() == {"n1": "agent:1", "n2": "agent:1", "n3": "agent:1"}
    assert all(p["metadata"]["name"].startswith("agent-") for p in d.pods())
    assert all(len(p["metadata"]["name"]) == len("agent-") + 5 for p in d.pods())
    assert counts(d.status()) == (3, 3, 3, 3, 3, 0)
    assert d.status()["observedGeneration"] == 1
    assert "numberUnavailable" not in d.status()
    created = [e for e in d.cluster.events() if e.startswith("SuccessfulCreate: Created pod: ")]
    assert len(created) == 3


def test_the_status_before_the_pods_run_counts_them_unavailable() -> None:
    d = Daemons(node("n1"), node("n2"))
    d.settle()
    assert counts(d.status()) == (2, 2, 0, 2, 0, 0)
    assert d.status()["numberUnavailable"] == 2


def test_only_eligible_nodes_get_a_pod() -> None:
    d = Daemons(
        node("n1", labels={"role": "infra"}),
        node("n2"),
        node("n3", labels={"role": "infra"}, taints=[taint("dedicated", "NoSchedule")]),
    )
    d.update_spec(nodeSelector={"role": "infra"})
    d.run()
    assert sorted(d.placement()) == ["n1"]
    assert counts(d.status()) == (1, 1, 1, 1, 1, 0)


def test_a_node_added_gets_a_pod_and_a_node_removed_loses_it() -> None:
    d = Daemons(node("n1"))
    d.run()
    d.nodes.append(node("n2"))
    d.run()
    assert sorted(d.placement()) == ["n1", "n2"]
    d.nodes.pop(0)
    d.run()
    assert sorted(d.placement()) == ["n2"]
    assert counts(d.status()) == (1, 1, 1, 1, 1, 0)


def test_a_deleted_pod_is_recreated_on_its_node() -> None:
    d = Daemons(node("n1"), node("n2"))
    d.run()
    gone = next(p for p in d.pods() if p["spec"]["nodeName"] == "n2")
    d.cluster.apply(Delete("pods", "default", gone["metadata"]["name"]))
    d.run()
    again = next(p for p in d.pods() if p["spec"]["nodeName"] == "n2")
    assert again["metadata"]["name"] != gone["metadata"]["name"]
    assert counts(d.status()) == (2, 2, 2, 2, 2, 0)


def test_a_node_that_stops_fitting_loses_its_pod_unless_only_new_pods_are_refused() -> None:
    d = Daemons(node("n1"), node("n2"))
    d.run()
    d.nodes[0]["spec"]["taints"] = [taint("dedicated", "NoSchedule")]
    d.run()
    assert sorted(d.placement()) == ["n1", "n2"]  # the running pod stays
    assert counts(d.status()) == (1, 1, 1, 1, 1, 1)  # and is misscheduled
    d.nodes[0]["spec"]["taints"] = [taint("dedicated", "NoExecute")]
    d.run()
    assert sorted(d.placement()) == ["n2"]


def test_a_failed_pod_is_replaced_with_a_warning() -> None:
    d = Daemons(node("n1"))
    d.run()
    (pod,) = d.pods()
    rejected = deep(pod)  # as a kubelet rejects a pod it cannot admit (OutOfcpu, say)
    rejected["status"].update(phase="Failed", reason="OutOfcpu")
    d.cluster.apply(UpdateStatus(rejected))
    d.run()
    (again,) = d.pods()
    assert again["metadata"]["name"] != pod["metadata"]["name"]
    assert (
        f"FailedDaemonPod: Found failed daemon pod default/{pod['metadata']['name']} on node n1, "
        "will try to kill it"
    ) in d.cluster.events()


def test_of_two_pods_on_a_node_the_oldest_stays() -> None:
    d = Daemons(node("n1"))
    d.run()
    (first,) = d.pods()
    d.cluster.tick()
    extra = dp.new_pod(d.ds, "n1", "other", "agent-extra")
    d.cluster.add(extra)
    d.settle()
    assert [p["metadata"]["name"] for p in d.pods()] == [first["metadata"]["name"]]


def test_a_daemonset_being_deleted_is_left_alone() -> None:
    d = Daemons(node("n1"))
    ds = d.ds
    meta(ds)["deletionTimestamp"] = rfc3339(d.cluster.now)
    assert dsc.reconcile_daemonset(ds, d.nodes, [], d.cluster.now, d.rng) == []


def _unavailable_while_rolling(d: Daemons, rounds: int = 30) -> int:
    """Roll to the end, one controller round and kubelet round at a time; the most nodes
    without an available pod at once."""
    worst = 0
    for _ in range(rounds):
        d.settle()
        running = {p["spec"]["nodeName"] for p in d.pods() if p["status"].get("phase") == "Running"}
        worst = max(worst, len(d.nodes) - len(running))
        before = len(d.cluster.applied)
        d.cluster.kubelet()
        d.cluster.tick()
        if len(d.cluster.applied) == before and not d.sync():
            return worst
    raise AssertionError("the rollout did not finish")


@pytest.mark.parametrize(("max_unavailable", "nodes", "at_once"),
                         [(1, 4, 1), (2, 4, 2), ("50%", 4, 2), ("10%", 4, 1), (0, 3, 1)],
                         ids=["1", "2", "50%", "10% rounds up", "0 means 1"])  # fmt: skip
def test_a_rolling_update_replaces_every_pod_within_max_unavailable(
    max_unavailable: int | str, nodes: int, at_once: int
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}
    d = Daemons(*(node(f"n{i}") for i in range(nodes)), updateStrategy=strategy)
    d.run()
    d.update(image="agent:2")
    assert d.ds["metadata"]["annotations"][dp.TEMPLATE_GENERATION] == "2"
    assert _unavailable_while_rolling(d) == at_once
    assert set(d.placement().values()) == {"agent:2"}
    assert all(p["metadata"]["labels"]["pod-template-generation"] == "2" for p in d.pods())
    assert counts(d.status()) == (nodes, nodes, nodes, nodes, nodes, 0)
    assert d.status()["observedGeneration"] == 2


def test_on_delete_leaves_old_pods_until_they_are_deleted() -> None:
    d = Daemons(node("n1"), node("n2"), updateStrategy={"type": "OnDelete"})
    d.run()
    d.update(image="agent:2")
    d.run()
    assert d.placement() == {"n1": "agent:1", "n2": "agent:1"}
    assert counts(d.status()) == (2, 2, 2, 0, 2, 0)
    old = next(p for p in d.pods() if p["spec"]["nodeName"] == "n1")
    d.cluster.apply(Delete("pods", "default", old["metadata"]["name"]))
    d.run()
    assert d.placement() == {"n1": "agent:2", "n2": "agent:1"}
    assert counts(d.status())[3] == 1


def test_an_unavailable_old_pod_is_replaced_at_once() -> None:
    d = Daemons(node("n1"), node("n2"), node("n3"))
    d.settle()  # pods created, none running: none available
    d.update(image="agent:2")
    d.settle()
    assert set(d.placement().values()) == {"agent:2"}


def test_min_ready_seconds_holds_back_availability_and_asks_for_a_resync() -> None:
    d = Daemons(node("n1"), minReadySeconds=10)
    d.run()
    assert counts(d.status()) == (1, 1, 1, 1, 0, 0)
    assert dsc.resync_after(d.ds, d.status()) == 10
    d.cluster.tick(10)
    d.sync()
    assert counts(d.status()) == (1, 1, 1, 1, 1, 0)
    assert dsc.resync_after(d.ds, d.status()) is None


def test_a_pod_made_running_by_hand_counts_as_ready() -> None:
    d = Daemons(node("n1"))
    d.settle()
    (pod,) = d.pods()
    d.cluster.apply(UpdateStatus(pod_running(pod, "198.18.0.9", d.cluster.now)))
    d.sync()
    assert counts(d.status())[:3] == (1, 1, 1)


def test_nothing_is_written_when_all_is_in_place() -> None:
    d = Daemons(node("n1"), node("n2"))
    d.run()
    assert d.sync() == []


def test_new_pod_names_avoid_the_names_taken() -> None:
    ds = prepared()
    first = dsc.reconcile_daemonset(ds, [node("n1")], [], T0, random.Random(3))
    name = next(a.obj["metadata"]["name"] for a in first if isinstance(a, Create))
    again = dsc.reconcile_daemonset(ds, [node("n1")], [], T0, random.Random(3), {name})
    names = [a.obj["metadata"]["name"] for a in again if isinstance(a, Create)]
    assert name not in names


def _surge_rollout(d: Daemons, rounds: int = 30) -> tuple[int, int]:
    """Roll to the end with surge; (most nodes without a running pod, most extra pods) at once."""
    worst_down = worst_extra = 0
    for _ in range(rounds):
        d.settle()
        pods = d.pods()
        running = {p["spec"]["nodeName"] for p in pods if p["status"].get("phase") == "Running"}
        worst_down = max(worst_down, len(d.nodes) - len(running))
        worst_extra = max(worst_extra, len(pods) - len(d.nodes))
        before = len(d.cluster.applied)
        d.cluster.kubelet()
        d.cluster.tick()
        if len(d.cluster.applied) == before and not d.sync():
            return worst_down, worst_extra
    raise AssertionError("the rollout did not finish")


@pytest.mark.parametrize(("max_surge", "extra"), [(1, 1), ("100%", 3)], ids=["1", "100%"])
def test_a_surging_update_starts_new_pods_beside_the_old_ones(
    max_surge: int | str, extra: int
) -> None:
    strategy = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": max_surge},
    }
    d = Daemons(node("n1"), node("n2"), node("n3"), updateStrategy=strategy)
    d.run()
    d.update(image="agent:2")
    assert _surge_rollout(d) == (0, extra)  # never a node without a running pod
    assert d.placement() == {"n1": "agent:2", "n2": "agent:2", "n3": "agent:2"}
    assert counts(d.status()) == (3, 3, 3, 3, 3, 0)


def _pod(name: str, pod_hash: str, *, ready: bool, created: str) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {
        "metadata": {
            "name": name,
            "labels": {dp.HASH_LABEL: pod_hash},
            "creationTimestamp": f"2026-11-26T10:00:0{created}Z",
        },
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running", "conditions": conditions},
    }


SURGE = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
TWO_PODS: list[tuple[str, bool, bool, list[str]]] = [
    ("old ready, new not yet: both stay", True, False, []),
    ("new available: the old goes", True, True, ["old"]),
    ("old not ready: it goes", False, False, ["old"]),
]


@pytest.mark.parametrize(("old_ready", "new_ready", "doomed"), [c[1:] for c in TWO_PODS],
                         ids=[c[0] for c in TWO_PODS])  # fmt: skip
def test_two_pods_on_a_node_while_surging(
    old_ready: bool, new_ready: bool, doomed: list[str]
) -> None:
    ds = prepared(updateStrategy=SURGE)
    current = dp.revision_hash(ds)
    pods = [
        _pod("old", "before", ready=old_ready, created="1"),
        _pod("new", current, ready=new_ready, created="2"),
        _pod("extra", current, ready=True, created="3"),
    ]
    needs, gone, _ = dsc.pods_should_be_on_node(ds, node("n1"), pods, T0)
    assert not needs
    assert [p["metadata"]["name"] for p in gone] == ["extra", *doomed]


def test_history_has_a_revision_per_template_and_pods_carry_its_hash() -> None:
    d = Daemons(node("n1"))

    def sync_with_history() -> list[Action]:
        actions = dsc.reconcile_daemonset(
            d.ds, d.nodes, d.cluster.items("pods"), d.cluster.now, d.rng,
            history=d.cluster.items("controllerrevisions.apps"),
        )  # fmt: skip
        for action in actions:
            d.cluster.apply(action)
        return actions

    def run() -> None:
        for _ in range(30):
            while sync_with_history():
                pass
            before = len(d.cluster.applied)
            d.cluster.kubelet()
            d.cluster.tick()
            if len(d.cluster.applied) == before:
                return
        raise AssertionError("did not come to rest")

    run()
    (first,) = d.cluster.items("controllerrevisions.apps")
    assert first["revision"] == 1
    pod_hash = d.pods()[0]["metadata"]["labels"]["controller-revision-hash"]
    assert first["metadata"]["name"] == f"agent-{pod_hash}"
    d.update(image="agent:2")
    run()
    d.update(image="agent:1")  # kubectl rollout undo
    run()
    numbers = {
        r["metadata"]["name"]: r["revision"] for r in d.cluster.items("controllerrevisions.apps")
    }
    assert numbers[first["metadata"]["name"]] == 3
    assert sorted(numbers.values()) == [2, 3]
    assert d.placement() == {"n1": "agent:1"}
