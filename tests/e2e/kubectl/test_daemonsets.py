"""A DaemonSet on `podwall up --nodes 2`, driven by the real kubectl.

One cluster (a `LocalCluster` in this process, two node agents beside it) serves the tests
here, in order: the DaemonSet is applied and `kubectl rollout status` completes with a pod on
each node and the counts `kubectl get ds` prints; a deleted pod is recreated on its node; a
new image rolls over every node, `kubectl rollout history` lists both templates and `kubectl
rollout undo` brings the first back; a DaemonSet with a nodeSelector follows node labels and
taints; the DaemonSet deleted, its pods are garbage-collected.
Everything is removed at the end, also on failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl, wait_for
from tests.e2e.kubectl.watching import PODS_READY_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

NODES = ["node-1", "node-2"]
AGENT = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: "docker.io/library/busybox:1.36", command: [sh, -c, sleep 1000000]}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("daemonsets")
    local = LocalCluster(tmp / "state", port=0, nodes=len(NODES))
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        (tmp / "agent.yaml").write_text(AGENT)
        kubectl("apply", "-f", str(tmp / "agent.yaml"))
        yield kubectl
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def agent_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    listed = json.loads(kubectl("get", "pods", "-l", "app=agent", "-o", "json").stdout)
    return [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]


def by_node(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    """node -> its agent pod (one per node, else the test fails)."""
    pods = agent_pods(kubectl)
    placed = {p["spec"]["nodeName"]: p for p in pods}
    assert len(placed) == len(pods), [p["metadata"]["name"] for p in pods]
    return placed


def pod_names(kubectl: Kubectl, app: str) -> list[str]:
    listed = json.loads(kubectl("get", "pods", "-l", f"app={app}", "-o", "json").stdout)
    return [p["metadata"]["name"] for p in listed["items"]]


def rolled_out(kubectl: Kubectl) -> str:
    done = kubectl("rollout", "status", "ds/agent", "--timeout=120s")
    return done.stdout.strip().splitlines()[-1]


def test_rollout_completes_with_a_pod_on_each_node(cluster: Kubectl) -> None:
    kubectl = cluster
    assert rolled_out(kubectl) == 'daemon set "agent" successfully rolled out'
    placed = by_node(kubectl)
    assert sorted(placed) == NODES
    for pod in placed.values():
        assert pod["metadata"]["name"].startswith("agent-")
        assert len(pod["metadata"]["name"]) == len("agent-") + 5
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        assert pod["metadata"]["labels"]["controller-revision-hash"]
        assert pod["status"]["phase"] == "Running"
    rows = table(kubectl("get", "ds", "agent").stdout)
    assert rows[0] == [
        "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
    ]  # fmt: skip
    assert rows[1][:7] == ["agent", "2", "2", "2", "2", "2", "<none>"]
    described = kubectl("describe", "ds", "agent").stdout
    assert "Desired Number of Nodes Scheduled: 2\n" in described
    assert "Pods Status:  2 Running / 0 Waiting / 0 Succeeded / 0 Failed\n" in described


def test_a_deleted_pod_is_recreated_on_its_node(cluster: Kubectl) -> None:
    kubectl = cluster
    gone = by_node(kubectl)["node-2"]["metadata"]["name"]
    kubectl("delete", "pod", gone, "--wait=false")

    def replaced() -> bool:
        pod = by_node(kubectl).get("node-2")
        return pod is not None and pod["metadata"]["name"] != gone

    wait_for(replaced, timeout=PODS_READY_SECONDS, step=0.2)
    assert rolled_out(kubectl) == 'daemon set "agent" successfully rolled out'
    assert sorted(by_node(kubectl)) == NODES


def test_a_new_image_rolls_over_every_node(cluster: Kubectl) -> None:
    kubectl = cluster
    before = {p["metadata"]["name"] for p in by_node(kubectl).values()}
    kubectl("set", "image", "ds/agent", "agent=docker.io/library/busybox:1.37")
    assert rolled_out(kubectl) == 'daemon set "agent" successfully rolled out'
    placed = by_node(kubectl)
    assert sorted(placed) == NODES
    for pod in placed.values():
        assert pod["spec"]["containers"][0]["image"] == "docker.io/library/busybox:1.37"
        assert pod["metadata"]["labels"]["pod-template-generation"] == "2"
        assert pod["metadata"]["name"] not in before
    rows = table(kubectl("get", "ds", "agent").stdout)
    assert rows[1][:6] == ["agent", "2", "2", "2", "2", "2"]
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=agent").stdout
    assert "SuccessfulDelete" in events
    assert "SuccessfulCreate" in events


def test_rollout_history_lists_revisions_and_undo_restores_the_image(cluster: Kubectl) -> None:
    kubectl = cluster
    history = table(kubectl("rollout", "history", "ds/agent").stdout)
    assert history[:2] == [["daemonset.apps/agent"], ["REVISION", "CHANGE-CAUSE"]]
    assert [row[0] for row in history[2:]] == ["1", "2"]
    assert "busybox:1.36" in kubectl("rollout", "history", "ds/agent", "--revision=1").stdout
    assert (
        kubectl("rollout", "undo", "ds/agent").stdout.strip() == "daemonset.apps/agent rolled back"
    )
    assert rolled_out(kubectl) == 'daemon set "agent" successfully rolled out'

    def images() -> set[str]:
        return {p["spec"]["containers"][0]["image"] for p in agent_pods(kubectl)}

    wait_for(
        lambda: images() == {"docker.io/library/busybox:1.36"}, timeout=PODS_READY_SECONDS, step=0.2
    )
    history = table(kubectl("rollout", "history", "ds/agent").stdout)
    assert [row[0] for row in history[2:]] == ["2", "3"]
    revisions = table(kubectl("get", "controllerrevisions").stdout)[1:]
    assert {row[1] for row in revisions} == {"daemonset.apps/agent"}


def test_pods_follow_node_labels_and_taints(cluster: Kubectl, tmp_path: Path) -> None:
    kubectl = cluster
    infra = AGENT.replace("name: agent}", "name: infra}").replace("app: agent", "app: infra")
    infra = infra.replace("    spec:\n", "    spec:\n      nodeSelector: {role: infra}\n")
    (tmp_path / "infra.yaml").write_text(infra)
    kubectl("apply", "-f", str(tmp_path / "infra.yaml"))

    def placed() -> list[str]:
        listed = json.loads(kubectl("get", "pods", "-l", "app=infra", "-o", "json").stdout)
        live = [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]
        return sorted(p["spec"]["nodeName"] for p in live)

    assert table(kubectl("get", "ds", "infra").stdout)[1][1:3] == ["0", "0"]
    kubectl("label", "node", "node-2", "role=infra")
    wait_for(lambda: placed() == ["node-2"], timeout=PODS_READY_SECONDS, step=0.2)
    kubectl("label", "node", "node-1", "role=infra")
    wait_for(lambda: placed() == NODES, timeout=PODS_READY_SECONDS, step=0.2)
    kubectl("cordon", "node-1")  # daemon pods tolerate a cordoned node: one comes back
    listed = json.loads(kubectl("get", "pods", "-l", "app=infra", "-o", "json").stdout)
    (gone,) = [p["metadata"]["name"] for p in listed["items"] if p["spec"]["nodeName"] == "node-1"]
    kubectl("delete", "pod", gone, "--wait=false")
    wait_for(
        lambda: placed() == NODES and gone not in pod_names(kubectl, "infra"),
        timeout=PODS_READY_SECONDS,
    )
    kubectl("uncordon", "node-1")
    kubectl("taint", "node", "node-1", "dedicated=other:NoExecute")
    wait_for(lambda: placed() == ["node-2"], timeout=PODS_READY_SECONDS, step=0.2)
    kubectl("taint", "node", "node-1", "dedicated=other:NoExecute-")
    kubectl("label", "node", "node-1", "node-2", "role-")
    wait_for(lambda: placed() == [], timeout=PODS_READY_SECONDS, step=0.2)
    kubectl("delete", "ds", "infra")


def test_the_daemonset_deleted_its_pods_go(cluster: Kubectl) -> None:
    kubectl = cluster
    kubectl("delete", "ds", "agent", "--wait=false")
    wait_for(lambda: agent_pods(kubectl) == [], timeout=PODS_READY_SECONDS, step=0.2)

    def revisions_left() -> str:
        return kubectl("get", "controllerrevisions", "-o", "name").stdout.strip()

    wait_for(lambda: revisions_left() == "", timeout=PODS_READY_SECONDS, step=0.2)
