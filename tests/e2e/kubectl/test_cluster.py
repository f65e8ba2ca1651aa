"""`podwall up` for real: API server, controllers, scheduler and the node agents, with the real
kubectl.

The first tests run a `LocalCluster` in this process (tmp state directory, a free port); the
last ones run `podwall up` / `podwall down` as a user does, the cluster a daemon. Connectivity
is checked with real connections from inside the pods' network namespaces. Everything is
removed at the end, also on failure: the cluster stops, and any namespace of its cluster id
that is left is cleared by pid and by name.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster.local import LocalCluster
from podwall.model.ports import Protocol
from podwall.runtime import names, netns
from podwall.runtime.connect import Attempt, try_once
from podwall.runtime.node import Node
from tests.e2e.kubectl.test_apiserver import ALLOW, DENY, SIMPLE_APP, kubectl_binary, table
from tests.e2e.kubectl.watching import KUBECTL_SECONDS, PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
NO_RESOURCES = "No resources found in default namespace."


def make_kubectl(kubeconfig: Path, cache: Path) -> Kubectl:
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        command = [kubectl_binary(), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache)]
        done = subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            timeout=KUBECTL_SECONDS,
            env=env,
            check=False,
        )
        if check:
            assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done

    return run


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout}s")
        time.sleep(step)
    return time.monotonic() - started


def clear_cluster(cluster_id: str, state: Path) -> None:
    """Whatever a failed test left of this cluster: its processes (by netns) and namespaces."""
    node = Node(cluster_id, run_dir=Path("/run/podwall") / cluster_id, log_dir=state / "pods")
    node.adopt_leftovers()
    node.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path / "state", port=0)
    try:
        local.start()
        yield local
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def pod_ready_count(kubectl: Kubectl) -> int:
    rows = table(kubectl("get", "pods").stdout)[1:]
    return sum(1 for row in rows if row[1:3] == ["1/1", "Running"])


def reaches(cluster_id: str, pod: str, address: str, port: int) -> bool:
    source = names.pod_netns(cluster_id, f"default/{pod}")
    return try_once(Attempt(netns=source, address=address, port=port, protocol=Protocol.TCP), 0.5)


def test_the_tutorial_on_a_running_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    kubectl = make_kubectl(cluster.server.kubeconfig_path, tmp_path / "cache")
    started = time.monotonic()
    out = kubectl("apply", "-f", str(SIMPLE_APP)).stdout
    assert out.splitlines() == [
        "deployment.apps/frontend created",
        "deployment.apps/not-frontend created",
        "deployment.apps/backend created",
        "service/backend created",
    ]
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    print(f"apply -> 3 pods Ready: {time.monotonic() - started:.2f}s")

    rows = table(kubectl("get", "all").stdout)
    service = next(r for r in rows if r[0] == "service/backend")
    assert service[1] == "ClusterIP"
    assert re.fullmatch(r"198\.19\.\d+\.\d+", service[2])
    assert service[4] == "8080/TCP"
    for name in ("backend", "frontend", "not-frontend"):
        row = next(r for r in rows if r[0] == f"deployment.apps/{name}")
        assert row[1:4] == ["1/1", "1", "1"]

    def pod_of(app: str) -> str:
        jsonpath = "jsonpath={.items[0].metadata.name}"
        return kubectl("get", "pods", "-l", f"app={app}", "-o", jsonpath).stdout

    frontend, not_frontend = pod_of("frontend"), pod_of("not-frontend")
    assert frontend.startswith("frontend-")
    assert not_frontend.startswith("not-frontend-")
    backend_ip = service[2]
    ident = cluster.cluster_id
    # Ready pods become the Service's endpoints, and the node's rules for it, a moment later.
    wait_for(lambda: reaches(ident, frontend, backend_ip, 8080), timeout=SETTLED_SECONDS)
    wait_for(lambda: reaches(ident, not_frontend, backend_ip, 8080), timeout=SETTLED_SECONDS)

    applied = time.monotonic()
    kubectl("apply", "-f", str(DENY))
    wait_for(lambda: not reaches(ident, frontend, backend_ip, 8080), timeout=SETTLED_SECONDS)
    print(f"deny applied -> enforced: {time.monotonic() - applied:.2f}s")
    assert not reaches(ident, not_frontend, backend_ip, 8080)
    assert "backend-ingress-deny   app=backend" in kubectl("get", "netpol").stdout

    kubectl("apply", "-f", str(ALLOW))
    wait_for(lambda: reaches(ident, frontend, backend_ip, 8080), timeout=SETTLED_SECONDS)
    assert not reaches(ident, not_frontend, backend_ip, 8080)


def test_deleting_the_app_stops_its_pods_and_removes_their_namespaces(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    kubectl = make_kubectl(cluster.server.kubeconfig_path, tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP))
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    prefix = names.cluster_prefix(cluster.cluster_id)
    assert len(netns.leftovers(prefix)) == 2 + 4  # fabric, node, coredns and the app's pods
    kubectl("delete", "-f", str(SIMPLE_APP))
    wait_for(lambda: len(netns.leftovers(prefix)) == 3, timeout=SETTLED_SECONDS)
    # The agent removes a pod's namespace before it tells the API server the pod is gone.
    wait_for(lambda: kubectl("get", "pods").stderr.strip() == NO_RESOURCES, timeout=SETTLED_SECONDS)


SLEEPER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: sleeper
        image: docker.io/byrnedo/alpine-curl:0.1.8
        command: ["/bin/ash", "-c", "sleep 1000000000"]
"""


def owned(kubectl: Kubectl, app: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ReplicaSets and the pods labelled `app=<app>`, as kubectl gets them."""
    found = json.loads(kubectl("get", "rs,pods", "-l", f"app={app}", "-o", "json").stdout)
    items = found["items"]
    return [i for i in items if i["kind"] == "ReplicaSet"], [i for i in items if i["kind"] == "Pod"]


def test_kubectl_delete_cascade_orphan_foreground_and_background(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    kubectl = make_kubectl(cluster.server.kubeconfig_path, tmp_path / "cache")
    apps = ("orphaned", "foreground", "background")
    manifest = tmp_path / "sleepers.yaml"
    manifest.write_text("---\n".join(SLEEPER.format(name=app) for app in apps))
    kubectl("apply", "-f", str(manifest))
    wait_for(
        lambda: all(len(owned(kubectl, app)[1]) == 2 for app in apps), timeout=PODS_READY_SECONDS
    )

    out = kubectl("delete", "deployment", "orphaned", "--cascade=orphan").stdout
    assert out == 'deployment.apps "orphaned" deleted\n'
    (rs,), pods = owned(kubectl, "orphaned")
    assert "ownerReferences" not in rs["metadata"], "the ReplicaSet lost its owner"
    assert len(pods) == 2, "and keeps its pods"
    for pod in pods:
        assert [r["uid"] for r in pod["metadata"]["ownerReferences"]] == [rs["metadata"]["uid"]]

    kubectl("delete", "deployment", "foreground", "--cascade=foreground")
    assert owned(kubectl, "foreground") == ([], []), "gone before the Deployment was"

    kubectl("delete", "deployment", "background")
    wait_for(lambda: owned(kubectl, "background") == ([], []), timeout=SETTLED_SECONDS)
    assert len(owned(kubectl, "orphaned")[1]) == 2
    assert kubectl("get", "deploy").stderr.strip() == NO_RESOURCES


def running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def podwall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podwall", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """A state directory for `podwall up`; whatever runs on it is stopped at the end."""
    directory = tmp_path / "podwall"
    yield directory
    if (directory / "cluster-id").exists():
        ident = (directory / "cluster-id").read_text().strip()
        podwall("down", "--state-dir", str(directory))
        clear_cluster(ident, directory)


def test_podwall_up_status_and_down(state: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    first = podwall("up", "--state-dir", str(state), "--port", "0")
    assert first.returncode == 0, first.stderr
    print(f"podwall up -> ready: {time.monotonic() - started:.2f}s")
    assert first.stdout == f"export KUBECONFIG={state / 'kubeconfig'}\n"
    second = podwall("up", "--state-dir", str(state), "--port", "0")
    assert second.returncode == 0
    assert "already running" in second.stderr
    status = podwall("status", "--state-dir", str(state))
    assert "podwall is running" in status.stdout
    assert "coredns-" in status.stdout
    assert "node-1  Ready  198.18.255.1" in status.stdout  # the node, from its Node object
    assert "agents: 1, all alive" in status.stdout  # its agent, from its Lease
    assert podwall("kubeconfig", "--state-dir", str(state)).stdout.strip() == str(
        state / "kubeconfig"
    )
    kubectl = make_kubectl(state / "kubeconfig", tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP))
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    ident = (state / "cluster-id").read_text().strip()
    pid = int((state / "podwall.pid").read_text())

    down = podwall("down", "--state-dir", str(state))
    assert f"stopped podwall (pid {pid})" in down.stdout
    assert netns.leftovers(names.cluster_prefix(ident)) == []
    assert not running(pid)
    assert not (state / "state.db").exists()
    assert podwall("status", "--state-dir", str(state)).returncode == 3


def test_kill_9_then_up_brings_back_every_object_and_enforces_policy_first(
    state: Path, tmp_path: Path
) -> None:
    assert podwall("up", "--state-dir", str(state), "--port", "0").returncode == 0
    kubectl = make_kubectl(state / "kubeconfig", tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP), "-f", str(DENY))
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    before = sorted(table(kubectl("get", "pods", "-o", "wide").stdout)[1:])
    pid = int((state / "podwall.pid").read_text())
    agents = [int(f.read_text().split()[0]) for f in state.glob("nodes/*/agent.pid")]
    assert agents
    assert all(running(a) for a in agents)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not running(pid), timeout=SETTLED_SECONDS)
    wait_for(lambda: not any(running(a) for a in agents), timeout=SETTLED_SECONDS)  # they die too

    again = podwall("up", "--state-dir", str(state), "--port", "0")
    assert again.returncode == 0, again.stderr
    kubectl = make_kubectl(state / "kubeconfig", tmp_path / "cache2")  # the port changed
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    after = sorted(table(kubectl("get", "pods", "-o", "wide").stdout)[1:])
    assert [(r[0], r[5]) for r in after] == [(r[0], r[5]) for r in before]  # names and IPs
    assert "backend-ingress-deny" in kubectl("get", "netpol").stdout
    ident = (state / "cluster-id").read_text().strip()
    frontend = next(r[0] for r in after if r[0].startswith("frontend-"))
    service = kubectl("get", "svc", "backend", "-o", "jsonpath={.spec.clusterIP}").stdout
    assert not reaches(ident, frontend, service, 8080)
