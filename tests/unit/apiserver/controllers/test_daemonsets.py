"""The DaemonSet controller: which nodes run a pod, the pods it makes, rolling updates, status."""

from __future__ import annotations

import random
from typing import Any

import pytest

from podwall.apiserver.controllers import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.apiserver.controllers import daemonsets as dsc
from podwall.apiserver.controllers.meta import deep, meta, rfc3339
from podwall.apiserver.controllers.podstatus import pod_running

from .cluster import T0, FakeCluster

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "agent"}},
    "spec": {"containers": [{"name": "agent", "image": "agent:1"}]},
}


def daemonset(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": deep(TEMPLATE),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            **spec,
        },
    }


def node(name: str, *, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def taint(key: str, effect: str) -> dict[str, Any]:
    return {"key": key, "effect": effect}


def prepared(**spec: Any) -> dict[str, Any]:
    ds = dsc.prepare_daemonset(daemonset(**spec), None)
    meta(ds).update(uid="ds-uid", generation=1)
    return ds


# -- which nodes should run a daemon pod -----------------------------------------------------

SHOULD_RUN: list[tuple[str, dict[str, Any], dict[str, Any], tuple[bool, bool]]] = [
    ("a plain node", {}, node("n1"), (True, True)),
    ("nodeSelector met", {"nodeSelector": {"role": "infra"}},
     node("n1", labels={"role": "infra"}), (True, True)),
    ("nodeSelector missed", {"nodeSelector": {"role": "infra"}}, node("n1"), (False, False)),
    ("affinity on a label",
     {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchExpressions": [
             {"key": "role", "operator": "NotIn", "values": ["edge"]}]}]}}}},
     node("n1", labels={"role": "edge"}), (False, False)),
    ("affinity on the node's name",
     {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchFields": [
             {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}},
     node("n1"), (True, True)),
    ("the template names another node", {"nodeName": "n2"}, node("n1"), (False, False)),
    ("NoSchedule not tolerated: no new pod, a running one stays", {},
     node("n1", taints=[taint("dedicated", "NoSchedule")]), (False, True)),
    ("NoExecute not tolerated: none at all", {},
     node("n1", taints=[taint("dedicated", "NoExecute")]), (False, False)),
    ("PreferNoSchedule is no obstacle", {},
     node("n1", taints=[taint("dedicated", "PreferNoSchedule")]), (True, True)),
    ("the template tolerates the taint",
     {"tolerations": [{"key": "dedicated", "operator": "Exists"}]},
     node("n1", taints=[taint("dedicated", "NoExecute")]), (True, True)),
    ("not ready: tolerated by every daemon pod", {},
     node("n1", taints=[taint("node.kubernetes.io/not-ready", "NoExecute")]), (True, True)),
    ("unreachable: tolerated", {},
     node("n1", taints=[taint("node.kubernetes.io/unreachable", "NoExecute")]), (True, True)),
    ("cordoned: tolerated", {},
     node("n1", unschedulable=True,
          taints=[taint("node.kubernetes.io/unschedulable", "NoSchedule")]), (True, True)),
    ("memory pressure: tolerated", {},
     node("n1", taints=[taint("node.kubernetes.io/memory-pressure", "NoSchedule")]),
     (True, True)),
    ("no network: not tolerated by a pod network daemon", {},
     node("n1", taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
     (False, True)),
    ("no network: tolerated by a hostNetwork daemon", {"hostNetwork": True},
     node("n1", taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
     (True, True)),
]  # fmt: skip


@pytest.mark.parametrize(("pod_spec", "the_node", "expected"), [c[1:] for c in SHOULD_RUN],
                         ids=[c[0] for c in SHOULD_RUN])  # fmt: skip
def test_node_should_run_a_daemon_pod(
    pod_spec: dict[str, Any], the_node: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    ds = daemonset()
    ds["spec"]["template"]["spec"].update(pod_spec)
    assert dsc.node_should_run(ds, the_node) == expected


# -- the pods it makes ---------------------------------------------------------------------------


def test_a_daemon_pod_is_bound_to_its_node_labelled_and_owned() -> None:
    ds = prepared()
    pod = dsc.new_pod(ds, "n2", "hash1", "agent-x7k2p")
    assert pod["metadata"]["name"] == "agent-x7k2p"
    assert pod["metadata"]["generateName"] == "agent-"
    assert pod["metadata"]["labels"] == {
        "app": "agent",
        "controller-revision-hash": "hash1",
        "pod-template-generation": "1",
    }
    (owner,) = pod["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("DaemonSet", "ds-uid", True)
    assert pod["spec"]["nodeName"] == "n2"
    assert pod["spec"]["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
                ]
            }
        }
    }
    assert {t["key"] for t in pod["spec"]["tolerations"]} >= {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unschedulable",
    }
    assert dsc.target_node({"spec": {**pod["spec"], "nodeName": ""}}) == "n2"


NAME_TERM = {
    "nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    ]
}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
AFFINITIES: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
    ("none: the name term alone", None, {"nodeAffinity": {REQUIRED: NAME_TERM}}),
    ("pod affinity and preferred terms are kept",
     {"podAntiAffinity": {"x": 1}, "nodeAffinity": {PREFERRED: [{"weight": 1}]}},
     {"podAntiAffinity": {"x": 1},
      "nodeAffinity": {PREFERRED: [{"weight": 1}], REQUIRED: NAME_TERM}}),
    ("required label terms are replaced",
     {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [
         {"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}}},
     {"nodeAffinity": {REQUIRED: NAME_TERM}}),
]  # fmt: skip


@pytest.mark.parametrize(("affinity", "expected"), [c[1:] for c in AFFINITIES],
                         ids=[c[0] for c in AFFINITIES])  # fmt: skip
def test_the_node_name_affinity_replaces_the_required_terms(
    affinity: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert dsc.node_name_affinity(affinity, "n1") == expected


def _with(template_change: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    new = daemonset(**spec)
    if template_change:
        new["spec"]["template"]["spec"]["containers"][0].update(template_change)
    return new


GENERATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("the template unchanged", _with(), "4"),
    ("the image changed", _with({"image": "agent:2"}), "5"),
    ("only minReadySeconds changed", _with(minReadySeconds=5), "4"),
    ("only a default spelled out", _with({"imagePullPolicy": "IfNotPresent"}), "4"),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in GENERATIONS],
                         ids=[c[0] for c in GENERATIONS])  # fmt: skip
def test_the_template_generation_moves_with_the_template_alone(
    new: dict[str, Any], expected: str
) -> None:
    stored = dsc.prepare_daemonset(daemonset(), None)
    assert meta(stored)["annotations"][dsc.TEMPLATE_GENERATION] == "1"
    meta(stored)["annotations"][dsc.TEMPLATE_GENERATION] = "4"
    out = dsc.prepare_daemonset(new, stored)
    assert meta(out)["annotations"][dsc.TEMPLATE_GENERATION] == expected


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("3", "3"), ("0", "1"), ("x", "1")])
def test_a_new_daemonset_keeps_a_template_generation_it_is_given(
    given: str | None, expected: str
) -> None:
    new = daemonset()
    if given is not None:
        new["metadata"]["annotations"] = {dsc.TEMPLATE_GENERATION: given}
    out = dsc.prepare_daemonset(new, None)
    assert out["metadata"]["annotations"][dsc.TEMPLATE_GENERATION] == expected


UPDATED: list[tuple[str, dict[str, str], bool]] = [
    ("the current hash", {"controller-revision-hash": "h2", "pod-template-generation": "1"}, True),
    ("the current generation", {"controller-revision-hash": "h1", "pod-template-generation": "2"},
     True),
    ("neither", {"controller-revision-hash": "h1", "pod-template-generation": "1"}, False),
    ("no labels", {}, False),
]  # fmt: skip


@pytest.mark.parametrize(("labels", "expected"), [c[1:] for c in UPDATED],
                         ids=[c[0] for c in UPDATED])  # fmt: skip
def test_a_pod_is_updated_by_hash_or_template_generation(
    labels: dict[str, str], expected: bool
) -> None:
    assert dsc.is_pod_updated({"metadata": {"labels": labels}}, "h2", 2) is expected


# -- the controller over a fake cluster ------------------------------------------------------


class Daemons:
    """A FakeCluster with Nodes and the DaemonSet controller in its loop."""

    def __init__(self, *nodes: dict[str, Any], **spec: Any) -> None:
        self.cluster = FakeCluster()
        self.nodes = list(nodes)
        self.rng = random.Random(7)
        self.cluster.add(dsc.prepare_daemonset(daemonset(**spec), None))

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
        self.cluster.apply(Update(dsc.prepare_daemonset(new, stored)))

    def update_spec(self, **pod_spec: Any) -> None:
        stored = self.ds
        new = deep(stored)
        new["spec"]["template"]["spec"].update(pod_spec)
        self.cluster.apply(Update(dsc.prepare_daemonset(new, stored)))

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
    extra = dsc.new_pod(d.ds, "n1", "other", "agent-extra")
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
    assert d.ds["metadata"]["annotations"][dsc.TEMPLATE_GENERATION] == "2"
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
            "labels": {dsc.HASH_LABEL: pod_hash},
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
    current = dsc.revision_hash(ds)
    pods = [
        _pod("old", "before", ready=old_ready, created="1"),
        _pod("new", current, ready=new_ready, created="2"),
        _pod("extra", current, ready=True, created="3"),
    ]
    needs, gone, _ = dsc.pods_should_be_on_node(ds, node("n1"), pods, T0)
    assert not needs
    assert [p["metadata"]["name"] for p in gone] == ["extra", *doomed]
