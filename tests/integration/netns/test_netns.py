"""NodeSandbox against the real kernel: namespaces, veths, routes, sysctls and real sockets.

Every sandbox here has a random cluster id; its fixture destroys it in a finally, then sweeps
`pw-<id>-` leftovers and checks that no namespace or link of it remains. Traffic runs only between
the sandbox's own namespaces, and the host's namespace is only ever read.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.runtime import names
from podwall.runtime import netns as netns_module
from podwall.runtime.errors import SandboxError
from podwall.runtime.netns import (
    GATEWAY,
    NodeSandbox,
    PodNetwork,
    leftovers,
    read_sysctl,
    remove_leftovers,
    run_in_netns,
)
from tests.integration.netns.kit import (
    PYTHON,
    SRC,
    TCP_ECHO,
    TIMEOUT,
    UDP_ECHO,
    assert_nothing_left,
    finish,
    host_sysctls,
    ip_json,
    new_cluster_id,
    run_in,
    spawn_in,
    stop,
    sysctl_in,
    tcp_client,
    udp_client,
    wait_ready,
)

pytestmark = pytest.mark.netns


@pytest.fixture
def sandbox() -> Iterator[NodeSandbox]:
    cluster_id = new_cluster_id()
    node = NodeSandbox(cluster_id)
    try:
        node.create()
        yield node
    finally:
        try:
            node.destroy()
        finally:
            remove_leftovers(names.cluster_prefix(cluster_id))
    assert_nothing_left(cluster_id)


# --- lifecycle -----------------------------------------------------------------------------------


def test_create_and_destroy_leave_nothing() -> None:
    cluster_id = new_cluster_id()
    node = NodeSandbox(cluster_id, node="n1", index=1)
    try:
        node.create()
        node.create()  # a second call is a no-op
        pods = [node.add_pod(f"default/p{i}") for i in range(3)]
        assert sorted(leftovers(names.cluster_prefix(cluster_id))) == sorted(
            [node.netns, *(pod.netns for pod in pods)]
        )
        assert node.netns == f"pw-{cluster_id}-n1"
    finally:
        node.destroy()
        remove_leftovers(names.cluster_prefix(cluster_id))
    assert_nothing_left(cluster_id)
    node.destroy()  # destroying twice is harmless


def add_a_pod_then_fail(node: NodeSandbox) -> None:
    with node:
        node.add_pod("default/a")
        raise RuntimeError("boom")


def test_context_manager_destroys_on_exception() -> None:
    cluster_id = new_cluster_id()
    try:
        with pytest.raises(RuntimeError, match="boom"):
            add_a_pod_then_fail(NodeSandbox(cluster_id))
    finally:
        remove_leftovers(names.cluster_prefix(cluster_id))
    assert_nothing_left(cluster_id)


def test_an_existing_namespace_is_refused_and_left_alone(sandbox: NodeSandbox) -> None:
    twin = NodeSandbox(sandbox.cluster_id)
    with pytest.raises(SandboxError, match="already exists"):
        twin.create()
    assert leftovers(names.cluster_prefix(sandbox.cluster_id)) == [sandbox.netns]


def test_add_pod_needs_create_first() -> None:
    with pytest.raises(SandboxError, match="before create"):
        NodeSandbox(new_cluster_id()).add_pod("default/a")


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError, match="needs root"):
        NodeSandbox(new_cluster_id()).create()


def test_node_namespace_forwards_and_holds_no_gateway_address(sandbox: NodeSandbox) -> None:
    assert sysctl_in(sandbox.netns, "net.ipv4.ip_forward") == "1"
    loopback = ip_json(sandbox.netns, "link", "show", "lo")[0]
    assert "UP" in loopback["flags"]  # type: ignore[operator]
    addresses = [
        info["local"]
        for link in ip_json(sandbox.netns, "addr", "show")
        for info in link["addr_info"]  # type: ignore[attr-defined]
    ]
    assert str(GATEWAY) not in addresses


# --- pods ----------------------------------------------------------------------------------------


def test_pod_has_its_address_and_a_default_route_via_the_gateway(sandbox: NodeSandbox) -> None:
    pod = sandbox.add_pod("default/web")
    assert pod.netns.startswith(f"pw-{sandbox.cluster_id}-p")
    assert len(pod.host_ifname) <= 15

    eth0 = ip_json(pod.netns, "-4", "addr", "show", "eth0")[0]
    addresses = [(a["local"], a["prefixlen"]) for a in eth0["addr_info"]]  # type: ignore[attr-defined]
    assert addresses == [(str(pod.ip), 32)]
    routes = ip_json(pod.netns, "-4", "route", "show")
    assert routes == [
        {
            "dst": "default",
            "gateway": str(GATEWAY),
            "dev": "eth0",
            "protocol": "static",
            "flags": ["onlink"],
        }
    ]
    node_routes = ip_json(sandbox.netns, "-4", "route", "show", "dev", pod.host_ifname)
    assert [route["dst"] for route in node_routes] == [str(pod.ip)]


def test_two_pods_talk_tcp_through_the_node(sandbox: NodeSandbox) -> None:
    client, server = sandbox.add_pod("default/client"), sandbox.add_pod("default/server")
    proc = spawn_in(server.netns, TCP_ECHO)
    try:
        wait_ready(proc)
        assert run_in(client.netns, tcp_client(server)) == f"{client.ip} hello"
        assert finish(proc) == ""
    finally:
        stop(proc)
    # The pod has only a default route, so the node's veths carried the packets.
    assert node_rx_packets(sandbox, client) > 0
    assert node_rx_packets(sandbox, server) > 0


def test_two_pods_talk_udp_through_the_node(sandbox: NodeSandbox) -> None:
    client, server = sandbox.add_pod("default/client"), sandbox.add_pod("kube-system/dns")
    proc = spawn_in(server.netns, UDP_ECHO)
    try:
        wait_ready(proc)
        assert run_in(client.netns, udp_client(server)) == f"{client.ip} hello"
        assert finish(proc) == ""
    finally:
        stop(proc)


def node_rx_packets(sandbox: NodeSandbox, pod: PodNetwork) -> int:
    link = ip_json(sandbox.netns, "-s", "link", "show", pod.host_ifname)[0]
    return int(link["stats64"]["rx"]["packets"])  # type: ignore[index]


def test_explicit_ip_is_honoured(sandbox: NodeSandbox) -> None:
    wanted = ipaddress.IPv4Address("198.18.7.42")
    pod = sandbox.add_pod("default/fixed", ip=wanted)
    assert pod.ip == wanted
    eth0 = ip_json(pod.netns, "-4", "addr", "show", "eth0")[0]
    assert [a["local"] for a in eth0["addr_info"]] == [str(wanted)]  # type: ignore[attr-defined]


def test_allocation_skips_taken_addresses(sandbox: NodeSandbox) -> None:
    ip = ipaddress.IPv4Address
    sandbox.add_pod("default/a", ip=ip("198.18.0.2"))
    sandbox.add_pod("default/b", ip=ip("198.18.0.4"))
    assert sandbox.add_pod("default/c").ip == ip("198.18.0.3")
    assert sandbox.add_pod("default/d").ip == ip("198.18.0.5")
    with pytest.raises(SandboxError, match="already used by pod default/c"):
        sandbox.add_pod("default/e", ip=ip("198.18.0.3"))
    with pytest.raises(SandboxError, match="outside the pod range"):
        sandbox.add_pod("default/e", ip=ip("10.0.0.5"))
    with pytest.raises(SandboxError, match="already has a network"):
        sandbox.add_pod("default/a")
    assert set(sandbox.pods()) == {"default/a", "default/b", "default/c", "default/d"}


def test_node_index_picks_the_subnet() -> None:
    cluster_id = new_cluster_id()
    try:
        with NodeSandbox(cluster_id, node="n3", index=3) as node:
            assert node.add_pod("default/a").ip == ipaddress.IPv4Address("198.18.3.2")
    finally:
        remove_leftovers(names.cluster_prefix(cluster_id))
    assert_nothing_left(cluster_id)


def test_remove_pod_removes_its_namespace_and_veth(sandbox: NodeSandbox) -> None:
    pod = sandbox.add_pod("default/gone")
    keep = sandbox.add_pod("default/kept")
    sandbox.remove_pod("default/gone")
    assert not Path("/var/run/netns", pod.netns).exists()
    node_links = {link["ifname"] for link in ip_json(sandbox.netns, "link", "show")}
    assert pod.host_ifname not in node_links
    assert keep.host_ifname in node_links
    assert set(sandbox.pods()) == {"default/kept"}
    assert sandbox.add_pod("default/new").ip == pod.ip  # the address is free again
    with pytest.raises(SandboxError, match="no pod"):
        sandbox.remove_pod("default/gone")


@pytest.mark.parametrize("stage", ["pod namespace", "node side"])
def test_a_failed_add_pod_leaves_nothing_behind(
    sandbox: NodeSandbox, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    if stage == "pod namespace":  # fails after the veth pair exists
        monkeypatch.setattr(netns_module, "_POD_SYSCTLS", (("net.ipv4.no_such_sysctl", "1"),))
    else:

        def broken(pod: PodNetwork) -> None:
            raise SandboxError("injected failure")

        monkeypatch.setattr(netns_module, "_attach_host_side", broken)
    with pytest.raises(SandboxError, match="cannot add pod default/a"):
        sandbox.add_pod("default/a")
    assert sandbox.pods() == {}
    assert leftovers(names.cluster_prefix(sandbox.cluster_id)) == [sandbox.netns]
    node_links = {link["ifname"] for link in ip_json(sandbox.netns, "link", "show")}
    assert node_links == {"lo", "pwgw", "pwgw-peer"}


# --- leftovers -----------------------------------------------------------------------------------

CRASH = """
    import os
    from podwall.runtime.netns import NodeSandbox
    node = NodeSandbox("{cluster_id}")
    node.create()
    node.add_pod("default/a")
    node.add_pod("default/b")
    os._exit(3)  # dies without destroy, as on a crash
"""


def test_remove_leftovers_cleans_up_after_a_crash() -> None:
    cluster_id = new_cluster_id()
    prefix = names.cluster_prefix(cluster_id)
    env = {**os.environ, "PYTHONPATH": SRC}
    try:
        crashed = subprocess.run(
            [PYTHON, "-c", textwrap.dedent(CRASH.format(cluster_id=cluster_id))],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 3,
            env=env,
        )
        assert crashed.returncode == 3, crashed.stderr
        found = leftovers(prefix)
        assert len(found) == 3
        assert f"pw-{cluster_id}-n0" in found
        assert remove_leftovers(prefix) == found
        assert leftovers(prefix) == []
    finally:
        remove_leftovers(prefix)
    assert_nothing_left(cluster_id)


def test_leftovers_refuse_a_prefix_that_is_not_podwalls() -> None:
    with pytest.raises(ValueError, match="must start with"):
        leftovers("")
    with pytest.raises(ValueError, match="must start with"):
        remove_leftovers("ns")


# --- sysctls -------------------------------------------------------------------------------------


def test_sysctls_are_set_in_pod_and_node_but_not_on_the_host(sandbox: NodeSandbox) -> None:
    before = host_sysctls()
    pod = sandbox.add_pod("default/sysctl")

    assert sysctl_in(pod.netns, "net.ipv4.ip_unprivileged_port_start") == "0"
    assert sysctl_in(pod.netns, "net.ipv4.ping_group_range").split() == ["0", "2147483647"]
    assert sysctl_in(sandbox.netns, "net.ipv4.ip_forward") == "1"
    assert sysctl_in(sandbox.netns, "net.ipv4.conf.all.forwarding") == "1"
    assert sysctl_in(sandbox.netns, "net.ipv4.conf.all.rp_filter") == "0"
    conf = f"net.ipv4.conf.{pod.host_ifname}"
    assert sysctl_in(sandbox.netns, f"{conf}.proxy_arp") == "1"
    assert sysctl_in(sandbox.netns, f"{conf}.rp_filter") == "0"
    assert sysctl_in(sandbox.netns, f"net.ipv4.neigh.{pod.host_ifname}.proxy_delay") == "0"
    # The module's own way in agrees with `ip netns exec`.
    assert run_in_netns(pod.netns, lambda: read_sysctl("net.ipv4.ip_unprivileged_port_start"))
    assert run_in_netns(sandbox.netns, lambda: read_sysctl("net.ipv4.ip_forward")) == "1"

    assert host_sysctls() == before
    assert not Path("/proc/sys/net/ipv4/conf", pod.host_ifname).exists()


def test_the_callers_thread_never_changes_namespace(sandbox: NodeSandbox) -> None:
    before = os.stat("/proc/thread-self/ns/net").st_ino
    sandbox.add_pod("default/a")
    inside = run_in_netns(sandbox.netns, lambda: os.stat("/proc/thread-self/ns/net").st_ino)
    assert inside != before
    assert os.stat("/proc/thread-self/ns/net").st_ino == before


# --- measurement ---------------------------------------------------------------------------------


def test_time_to_add_50_pods(sandbox: NodeSandbox) -> None:
    started = time.perf_counter()
    for i in range(50):
        sandbox.add_pod(f"bench/pod-{i}")
    elapsed = time.perf_counter() - started
    print(f"\nadd 50 pods: {elapsed:.2f} s ({elapsed / 50 * 1000:.1f} ms per pod)")
    assert len(sandbox.pods()) == 50
    started = time.perf_counter()
    sandbox.destroy()
    elapsed = time.perf_counter() - started
    print(f"destroy 50 pods and the node: {elapsed:.2f} s")
