"""The kubelet's passes over a Store, with a Node that touches nothing on the host.

`RecordingNode` keeps `Node`'s bookkeeping but replaces namespaces, processes and nft with a
log of calls, so the order that fails closed can be checked without root: a new pod's address
is in the Store before the ruleset is synced, and the ruleset before its network exists.
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.kubelet import Kubelet
from podwall.apiserver.localcluster import ensure_cluster_dns
from podwall.apiserver.mutating import Admission
from podwall.apiserver.podruntime import PodLookupError
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_kind
from podwall.apiserver.store import Store
from podwall.model.cluster import Cluster
from podwall.runtime import images
from podwall.runtime.dataplane import SyncResult
from podwall.runtime.node import Node, PodPlan, RunningPod
from tests.unit.apiserver.controllers.manifests import backend_deployment, client_deployment


class RecordingNode(Node):
    def __init__(self, tmp: Path) -> None:
        super().__init__("t1", run_dir=tmp / "run", log_dir=tmp / "logs")
        self.calls: list[tuple[str, Any]] = []
        self.exits: list[tuple[str, str, int]] = []
        self.listens = True

    def listening(self, key: str, ports: tuple[int, ...]) -> bool:
        return self.listens

    def start(self) -> None:
        self.calls.append(("start", None))

    def sync(self, cluster: Cluster) -> SyncResult:
        self.calls.append(("sync", {p.key: [str(ip) for ip in p.ips] for p in cluster.pods}))
        return SyncResult(full=False, operations=0, seconds=0.0)

    def start_pod(self, plan: PodPlan) -> dict[str, images.Waiting | None]:
        self.calls.append(("start_pod", plan))
        self.pods[plan.key] = RunningPod(
            plan=plan, netns=f"pw-t1-{plan.name}", log_dir=self.log_dir
        )
        return {
            c.name: c.launch if isinstance(c.launch, images.Waiting) else None
            for c in plan.containers
        }

    def restart(self, key: str, container: str) -> images.Waiting | None:
        self.calls.append(("restart", (key, container)))
        return None

    def exited(self) -> list[tuple[str, str, int]]:
        out, self.exits = self.exits, []
        return out

    def stop_pod(self, key: str) -> None:
        self.calls.append(("stop_pod", key))
        self.pods.pop(key, None)

    def stop(self) -> None:
        self.calls.append(("stop", None))


CONTROLLERS: weakref.WeakKeyDictionary[Store, Reconciler] = weakref.WeakKeyDictionary()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    Admission(s).install()
    controllers = CONTROLLERS[s] = Reconciler(s)
    controllers.install()
    yield s
    controllers.remove()
    s.close()


def settle(store: Store) -> None:
    """Wait for the controllers to act on what was written (they run in their own threads)."""
    assert CONTROLLERS[store].wait_idle()


@pytest.fixture
def node(tmp_path: Path) -> RecordingNode:
    return RecordingNode(tmp_path)


@pytest.fixture
def kubelet(store: Store, node: RecordingNode) -> Kubelet:
    return Kubelet(store, node)


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    created = store.create(resource.key, obj)
    settle(store)
    return created


def pods(store: Store, namespace: str = "default") -> list[dict[str, Any]]:
    return store.list("pods", namespace)[0]


def test_a_new_pod_has_its_address_in_the_ruleset_before_its_network_exists(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = f"default/{pod['metadata']['name']}"
    kinds = [kind for kind, _ in node.calls]
    assert kinds == ["sync", "start_pod"]
    synced = node.calls[0][1]
    assert synced[key] == [pod["status"]["podIP"]]
    assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network("198.18.0.0/24")


def test_a_started_pod_is_running_and_ready(store: Store, kubelet: Kubelet) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    settle(store)
    (pod,) = pods(store)
    status = pod["status"]
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["containerStatuses"][0]["ready"] is True
    deploy = store.get("deployments.apps", "default", "frontend")
    assert deploy["status"]["readyReplicas"] == 1


def test_a_container_with_a_port_is_ready_once_it_listens(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    node.listens = False
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert pod["status"]["podIP"]
    assert pod["status"]["containerStatuses"][0]["ready"] is False
    node.listens = True
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert pod["status"]["containerStatuses"][0]["ready"] is True
    assert pod["status"]["phase"] == "Running"


def test_an_image_podwall_cannot_run_waits_with_the_reason(store: Store, kubelet: Kubelet) -> None:
    deploy = client_deployment("web")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "httpd:2.4"
    del container["command"]
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state["waiting"]["reason"] == "ImageNotSupported"
    assert pod["status"]["phase"] == "Pending"


def test_exec_target_names_the_pods_namespace_image_and_env(store: Store, kubelet: Kubelet) -> None:
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    name = pod["metadata"]["name"]
    target = kubelet.exec_target("default", name, None)
    assert target.netns == f"pw-t1-{name}"
    assert target.hostname == name
    assert target.image == "docker.io/cilium/json-mock:1.2"
    assert target.env == {"PORT": "8080"}
    assert kubelet.log_path("default", name, "backend-container").name == "backend-container.log"
    with pytest.raises(PodLookupError):
        kubelet.exec_target("default", name, "nope")
    with pytest.raises(PodLookupError):
        kubelet.exec_target("default", "missing", None)


def test_a_deleted_pod_is_stopped_and_no_longer_exec_able(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    store.delete("deployments.apps", "default", "frontend")
    settle(store)  # the garbage collector deletes its ReplicaSet, then the pod
    assert pods(store) == []
    kubelet.sync_pass()
    assert ("stop_pod", f"default/{pod['metadata']['name']}") in node.calls
    with pytest.raises(PodLookupError):
        kubelet.exec_target("default", pod["metadata"]["name"], None)


def test_a_restarted_node_gives_each_pod_its_previous_address(store: Store, tmp_path: Path) -> None:
    put(store, client_deployment("frontend"))
    put(store, client_deployment("other"))
    first = Kubelet(store, RecordingNode(tmp_path))
    first.sync_pass()
    before = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods(store)}
    second = Kubelet(store, RecordingNode(tmp_path))
    second.sync_pass()
    after = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods(store)}
    assert after == before


def test_an_exited_container_is_reported_and_restarted(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = f"default/{pod['metadata']['name']}"
    node.exits.append((key, "frontend-container", 1))
    kubelet.sync_pass()
    (pod,) = pods(store)
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state["terminated"]["exitCode"] == 1
    for restart in kubelet._restarts:
        restart.at = 0.0
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert ("restart", (key, "frontend-container")) in node.calls
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    assert "running" in pod["status"]["containerStatuses"][0]["state"]


def test_the_dns_pod_runs_the_dns_stand_in_on_the_records_file(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    ensure_cluster_dns(store)
    settle(store)
    kubelet.sync_pass()
    plan = next(arg for kind, arg in node.calls if kind == "start_pod")
    launch = plan.containers[0].launch
    assert isinstance(launch, images.Launch)
    assert launch.kind == images.KIND_DNS
    assert str(node.records_path) in launch.argv


def test_starting_a_pod_records_the_kubelets_events(store: Store, kubelet: Kubelet) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    reasons = [
        e["reason"]
        for e in store.list("events", "default")[0]
        if e["involvedObject"]["name"] == pod["metadata"]["name"]
    ]
    assert sorted(reasons) == ["Created", "Pulled", "Scheduled", "Started"]


@pytest.mark.parametrize(
    ("security_context", "run_as_user"),
    [({"runAsUser": 1234}, 1234), ({}, None)],
    ids=["runAsUser is the pod's uid", "without it the node gives one"],
)
def test_the_pods_run_as_user_reaches_the_node(
    store: Store,
    node: RecordingNode,
    kubelet: Kubelet,
    security_context: dict[str, Any],
    run_as_user: int | None,
) -> None:
    put(store, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"securityContext": security_context,
                 "containers": [{"name": "c", "image": "alpine", "command": ["sleep", "9"]}]},
    })  # fmt: skip
    kubelet.sync_pass()
    (plan,) = [arg for kind, arg in node.calls if kind == "start_pod"]
    assert plan.run_as_user == run_as_user
