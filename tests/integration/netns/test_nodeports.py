"""A NodePort Service in a sandbox of three nodes: every node's address serves the node port,
to pods and to the nodes' own processes, and the endpoint's NetworkPolicy still decides. The
nodes' own processes reach its ClusterIP too, as on a node with kube-proxy.

The server pod is on node-2; pods and nodes dial each node's address on the node port. The
server answers with the address it saw the client come from: the client's own (no SNAT).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from podwall.engine.decide import decide
from podwall.engine.endpoints import Endpoint, Traffic
from podwall.model.cluster import Cluster, Node
from podwall.model.labels import Labels
from podwall.model.record import replace
from tests.integration.netns.kit import (
    ThreeNodes,
    dial,
    running_while_used,
    three_nodes,
)

pytestmark = pytest.mark.netns

NODE_PORT = 30080


def manifests(policy: str) -> Cluster:
    return three_nodes(
        policy,
        {"type": "NodePort", "ports": [{"port": 8080, "targetPort": 80, "nodePort": NODE_PORT}]},
    )


class Running(ThreeNodes):
    """The sandbox, its Nodes' addresses in the snapshot, the server pod serving."""

    def snapshot(self) -> Cluster:
        nodes = tuple(
            Node(name=name, labels=Labels({}), addresses=(node.address,))
            for name, node in self.sandbox.nodes.items()
            if node.address is not None
        )
        assert len(nodes) == 3
        return replace(self.cluster, nodes=nodes)

    def node_address(self, node: str) -> str:
        return str(self.sandbox.nodes[node].address)

    def node_netns(self, node: str) -> str:
        return self.sandbox.nodes[node].network.netns


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    """The sandbox, with the policy YAML of an indirect parameter if there is one."""
    yield from running_while_used(Running(manifests(getattr(request, "param", ""))))


def test_every_node_address_serves_the_node_port_to_pods(running: Running) -> None:
    for node in ("node-1", "node-2", "node-3"):
        address = running.node_address(node)
        for client in ("client-a", "friend", "client-c"):
            # DNAT on the client's node, no SNAT: the server sees the client's own address.
            assert dial(running.netns[client], address, NODE_PORT) == str(running.ips[client])


def test_every_node_address_serves_the_node_port_to_the_nodes(running: Running) -> None:
    for node in ("node-1", "node-2", "node-3"):
        for target in ("node-1", "node-2", "node-3"):
            got = dial(running.node_netns(node), running.node_address(target), NODE_PORT)
            assert got == running.node_address(node), f"{node} -> {target}"


def _cluster_ip(running: Running) -> str:
    svc = next(s for s in running.cluster.services if s.key == "default/server")
    assert svc.cluster_ip is not None
    return svc.cluster_ip


def test_every_node_dials_the_cluster_ip_as_kube_proxy_lets_it(running: Running) -> None:
    """A node's own processes reach a ClusterIP (DNAT at output), from the node's address."""
    for node in ("node-1", "node-2", "node-3"):
        got = dial(running.node_netns(node), _cluster_ip(running), 8080)
        assert got == running.node_address(node), node


def test_a_service_address_nothing_serves_is_unreachable_from_a_node(running: Running) -> None:
    unserved = str(ipaddress.ip_address(_cluster_ip(running)) + 1)
    assert dial(running.node_netns("node-1"), unserved, 8080) == "error:ENETUNREACH"
    assert dial(running.node_netns("node-1"), _cluster_ip(running), 8081) == "error:ENETUNREACH"


def test_another_port_of_a_node_is_not_translated(running: Running) -> None:
    got = dial(running.netns["client-a"], running.node_address("node-2"), NODE_PORT + 1)
    assert got == "error:ECONNREFUSED"  # nothing listens there on the node itself


DENY_SERVER = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
"""
ALLOW_FROM_A = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-a, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client-a}}}]}]
"""


@pytest.mark.parametrize("running", [DENY_SERVER], indirect=True, ids=["default-deny"])
def test_a_default_deny_ingress_blocks_node_port_traffic(running: Running) -> None:
    for node in ("node-1", "node-2"):
        address = running.node_address(node)
        for client in ("client-a", "friend", "client-c"):
            assert dial(running.netns[client], address, NODE_PORT, timeout=1) == "error:timeout"


@pytest.mark.parametrize(
    "running", [DENY_SERVER + ALLOW_FROM_A], indirect=True, ids=["deny-then-allow-a"]
)
def test_an_allow_rule_opens_node_port_traffic_to_its_peer_only(running: Running) -> None:
    for node in ("node-1", "node-3"):
        address = running.node_address(node)
        assert dial(running.netns["client-a"], address, NODE_PORT) == str(running.ips["client-a"])
        assert dial(running.netns["client-c"], address, NODE_PORT, timeout=1) == "error:timeout"


def test_the_node_port_comes_and_goes_with_the_service_type(running: Running) -> None:
    """Incremental updates of the real tables: the node port fragment leaves and returns."""
    address = running.node_address("node-2")
    served = running.cluster
    svc = next(s for s in served.services if s.key == "default/server")
    ports = tuple(replace(sp, node_port=None) for sp in svc.ports)
    others = tuple(s for s in served.services if s is not svc)
    retyped = (*others, replace(svc, ports=ports))
    running.sandbox.sync(replace(served, services=retyped))
    assert dial(running.netns["client-a"], address, NODE_PORT) == "error:ECONNREFUSED"
    assert dial(running.netns["client-a"], svc.cluster_ip, 8080) == str(running.ips["client-a"])
    running.sandbox.sync(served)
    assert dial(running.netns["client-a"], address, NODE_PORT) == str(running.ips["client-a"])


@pytest.mark.parametrize("running", [DENY_SERVER], indirect=True, ids=["default-deny"])
def test_a_pods_own_node_gets_in_whatever_its_policies_and_the_engine_says_so(
    running: Running,
) -> None:
    """NetworkPolicySpec.ingress: "Traffic is allowed to a pod if ... the traffic source is
    the pod's local node". The server is on node-2 and isolated with nothing allowed in."""
    server_ip = str(running.ips["server"])
    assert dial(running.node_netns("node-2"), server_ip, 80) == running.node_address("node-2")
    assert dial(running.node_netns("node-1"), server_ip, 80, timeout=1) == "error:timeout"
    # The same through the Service's ClusterIP, DNATed on the dialling node.
    cluster_ip = _cluster_ip(running)
    assert dial(running.node_netns("node-2"), cluster_ip, 8080) == running.node_address("node-2")
    assert dial(running.node_netns("node-1"), cluster_ip, 8080, timeout=1) == "error:timeout"
    server = next(p for p in running.cluster.pods if p.name == "server")
    for node, allowed in (("node-2", True), ("node-1", False)):
        source = Endpoint.of_ip(ipaddress.ip_address(running.node_address(node)))
        traffic = Traffic(src=source, dst=Endpoint.of_pod(server), port=80)
        assert decide(running.cluster, traffic).allowed is allowed, node
