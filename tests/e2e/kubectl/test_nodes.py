"""`podwall up --nodes 3` with the real kubectl: three node agents, each its own process.

One cluster (a `LocalCluster` in this process, three agents forked beside it) serves every
test here, in order: the nodes are Ready with their addresses; replicas spread over them;
every node reaches every other's pods, the Service and cluster DNS, and a policy holds on
every node (checked with `kubectl exec ... curl`, so exec runs on whichever node the pod is);
an agent killed with SIGKILL leaves its node's rules in force and a replacement converges; the
API server stopped and started again (its part alone: the agents keep running) is rejoined by
every agent, which then enforce what changed; `podwall observe` shows what every node denied,
from the nodes' ring files and from the agents' `/flows`. Everything is removed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.cli import observe
from podwall.cli.observe import run_observe
from podwall.cluster.local import LocalCluster
from podwall.flows import files
from podwall.flows.filters import FlowFilter
from podwall.flows.flow import Flow, Verdict
from podwall.runtime import names, netns
from tests.clirunner import invoke
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl, wait_for
from tests.e2e.kubectl.watching import (
    PODS_READY_SECONDS,
    READY_COLUMNS,
    SETTLED_SECONDS,
    Watch,
)

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

CURL = "docker.io/byrnedo/alpine-curl:0.1.8"
APP = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: docker.io/cilium/json-mock:1.2
        env: [{{name: PORT, value: "8080"}}]
        ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 8080}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: client}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: client}}}}
  template:
    metadata: {{labels: {{app: client}}}}
    spec:
      containers:
      - {{name: c, image: "{CURL}", command: [/bin/ash, -c, sleep 1000000000]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: other}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: other}}}}
  template:
    metadata: {{labels: {{app: other}}}}
    spec:
      containers:
      - {{name: c, image: "{CURL}", command: [/bin/ash, -c, sleep 1000000000]}}
"""
ONLY_CLIENTS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-clients}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
"""
NODES = ["node-1", "node-2", "node-3"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCluster, Kubectl]]:
    tmp = tmp_path_factory.mktemp("nodes")
    local = LocalCluster(tmp / "state", port=0, nodes=3)
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        (tmp / "app.yaml").write_text(APP)
        kubectl("apply", "-f", str(tmp / "app.yaml"))
        wait_for(lambda: ready(kubectl) == 9, timeout=PODS_READY_SECONDS)
        yield local, kubectl
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def ready(kubectl: Kubectl) -> int:
    rows = table(kubectl("get", "pods").stdout)[1:]
    return sum(1 for row in rows if row[1:3] == ["1/1", "Running"])


def node_ready(kubectl: Kubectl, node: str) -> str:
    return table(kubectl("get", "node", node).stdout)[1][1]


def pods(kubectl: Kubectl) -> list[list[str]]:
    """`kubectl get pods -o wide`: NAME READY STATUS RESTARTS AGE IP NODE ..."""
    return table(kubectl("get", "pods", "-o", "wide").stdout)[1:]


def of(kubectl: Kubectl, app: str) -> dict[str, tuple[str, str]]:
    """node -> (pod, IP) of the app's pods."""
    return {r[6]: (r[0], r[5]) for r in pods(kubectl) if r[0].startswith(f"{app}-")}


def curl(kubectl: Kubectl, pod: str, url: str) -> int:
    """The exit status of `curl` in `pod` (0: answered, 28: timed out)."""
    done = kubectl(
        "exec", pod, "--", "curl", "-s", "-o", "/dev/null", "--max-time", "2", url, check=False
    )
    return done.returncode


def apply(kubectl: Kubectl, tmp: Path, text: str) -> None:
    path = tmp / "policy.yaml"
    path.write_text(text)
    kubectl("apply", "-f", str(path))


def test_three_nodes_are_ready_with_their_addresses(
    cluster: tuple[LocalCluster, Kubectl],
) -> None:
    _, kubectl = cluster
    rows = table(kubectl("get", "nodes", "-o", "wide").stdout)
    assert rows[0][:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [
        ("node-1", "Ready", "198.18.255.1"),
        ("node-2", "Ready", "198.18.255.2"),
        ("node-3", "Ready", "198.18.255.3"),
    ]


def test_replicas_spread_and_every_node_reaches_every_node_under_policy(
    cluster: tuple[LocalCluster, Kubectl], tmp_path: Path
) -> None:
    _, kubectl = cluster
    web, clients, others = of(kubectl, "web"), of(kubectl, "client"), of(kubectl, "other")
    assert sorted(web) == sorted(clients) == sorted(others) == NODES  # one replica per node
    for node, (_, ip) in web.items():
        assert ip.startswith(f"198.18.{NODES.index(node)}.")  # each node's own range
    # Ready pods are not yet the Service's endpoints on every node: those follow the pods.
    for client, _ in clients.values():  # the Service, by name, from every node
        wait_for(lambda c=client: curl(kubectl, c, "http://web:8080/") == 0, SETTLED_SECONDS)
    first_client = clients["node-1"][0]
    for _, ip in web.values():  # each node's pod, across the underlay
        assert curl(kubectl, first_client, f"http://{ip}:8080/") == 0

    apply(kubectl, tmp_path, ONLY_CLIENTS)
    # Each node loads the policy on its own, and the Service picks any node's web pod: wait
    # until every web pod's node denies before asserting what each node's pods see.
    for _, ip in web.values():
        denied = f"http://{ip}:8080/"
        wait_for(lambda u=denied: curl(kubectl, others["node-1"][0], u) == 28, SETTLED_SECONDS)
    for node in NODES:
        other = others[node][0]
        assert curl(kubectl, other, "http://web:8080/") == 28
        for _, ip in web.values():
            assert curl(kubectl, other, f"http://{ip}:8080/") == 28
        assert curl(kubectl, clients[node][0], "http://web:8080/") == 0
    kubectl("delete", "networkpolicy", "web-from-clients")


def _observe(*args: str) -> list[dict[str, Any]]:
    result = invoke(["observe", "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def test_observe_merges_every_node_from_the_rings_and_from_the_agents(
    cluster: tuple[LocalCluster, Kubectl], tmp_path: Path
) -> None:
    local, kubectl = cluster
    apply(kubectl, tmp_path, ONLY_CLIENTS)
    web, others = of(kubectl, "web"), of(kubectl, "other")
    for node in NODES:  # each node denies, in its own ruleset, the connection to its web pod
        other = others[node][0]
        url = f"http://{web[node][1]}:8080/"
        wait_for(lambda o=other, u=url: curl(kubectl, o, u) == 28, SETTLED_SECONDS)
    kubectl("delete", "networkpolicy", "web-from-clients")
    agents = [
        json.loads((local.run_dir / node / "agent.json").read_text())["health"] for node in NODES
    ]
    reason = "denied by the default deny of default/web-from-clients"
    expected = {(n, web[n][1]) for n in NODES}
    for source in (
        ["--state-dir", str(local.state_dir)],
        [a for u in agents for a in ("--agent", u)],
    ):
        args = (*source, "--verdict", "DENIED", "--last", "1000", "--port", "8080")
        # A denial reaches the rings and the agents' buffers a moment after the packet dropped.
        wait_for(lambda a=args: expected <= _decided(_observe(*a)), SETTLED_SECONDS)
        rows = _observe(*args)
        assert {r["node"] for r in rows} == set(NODES), source
        assert {r["reason"] for r in rows} == {reason}
        assert expected <= _decided(rows)  # each node its own web pod
    counted = (
        'podwall_flow_connections_total{direction="ingress",namespace="default",'
        'policy="web-from-clients",rule="default-deny",verdict="DENIED"} '
    )
    for url in agents:  # each node's agent counts what its node denied
        wait_for(lambda u=url: _counted(u, counted) >= 1, SETTLED_SECONDS)


def _decided(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(node, destination IP) of each flow."""
    return {(r["node"], r["destination"]["ip"]) for r in rows}


def _counted(agent: str, series: str) -> float:
    """The value of `series` in the agent's /metrics; 0 while it is not there."""
    with urllib.request.urlopen(agent + "/metrics", timeout=10) as reply:
        metrics = reply.read().decode()
    lines = [x for x in metrics.splitlines() if x.startswith(series)]
    assert len(lines) <= 1, lines
    return float(lines[0].split()[-1]) if lines else 0.0


class _Gated:
    """run_observe's follower, watched by the test: `polled` once its first poll (the history)
    is read, so what happens after is new to it; stopped, as a user's ^C stops `observe -f`,
    once the test saw what it waits for (a count of polls bounds nothing on a loaded machine)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.polled = threading.Event()
        self.stop = threading.Event()

    def poll(self) -> list[Flow]:
        if self.stop.is_set():
            raise KeyboardInterrupt
        flows: list[Flow] = self.inner.poll()
        self.polled.set()
        return flows

    def close(self) -> None:
        self.inner.close()


def test_observe_follows_every_node(
    cluster: tuple[LocalCluster, Kubectl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, kubectl = cluster
    apply(kubectl, tmp_path, ONLY_CLIENTS)
    web, others = of(kubectl, "web"), of(kubectl, "other")
    for node in NODES:  # each node loads the policy on its own
        url = f"http://{web[node][1]}:8080/"
        wait_for(lambda o=others[node][0], u=url: curl(kubectl, o, u) == 28, SETTLED_SECONDS)
    agents = [
        json.loads((local.run_dir / node / "agent.json").read_text())["health"] for node in NODES
    ]
    directory = files.flows_dir(local.cluster_id, local.run_dir.parent)
    denied = FlowFilter(verdicts=(Verdict.DENIED,))
    followers: list[_Gated] = []
    make_follower = observe._follower

    def gated(source: Any) -> _Gated:
        followers.append(_Gated(make_follower(source)))
        return followers[-1]

    monkeypatch.setattr(observe, "_follower", gated)
    shown: dict[str, list[Flow]] = {"rings": [], "agents": []}
    threads = [
        threading.Thread(
            target=run_observe,
            args=(source, denied),
            kwargs={"follow": True, "last": 0, "show": shown[name].append},
        )
        for name, source in (("rings", directory), ("agents", agents))
    ]
    expected = {(n, web[n][1]) for n in NODES}

    def seen() -> bool:
        return all(
            {(f.node, f.destination.ip) for f in flows} >= expected for flows in shown.values()
        )

    for thread in threads:
        thread.start()
    try:
        wait_for(
            lambda: len(followers) == 2 and all(f.polled.is_set() for f in followers),
            SETTLED_SECONDS,
        )
        for node in NODES:  # what follows is new to both followers
            assert curl(kubectl, others[node][0], f"http://{web[node][1]}:8080/") == 28
        # The denials reach the rings and the agents' buffers a moment after the packets.
        wait_for(seen, SETTLED_SECONDS)
    finally:
        for follower in followers:
            follower.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        kubectl("delete", "networkpolicy", "web-from-clients")
    assert not any(thread.is_alive() for thread in threads)
    for name, flows in shown.items():
        assert {(f.node, f.destination.ip) for f in flows} >= expected, name


def killed(local: LocalCluster, node: str, pid: int) -> bool:
    """Whether the agent `pid` of `node` is gone (its replacement may run already)."""
    assert local.agents is not None
    return local.agents.pid(node) != pid or not local.agents.alive(node)


def test_a_killed_agent_leaves_its_rules_and_a_replacement_converges(
    cluster: tuple[LocalCluster, Kubectl], tmp_path: Path
) -> None:
    local, kubectl = cluster
    agents = local.agents
    assert agents is not None
    apply(kubectl, tmp_path, ONLY_CLIENTS)
    web = of(kubectl, "web")
    other = of(kubectl, "other")["node-1"][0]
    victim = "node-2"
    url = f"http://{web[victim][1]}:8080/"
    wait_for(lambda: curl(kubectl, other, url) == 28, timeout=SETTLED_SECONDS)
    pid = agents.pid(victim)
    assert pid is not None
    restarts = agents.restarts[victim]
    # Watched, not polled: the replacement starts a second after the kill, and the window
    # in which the node is not Ready can close before a poll of kubectl comes round.
    with (
        Watch(local, "node", victim, "-o", READY_COLUMNS) as node_seen,
        Watch(
            local, "pods", "--field-selector", f"spec.nodeName={victim}", "-o", READY_COLUMNS
        ) as pods_seen,
    ):
        os.kill(pid, signal.SIGKILL)
        # Dead, or already replaced: "not alive" alone lasts only until the replacement runs.
        wait_for(lambda: killed(local, victim, pid), timeout=SETTLED_SECONDS)
        # No agent on node-2 now: its ruleset still isolates web there.
        assert curl(kubectl, other, url) == 28
        wait_for(lambda: agents.restarts[victim] > restarts, timeout=SETTLED_SECONDS)
        wait_for(
            lambda: node_ready(kubectl, victim) == "Ready" and ready(kubectl) == 9,
            timeout=PODS_READY_SECONDS,
        )
    # up heard of it: the node was not Ready, nor were its pods, until the replacement ran them.
    assert {"Unknown", "False"} & {ready for _, ready in node_seen.rows}, node_seen.rows
    assert ("web", "False") in {(name.split("-")[0], ready) for name, ready in pods_seen.rows}, (
        pods_seen.rows
    )
    again = of(kubectl, "web")
    assert again[victim][1] == web[victim][1]  # restarted with the address it had
    client = of(kubectl, "client")["node-3"][0]
    assert curl(kubectl, client, f"http://{again[victim][1]}:8080/") == 0
    assert curl(kubectl, other, f"http://{again[victim][1]}:8080/") == 28
    kubectl("delete", "networkpolicy", "web-from-clients")


def test_the_api_server_restarted_every_agent_reconnects_and_converges(
    cluster: tuple[LocalCluster, Kubectl], tmp_path: Path
) -> None:
    local, kubectl = cluster
    pids = {n: local.agents.pid(n) for n in NODES}  # type: ignore[union-attr]
    local.restart_server()
    assert {n: local.agents.pid(n) for n in NODES} == pids  # type: ignore[union-attr]
    apply(kubectl, tmp_path, ONLY_CLIENTS)  # a change the agents learn after reconnecting
    others = of(kubectl, "other")
    web = of(kubectl, "web")
    for node in NODES:
        wait_for(
            lambda n=node: curl(kubectl, others[n][0], f"http://{web['node-1'][1]}:8080/") == 28,
            timeout=SETTLED_SECONDS,
        )
    # The kubelets' own watches came back too: a new pod on every node starts.
    kubectl("scale", "deployment", "client", "--replicas", "6")
    wait_for(lambda: ready(kubectl) == 12, timeout=PODS_READY_SECONDS)
    assert sorted(
        n for n, *_ in [(r[6],) for r in pods(kubectl) if r[0].startswith("client-")]
    ) == sorted(NODES * 2)
    # It may be a new client: every web pod's node admits it once its agent learnt its address.
    client = of(kubectl, "client")["node-3"][0]
    wait_for(lambda: curl(kubectl, client, "http://web:8080/") == 0, SETTLED_SECONDS)
