"""The underlay against the real kernel: a fabric namespace routing between node namespaces.

Each test builds its own fabric and nodes under a random cluster id and removes them by name in
a finally, then checks that nothing of them remains. Traffic runs only between the sandbox's
own namespaces, to sandbox addresses (198.18.0.0/16).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from podwall.runtime import names
from podwall.runtime.addressplan import node_address
from podwall.runtime.errors import SandboxError
from podwall.runtime.netns import GATEWAY, NodeSandbox, leftovers, remove_leftovers
from podwall.runtime.underlay import Underlay, fabric_ifname
from tests.integration.netns.kit import (
    PYTHON,
    SRC,
    TCP_ECHO,
    TCP_ECHO_MANY,
    TIMEOUT,
    UDP_ECHO,
    assert_nothing_left,
    dial,
    finish,
    host_sysctls,
    ip_json,
    new_cluster_id,
    run_in,
    rx_packets,
    spawn_in,
    stop,
    tcp_client,
    udp_client,
    wait_ready,
)

pytestmark = pytest.mark.netns

ip = ipaddress.IPv4Address


class Nodes:
    """An underlay and nodes node-1 … node-N on it (index i - 1), all removed on close."""

    def __init__(self, count: int) -> None:
        self.cluster_id = new_cluster_id()
        self.underlay = Underlay(self.cluster_id)
        self.nodes: list[NodeSandbox] = []
        self._stack = ExitStack()
        self._stack.callback(remove_leftovers, names.cluster_prefix(self.cluster_id))
        self._stack.callback(self.underlay.destroy)
        self.underlay.create()
        for _ in range(count):
            self.add()

    def add(self) -> NodeSandbox:
        index = len(self.nodes)
        node = NodeSandbox(
            self.cluster_id, f"node-{index + 1}", index, underlay=self.underlay.netns
        )
        self._stack.callback(node.destroy)
        node.create()
        self.nodes.append(node)
        return node

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def three() -> Iterator[Nodes]:
    nodes = Nodes(3)
    try:
        yield nodes
    finally:
        nodes.close()
    assert_nothing_left(nodes.cluster_id)


def serve(netns: str, code: str = TCP_ECHO_MANY) -> subprocess.Popen[str]:
    proc = spawn_in(netns, code)
    try:
        wait_ready(proc)
    except BaseException:
        stop(proc)
        raise
    return proc


# --- layout --------------------------------------------------------------------------------------


def test_a_node_holds_its_address_and_routes_other_nodes_pods_to_the_fabric(three: Nodes) -> None:
    before = host_sysctls()
    node = three.nodes[1]
    assert node.address == node_address(1) == ip("198.18.255.2")
    uplink = ip_json(node.netns, "-4", "addr", "show", "pwup")[0]
    assert [(a["local"], a["prefixlen"]) for a in uplink["addr_info"]] == [  # type: ignore[attr-defined]
        ("198.18.255.2", 32)
    ]
    routes = ip_json(node.netns, "-4", "route", "show", "dev", "pwup")
    assert [(r["dst"], r.get("gateway")) for r in routes] == [
        ("default", str(GATEWAY)),
        ("198.18.0.0/16", str(GATEWAY)),
    ]

    fabric = ip_json(three.underlay.netns, "-4", "route", "show", "dev", fabric_ifname(1))
    assert {(r["dst"], r.get("gateway")) for r in fabric} == {
        ("198.18.255.2", None),
        ("198.18.1.0/24", "198.18.255.2"),
    }
    rules = ip_json(three.underlay.netns, "-4", "rule", "show")
    assert {"priority": 1001, "src": "all", "dst": "198.18.1.0", "dstlen": 24,
            "iif": "pwn1", "action": "unreachable"} in rules  # fmt: skip
    assert host_sysctls() == before


# --- traffic -------------------------------------------------------------------------------------


def test_pods_on_two_nodes_talk_tcp_with_their_own_addresses(three: Nodes) -> None:
    client = three.nodes[0].add_pod("default/client")
    server = three.nodes[1].add_pod("default/server")
    assert client.ip in three.nodes[0].subnet
    assert server.ip in three.nodes[1].subnet
    proc = spawn_in(server.netns, TCP_ECHO)
    try:
        wait_ready(proc)
        # The server sees the client's own address: routed, not translated.
        assert run_in(client.netns, tcp_client(server)) == f"{client.ip} hello"
        assert finish(proc) == ""
    finally:
        stop(proc)
    # Both nodes carried it, over their uplinks.
    assert rx_packets(three.nodes[0].netns, "pwup") > 0
    assert rx_packets(three.nodes[1].netns, "pwup") > 0


def test_pods_on_two_nodes_talk_udp(three: Nodes) -> None:
    client = three.nodes[2].add_pod("default/client")
    server = three.nodes[0].add_pod("kube-system/dns")
    proc = spawn_in(server.netns, UDP_ECHO)
    try:
        wait_ready(proc)
        assert run_in(client.netns, udp_client(server)) == f"{client.ip} hello"
        assert finish(proc) == ""
    finally:
        stop(proc)


def test_an_address_outside_its_node_range_is_routed_to_its_node(three: Nodes) -> None:
    borrowed = ip("198.18.0.77")  # in node-1's range, held by a pod of node-2
    server = three.nodes[1].add_pod("default/server", ip=borrowed)
    owner = three.nodes[0].add_pod("default/owner-side")
    other = three.nodes[2].add_pod("default/other")
    proc = serve(server.netns)
    try:
        assert dial(owner.netns, borrowed) == str(owner.ip)
        assert dial(other.netns, borrowed) == str(other.ip)
    finally:
        stop(proc)
    three.nodes[1].remove_pod("default/server")
    fabric = ip_json(three.underlay.netns, "-4", "route", "show", "dev", fabric_ifname(1))
    assert str(borrowed) not in {r["dst"] for r in fabric}


@pytest.mark.parametrize(
    ("target", "from_node"),
    [
        pytest.param("198.18.1.99", 0, id="another node's range, no such pod"),
        pytest.param("198.18.1.99", 1, id="its own node's range, no such pod"),
        pytest.param("198.18.9.9", 0, id="a range no node has"),
        pytest.param("169.254.169.254", 0, id="outside the sandbox, by the node's default route"),
    ],
)
def test_an_address_no_pod_holds_is_refused_not_looped(
    three: Nodes, target: str, from_node: int
) -> None:
    # A packet looping between a node and the fabric would end in a timeout; the fabric's
    # unreachable (its rule, or no route at all) answers at once.
    client = three.nodes[from_node].add_pod("default/client")
    assert dial(client.netns, target, timeout=5) == "error:ENETUNREACH"


def test_a_node_reaches_pods_from_its_own_address(three: Nodes) -> None:
    local = three.nodes[0].add_pod("default/local")
    remote = three.nodes[1].add_pod("default/remote")
    procs = [serve(local.netns), serve(remote.netns)]
    try:
        assert dial(three.nodes[0].netns, local.ip) == "198.18.255.1"
        assert dial(three.nodes[0].netns, remote.ip) == "198.18.255.1"
    finally:
        for proc in procs:
            stop(proc)


def test_a_node_joins_a_running_underlay() -> None:
    nodes = Nodes(2)
    try:
        server = nodes.nodes[0].add_pod("default/server")
        proc = serve(server.netns)
        try:
            late = nodes.add()
            client = late.add_pod("default/late")
            assert client.ip in ipaddress.IPv4Network("198.18.2.0/24")
            assert dial(client.netns, server.ip) == str(client.ip)
        finally:
            stop(proc)
    finally:
        nodes.close()
    assert_nothing_left(nodes.cluster_id)


# --- refusals and leftovers ----------------------------------------------------------------------


def test_an_index_attached_twice_is_refused_and_leaves_nothing_of_it(three: Nodes) -> None:
    twin = NodeSandbox(three.cluster_id, "twin", 1, underlay=three.underlay.netns)
    with pytest.raises(SandboxError, match="already attached"):
        twin.create()
    assert f"pw-{three.cluster_id}-twin" not in leftovers(names.cluster_prefix(three.cluster_id))
    # The node that holds the index keeps its link.
    assert ip_json(three.underlay.netns, "link", "show", fabric_ifname(1))


def test_attaching_needs_the_fabric() -> None:
    cluster_id = new_cluster_id()
    node = NodeSandbox(cluster_id, "node-1", 0, underlay=names.fabric_netns(cluster_id))
    try:
        with pytest.raises(SandboxError, match="no fabric namespace"):
            node.create()
    finally:
        remove_leftovers(names.cluster_prefix(cluster_id))
    assert_nothing_left(cluster_id)


def test_fabric_is_not_a_node_name() -> None:
    with pytest.raises(ValueError, match="not be 'fabric'"):
        NodeSandbox(new_cluster_id(), "fabric")


CRASH = """
    import os
    from podwall.runtime.netns import NodeSandbox
    from podwall.runtime.underlay import Underlay
    fabric = Underlay("{cluster_id}")
    fabric.create()
    for i in range(2):
        node = NodeSandbox("{cluster_id}", f"node-{{i + 1}}", i, underlay=fabric.netns)
        node.create()
        node.add_pod(f"default/p{{i}}")
    os._exit(3)  # dies without destroy, as on a crash
"""


def test_remove_leftovers_cleans_up_a_crashed_multi_node_sandbox() -> None:
    cluster_id = new_cluster_id()
    prefix = names.cluster_prefix(cluster_id)
    try:
        crashed = subprocess.run(
            [PYTHON, "-c", textwrap.dedent(CRASH.format(cluster_id=cluster_id))],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 3,
            env={**os.environ, "PYTHONPATH": SRC},
        )
        assert crashed.returncode == 3, crashed.stderr
        found = leftovers(prefix)
        assert len(found) == 5  # the fabric, two nodes, two pods
        assert {f"{prefix}fabric", f"{prefix}node-1", f"{prefix}node-2"} <= set(found)
        assert remove_leftovers(prefix) == found
    finally:
        remove_leftovers(prefix)
    assert_nothing_left(cluster_id)
