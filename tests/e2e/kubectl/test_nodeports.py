"""A NodePort Service on a running two-node cluster, with the real kubectl, as labs use one:
`kubectl expose --type=NodePort`, then wget `NODE_IP:nodePort` from a pod and from the node
(a hostNetwork pod), on every node's address; the endpoint's NetworkPolicy still decides; the
API server's allocation errors in upstream's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl, wait_for
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns]

NODES = ("node-1", "node-2")
CLIENTS = "\n---\n".join(
    f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{app: {app}}}}}
spec:
  nodeName: {node}
  hostNetwork: {str(host).lower()}
  containers: [{{name: c, image: busybox, command: [sleep, "3600"]}}]
"""
    for node in NODES
    for name, app, host in (
        (f"client-{node}", "client", False),
        (f"host-{node}", "host", True),
    )
)
WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: node-2
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
"""
DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny}
spec:
  podSelector: {matchLabels: {app: web}}
"""
ALLOW_CLIENTS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-clients}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Path]]:
    tmp = tmp_path_factory.mktemp("nodeports")
    local = LocalCluster(tmp / "state", port=0, nodes=len(NODES))
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        (tmp / "app.yaml").write_text(WEB + "\n---\n" + CLIENTS)
        kubectl("apply", "-f", str(tmp / "app.yaml"))
        wait_for(lambda: ready(kubectl) == 5, timeout=PODS_READY_SECONDS)
        yield kubectl, tmp
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def ready(kubectl: Kubectl) -> int:
    rows = table(kubectl("get", "pods").stdout)[1:]
    return sum(1 for row in rows if row[1:3] == ["1/1", "Running"])


def node_ips(kubectl: Kubectl) -> list[str]:
    path = '{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'
    return kubectl("get", "nodes", "-o", f"jsonpath={path}").stdout.split()


def wget(kubectl: Kubectl, pod: str, url: str) -> str:
    """What busybox's wget in `pod` printed: the page, or its error."""
    done = kubectl("exec", pod, "--", "wget", "-q", "-O-", "-T", "2", url, check=False)
    return done.stdout if done.returncode == 0 else f"exit {done.returncode}: {done.stderr}"


def exposed(kubectl: Kubectl) -> tuple[int, list[str]]:
    if kubectl("get", "svc", "web", check=False).returncode != 0:
        out = kubectl("expose", "deployment", "web", "--type=NodePort", "--port=80").stdout
        assert out == "service/web exposed\n"
    jsonpath = "jsonpath={.spec.ports[0].nodePort}"
    return int(kubectl("get", "svc", "web", "-o", jsonpath).stdout), node_ips(kubectl)


def test_expose_allocates_a_node_port_kubectl_shows(live: tuple[Kubectl, Path]) -> None:
    kubectl, _ = live
    port, _ = exposed(kubectl)
    assert 30000 <= port <= 32767
    header, row = table(kubectl("get", "svc", "web").stdout)
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert row[1] == "NodePort"
    assert re.fullmatch(r"198\.19\.\d+\.\d+", row[2])
    assert row[3:5] == ["<none>", f"80:{port}/TCP"]


def test_every_node_serves_the_node_port_to_pods_and_nodes(live: tuple[Kubectl, Path]) -> None:
    kubectl, _ = live
    port, ips = exposed(kubectl)
    assert len(ips) == len(NODES)
    assert all(ip.startswith("198.18.") for ip in ips)
    # Each node's agent loads the new node port a moment after the Service is created.
    for ip in ips:
        url = f"http://{ip}:{port}/"
        wait_for(
            lambda u=url: "Welcome to nginx" in wget(kubectl, "client-node-1", u), SETTLED_SECONDS
        )
    for node in NODES:
        for client in (f"client-{node}", f"host-{node}"):
            for ip in ips:
                page = wget(kubectl, client, f"http://{ip}:{port}/")
                assert "Welcome to nginx" in page, f"{client} -> {ip}:{port}: {page}"


def test_the_endpoints_policy_decides_node_port_traffic(live: tuple[Kubectl, Path]) -> None:
    kubectl, tmp = live
    port, ips = exposed(kubectl)
    (tmp / "deny.yaml").write_text(DENY)
    (tmp / "allow.yaml").write_text(ALLOW_CLIENTS)
    try:
        # The endpoint's node loads each policy a moment after it is applied: wait for it.
        kubectl("apply", "-f", str(tmp / "deny.yaml"))
        for ip in ips:
            url = f"http://{ip}:{port}/"
            wait_for(
                lambda u=url: wget(kubectl, "client-node-1", u).startswith("exit 1"),
                SETTLED_SECONDS,
            )
        kubectl("apply", "-f", str(tmp / "allow.yaml"))
        for ip in ips:
            url = f"http://{ip}:{port}/"
            wait_for(
                lambda u=url: "Welcome to nginx" in wget(kubectl, "client-node-1", u),
                SETTLED_SECONDS,
            )
        # node-1's own processes are no `client` pod: the allow rule does not open it to them
        assert wget(kubectl, "host-node-1", f"http://{ips[1]}:{port}/").startswith("exit 1")
    finally:
        kubectl("delete", "-f", str(tmp / "deny.yaml"), "-f", str(tmp / "allow.yaml"))


REFUSED = 'error: failed to create NodePort service: Service "bad" is invalid: '


@pytest.mark.parametrize(
    ("node_port", "message"),
    [
        (
            "80",
            "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
            "The range of valid ports is 30000-32767",
        ),
        (
            None,
            "spec.ports[0].nodePort: Invalid value: {taken}: provided port is already allocated",
        ),
    ],
    ids=["out of range", "already allocated"],
)
def test_a_refused_node_port_in_upstreams_words(
    live: tuple[Kubectl, Path], node_port: str | None, message: str
) -> None:
    kubectl, _ = live
    taken, _ = exposed(kubectl)
    wanted = node_port or str(taken)
    done = kubectl(
        "create", "service", "nodeport", "bad", "--tcp=80", f"--node-port={wanted}", check=False
    )
    assert done.returncode == 1
    assert done.stderr == REFUSED + message.format(taken=taken) + "\n"


def test_a_change_to_cluster_ip_releases_the_node_port(live: tuple[Kubectl, Path]) -> None:
    kubectl, _ = live
    kubectl("create", "service", "nodeport", "moving", "--tcp=80", "--node-port=30999")
    patch = '{"spec": {"type": "ClusterIP"}}'
    kubectl("patch", "svc", "moving", "-p", patch)
    assert kubectl("get", "svc", "moving", "-o", "jsonpath={.spec.ports[0].nodePort}").stdout == ""
    kubectl("create", "service", "nodeport", "taker", "--tcp=80", "--node-port=30999")
    kubectl("delete", "svc", "moving", "taker")
