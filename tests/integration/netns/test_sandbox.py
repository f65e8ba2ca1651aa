"""A sandbox of three nodes with their rulesets: services, cluster DNS and policy across nodes.

Pods are pinned with `spec.nodeName`; each node's table is compiled for that node alone. What
each test shows is where a verdict is taken: removing one node's table must change it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.nft.ruleset import TABLE
from podwall.runtime import system
from tests.integration.netns.kit import (
    PYTHON,
    SRC,
    THREE_NODE_PODS,
    TIMEOUT,
    ThreeNodes,
    dial,
    run_in,
    running_while_used,
    three_nodes,
)

pytestmark = pytest.mark.netns


class Running(ThreeNodes):
    """The sandbox of `three_nodes()`, every pod's network made, the server pod serving."""

    def service_ip(self, key: str) -> str:
        svc = next(s for s in self.cluster.services if s.key == key)
        assert svc.cluster_ip is not None
        return svc.cluster_ip

    def drop_table(self, node: str) -> None:
        netns = self.sandbox.nodes[node].network.netns
        subprocess.run(
            ["ip", "netns", "exec", netns, "nft", "delete", "table", "inet", TABLE],
            check=True,
            timeout=TIMEOUT,
        )


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    """The sandbox, with the policy YAML of an indirect parameter if there is one."""
    yield from running_while_used(Running(three_nodes(getattr(request, "param", ""))))


def test_pods_are_on_the_nodes_their_manifests_name(running: Running) -> None:
    for name, node in THREE_NODE_PODS.items():
        assert running.ips[name] in running.sandbox.nodes[node].network.subnet
    assert running.sandbox.nodes["node-2"].address is not None


def test_a_service_on_one_node_is_reached_from_the_others(running: Running) -> None:
    address = running.service_ip("default/server")
    for client in ("client-a", "friend", "client-c"):  # node-1, node-2 (beside it), node-3
        # DNAT on the client's node, no SNAT: the server sees the client's own address.
        assert dial(running.netns[client], address, 8080) == str(running.ips[client])


DNS_QUERY = """
    import socket, time
    from dnslib import DNSRecord
    question = DNSRecord.question("server.default.svc.cluster.local")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
    for _ in range(20):  # the server may still be starting: at most ~10 s
        s.sendto(question.pack(), ("198.19.0.10", 53))
        try:
            print(DNSRecord.parse(s.recv(512)).short()); break
        except TimeoutError:
            continue
    else:
        print("no answer")
"""


def test_cluster_dns_on_one_node_answers_pods_of_every_node(running: Running) -> None:
    dns_pod = f"{system.DNS_NAMESPACE}/{system.DNS_POD}"
    dns_node = next(p.node for p in running.cluster.pods if p.key == dns_pod)
    assert dns_node == "node-1"
    records = Path(tempfile.mkdtemp(prefix="podwall-test-dns-"))
    try:
        records.chmod(0o755)  # the server reads it as uid 65534
        (records / "dns.json").write_text(system.dns_records(running.cluster))
        (records / "dns.json").chmod(0o644)
        server = subprocess.Popen(
            ["ip", "netns", "exec", running.netns[system.DNS_POD], PYTHON, "-m",
             "podwall.runtime.dns", "--records", str(records / "dns.json"), "--port", "53"],
            env={**os.environ, "PYTHONPATH": SRC}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        running.procs.append(server)
        for client in ("client-a", "server", "client-c"):  # node-1, node-2, node-3
            assert run_in(running.netns[client], DNS_QUERY) == running.service_ip("default/server")
    finally:
        shutil.rmtree(records, ignore_errors=True)


ONLY_FROM_FRIEND = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-from-friend, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {app: friend}}}]}]
"""


@pytest.mark.parametrize("running", [ONLY_FROM_FRIEND], indirect=True, ids=["only-from-friend"])
def test_ingress_is_enforced_on_the_destination_node(running: Running) -> None:
    server = running.ips["server"]
    assert dial(running.netns["friend"], server) == str(running.ips["friend"])
    assert dial(running.netns["client-a"], server, timeout=1) == "error:timeout"
    assert dial(running.netns["client-c"], server, timeout=1) == "error:timeout"
    # node-1 holds no rule against its own pod's traffic: without node-2's table it passes.
    running.drop_table("node-2")
    assert dial(running.netns["client-a"], server) == str(running.ips["client-a"])


NO_EGRESS_FROM_A = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: default}
spec:
  podSelector: {matchLabels: {app: client-a}}
  policyTypes: [Egress]
"""


@pytest.mark.parametrize("running", [NO_EGRESS_FROM_A], indirect=True, ids=["no-egress"])
def test_egress_is_enforced_on_the_source_node(running: Running) -> None:
    server = running.ips["server"]
    assert dial(running.netns["client-a"], server, timeout=1) == "error:timeout"
    assert dial(running.netns["client-c"], server) == str(running.ips["client-c"])
    running.drop_table("node-2")  # the destination's node never decided it
    assert dial(running.netns["client-a"], server, timeout=1) == "error:timeout"
    running.drop_table("node-1")
    assert dial(running.netns["client-a"], server) == str(running.ips["client-a"])
