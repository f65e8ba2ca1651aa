"""container.training (Jérôme Petazzoni's Kubernetes workshops), *Network policies*
(slides/k8s/netpol.md), its DockerCoins part verbatim with the real kubectl: DockerCoins
deployed as slides/k8s/ourapponkube.md does (`kubectl create deployment` of `redis` and
`dockercoins/{hasher,rng,webui,worker}:v0.1`, `kubectl expose` of redis on 6379, rng and hasher
on 80, webui as a NodePort on 80), then k8s/netpol-dockercoins.yaml applied and removed.

What the slides say, checked: before the exposes `rng` is fine but not `worker` (its log says
`In work loop:`); after them the worker works (`N units of work done, updating hash counter`)
and the web UI's hash count (its `/json`, read from a node on the node port, as the reader's
browser does) goes up. With the policies the web UI is still reached from outside and the app
still works (the count still goes up), and `rng` and `hasher` can no longer be reached through
their ClusterIP; `kubectl delete networkpolicies --all` opens them again.

"Through their ClusterIP" is tried from outside the namespace two ways: `curl` of the ClusterIP
on a node (the reader's shell on `node1`), from a node the pod is not on (a pod's own node may
always reach it: NetworkPolicy lets every connection from the pod's node in), in a two-node
cluster; and from a pod of another namespace (`kubectl run --rm -i`, as the chapter's first
part does).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

NETPOL_DOCKERCOINS = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: deny-from-other-namespaces
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {}
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: allow-webui
spec:
  podSelector:
    matchLabels:
      app: webui
  ingress:
  - from: []
"""
SERVICES = ("hasher", "rng", "webui", "worker")
NODES = ("node-1", "node-2")
OTHER = "elsewhere"
# The worker retries 10 s after an error; then a unit of work takes about 0.3 s.
SETTLE = 60
WORKING = re.compile(r"INFO:__main__:[1-9][0-9]* units of work done, updating hash counter")


class Cluster:
    """The reader's view: kubectl, and curl in a shell on a node."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def node_of(self, app: str) -> str:
        out = self.lab.kubectl("get", "pods", "-l", f"app={app}", "-o",
                               "jsonpath={.items[0].spec.nodeName}")  # fmt: skip
        return out.strip()

    def other_node(self, app: str) -> str:
        where = self.node_of(app)
        return next(node for node in NODES if node != where)

    def cluster_ip(self, service: str) -> str:
        return self.lab.kubectl("get", "svc", service, "-o", "jsonpath={.spec.clusterIP}")

    def curl_from_a_node(self, app: str) -> str:
        """`curl -m3 CLUSTER-IP` from a node the pod is not on; what it printed and its status."""
        ip = self.cluster_ip(app).strip()
        return self.lab.on_node(self.other_node(app), f"curl -sS -m3 {ip}; echo rc=$?")

    def curl_from_elsewhere(self, service: str) -> str:
        """`curl -m3 CLUSTER-IP` from a pod of another namespace (`kubectl run --rm -i`)."""
        return self.lab.kubectl("run", "testcurl", "-n", OTHER, "--rm", "-i", "--image=centos",
                                "--", "curl", "-sS", "-m3", self.cluster_ip(service),
                                check=False)  # fmt: skip

    def webui(self, path: str) -> str:
        """The web UI as the reader's browser gets it: a node's address, the node port."""
        port = self.lab.kubectl("get", "svc", "webui", "-o",
                                "jsonpath={.spec.ports[0].nodePort}").strip()  # fmt: skip
        jsonpath = '{.items[0].status.addresses[?(@.type=="InternalIP")].address}'
        address = self.lab.kubectl("get", "nodes", "-o", f"jsonpath={jsonpath}").strip()
        return self.lab.on_node("node-1", f"curl -sS -m5 http://{address}:{port}{path}")

    def hashes(self) -> int:
        data = json.loads(self.webui("/json"))
        assert set(data) == {"coins", "hashes", "now"}, data
        return int(data["hashes"] or 0)

    def hashes_go_up(self) -> tuple[int, int]:
        """The hash count now, and once it has gone up (within SETTLE seconds)."""
        first = self.hashes()
        deadline = time.monotonic() + SETTLE
        later = first
        while later <= first and time.monotonic() < deadline:
            time.sleep(2)
            later = self.hashes()
        return first, later

    def settled(self, probe: Callable[[], str], done: Callable[[str], bool]) -> str:
        """What `probe()` printed, again until `done` holds on it (within SETTLE s): a policy
        created or deleted is enforced on the nodes a moment after kubectl returns, as on any
        cluster, and a loaded machine makes that moment longer."""
        deadline = time.monotonic() + SETTLE
        out = probe()
        while not done(out) and time.monotonic() < deadline:
            time.sleep(1)
            out = probe()
        return out

    def worker_logs_until(self, pattern: re.Pattern[str]) -> str:
        """`kubectl logs deploy/worker`, again until it shows `pattern` (within SETTLE s)."""
        return self.settled(
            lambda: self.lab.kubectl("logs", "deploy/worker"),
            lambda out: pattern.search(out) is not None,
        )


@pytest.mark.parametrize("lab", [2], indirect=True)
def test_container_training_network_policies_for_dockercoins(lab: Lab) -> None:
    """https://github.com/jpetazzo/container.training/blob/main/slides/k8s/netpol.md"""
    k8s = lab.work / "container.training" / "k8s"
    k8s.mkdir(parents=True)
    (k8s / "netpol-dockercoins.yaml").write_text(NETPOL_DOCKERCOINS)
    cluster = Cluster(lab)

    # ourapponkube.md: "Running our application on Kubernetes".
    out = lab.kubectl("create", "deployment", "redis", "--image=redis")
    assert out.strip() == "deployment.apps/redis created"
    for service in SERVICES:
        out = lab.kubectl("create", "deployment", service, f"--image=dockercoins/{service}:v0.1")
        assert out.strip() == f"deployment.apps/{service} created"
    lab.kubectl("wait", "deploy/rng", "--for", "condition=available")
    lab.kubectl("wait", "deploy/worker", "--for", "condition=available")
    out = lab.kubectl("logs", "deploy/rng")
    assert "Running on" in out, out
    out = cluster.worker_logs_until(re.compile("Waiting 10s and restarting."))
    assert "ERROR:__main__:In work loop:" in out, out  # "rng is fine ... But not worker."

    for service, port in (("redis", "6379"), ("rng", "80"), ("hasher", "80")):
        out = lab.kubectl("expose", "deployment", service, "--port", port)
        assert out.strip() == f"service/{service} exposed"
    out = cluster.worker_logs_until(WORKING)
    assert WORKING.search(out), out

    out = lab.kubectl("expose", "deploy/webui", "--type=NodePort", "--port=80")
    assert out.strip() == "service/webui exposed"
    out = lab.kubectl("get", "svc")
    assert re.search(r"webui\s+NodePort\s+\S+\s+<none>\s+80:3[0-9]{4}/TCP", out), out
    lab.kubectl("wait", "deploy/webui", "--for", "condition=available")
    assert "<title>DockerCoin Miner WebUI</title>" in cluster.webui("/index.html")
    first, later = cluster.hashes_go_up()
    assert later > first, (first, later)
    lab.kubectl("create", "namespace", OTHER)
    for service, banner in (("rng", "RNG running on rng-"), ("hasher", "HASHER running on ")):
        assert banner in cluster.curl_from_a_node(service)
        assert banner in cluster.curl_from_elsewhere(service)

    # "Applying both network policies".
    out = lab.kubectl("apply", "-f", str(k8s / "netpol-dockercoins.yaml"))
    assert out.splitlines() == [
        "networkpolicy.networking.k8s.io/deny-from-other-namespaces created",
        "networkpolicy.networking.k8s.io/allow-webui created",
    ], out
    # "Check that we can still access the web UI from outside (and that the app is still
    # working correctly!)"
    assert "<title>DockerCoin Miner WebUI</title>" in cluster.webui("/index.html")
    first, later = cluster.hashes_go_up()
    assert later > first, (first, later)
    # "Check that we can't connect anymore to rng or hasher through their ClusterIP"
    for service in ("rng", "hasher"):
        out = cluster.settled(
            lambda s=service: cluster.curl_from_a_node(s), lambda out: "timed out" in out
        )
        assert "timed out" in out, out
        assert out.strip().endswith("rc=28"), out
        out = cluster.settled(
            lambda s=service: cluster.curl_from_elsewhere(s), lambda out: "timed out" in out
        )
        assert "curl: (28) Connection timed out after 300" in out, out

    # "Cleaning up our network policies".
    out = lab.kubectl("delete", "networkpolicies", "--all")
    assert sorted(out.splitlines()) == [
        'networkpolicy.networking.k8s.io "allow-webui" deleted',
        'networkpolicy.networking.k8s.io "deny-from-other-namespaces" deleted',
    ], out
    for service, banner in (("rng", "RNG running on rng-"), ("hasher", "HASHER running on ")):
        out = cluster.settled(
            lambda s=service: cluster.curl_from_a_node(s), lambda out, b=banner: b in out
        )
        assert banner in out, out
        out = cluster.settled(
            lambda s=service: cluster.curl_from_elsewhere(s), lambda out, b=banner: b in out
        )
        assert banner in out, out
