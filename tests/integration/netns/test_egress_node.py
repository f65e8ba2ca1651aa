"""A pod's connections to its own node, on real packets: delivered locally (the input hook),
never forwarded, they still meet the pod's egress policy, as the engine says; only ingress from
the pod's own node is exempt. The node's own connections into the pod, and its own traffic,
pass whatever the pod's egress.

The sandbox of test_nodeports: friend runs on node-2, whose own namespace serves on
`NODE_PORT_HERE` (a process of the node, as a host-network pod is); friend serves on 80.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from podwall.engine.decide import decide
from podwall.engine.endpoints import Endpoint, Traffic
from podwall.model.cluster import Cluster
from podwall.model.record import replace
from tests.integration.netns.kit import (
    TCP_ECHO_MANY,
    assert_nothing_left,
    dial,
    spawn_in,
    wait_ready,
)
from tests.integration.netns.test_nodeports import Running, manifests

pytestmark = pytest.mark.netns

NODE_PORT_HERE = 8081
DENY_FRIEND_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-out, namespace: default}
spec:
  podSelector: {matchLabels: {app: friend}}
  policyTypes: [Egress]
"""
ALLOW_TO_NODE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: to-node, namespace: default}
spec:
  podSelector: {matchLabels: {app: friend}}
  egress: [{to: [{ipBlock: {cidr: ADDRESS/32}}], ports: [{port: PORT}]}]
"""


@pytest.fixture
def running() -> Iterator[Running]:
    """The sandbox with friend denied all egress; node-2 and friend serving."""
    run = Running(manifests(DENY_FRIEND_EGRESS))
    try:
        run.start()
        servers = (
            (run.node_netns("node-2"), NODE_PORT_HERE),
            (run.netns["friend"], 80),
        )
        for netns, port in servers:
            code = TCP_ECHO_MANY.replace('"0.0.0.0", 80', f'"0.0.0.0", {port}')
            proc = spawn_in(netns, code)
            run.procs.append(proc)
            wait_ready(proc)
        yield run
    finally:
        run.close()
    assert_nothing_left(run.sandbox.cluster_id)


def _to_node(run: Running) -> tuple[str, bool]:
    """What friend's dial of its own node's server got, and what the engine decides."""
    address = run.node_address("node-2")
    got = dial(run.netns["friend"], address, NODE_PORT_HERE, timeout=1)
    friend = next(p for p in run.cluster.pods if p.name == "friend")
    node = Endpoint.of_ip(ipaddress.ip_address(address))
    traffic = Traffic(src=Endpoint.of_pod(friend), dst=node, port=NODE_PORT_HERE)
    return got, decide(run.cluster, traffic).allowed


def _with_allow(run: Running) -> Cluster:
    text = ALLOW_TO_NODE.replace("ADDRESS", run.node_address("node-2"))
    added = manifests(text.replace("PORT", str(NODE_PORT_HERE))).policies
    extra = tuple(p for p in added if p.name == "to-node")
    return replace(run.cluster, policies=run.cluster.policies + extra)


def test_a_pod_denied_egress_cannot_reach_its_own_node_until_a_rule_allows_it(
    running: Running,
) -> None:
    """Each step an incremental update of the real tables; the engine agrees on each."""
    friend_ip = str(running.ips["friend"])
    assert _to_node(running) == ("error:timeout", False)
    denied = running.cluster
    running.cluster = _with_allow(running)
    running.sandbox.sync(running.cluster)
    assert _to_node(running) == (friend_ip, True)  # no SNAT: the node sees the pod
    running.cluster = denied
    running.sandbox.sync(running.cluster)
    assert _to_node(running) == ("error:timeout", False)


def test_the_node_still_reaches_the_pod_and_itself(running: Running) -> None:
    """Replies to the node's own connection into the pod are established, not judged; the
    node's own connection to itself is no pod's egress."""
    node_netns, address = running.node_netns("node-2"), running.node_address("node-2")
    assert dial(node_netns, running.ips["friend"], 80) == address
    assert dial(node_netns, address, NODE_PORT_HERE) == address
    friend = next(p for p in running.cluster.pods if p.name == "friend")
    node = Endpoint.of_ip(ipaddress.ip_address(address))
    traffic = Traffic(src=node, dst=Endpoint.of_pod(friend), port=80)
    assert decide(running.cluster, traffic).allowed
