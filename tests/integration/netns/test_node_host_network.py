"""A host-network pod on a sandbox node: its processes run in the node's own namespace (never
the machine's), under a name of the pod's own that goes with the pod, the node's staying."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from podwall.model.ports import Protocol
from podwall.runtime import connect, images, netns
from podwall.runtime.names import random_cluster_id
from podwall.runtime.node import ContainerPlan, Node, PodPlan, pids_in_netns
from podwall.runtime.probe import AGNHOST
from tests.unit.agent.apiserver import wait_for

PORT = 34345


def _plan(name: str, ip: str, *, host_network: bool) -> PodPlan:
    spec = images.ContainerSpec(image=AGNHOST, args=("serve", "--tcp-ports", str(PORT)))
    container = ContainerPlan(name="c", image=AGNHOST, env={}, launch=images.resolve(spec))
    return PodPlan(
        namespace="default",
        name=name,
        ip=ipaddress.IPv4Address(ip),
        containers=(container,),
        host_network=host_network,
        node_hostname="worker",
    )


def _answers(netns_name: str, address: str) -> bool:
    attempt = connect.Attempt(netns=netns_name, address=address, port=PORT, protocol=Protocol.TCP)
    return connect.try_once(attempt, timeout=0.5)


def _same_netns(a: str, b: str) -> bool:
    first, second = os.stat(netns.netns_path(a)), os.stat(netns.netns_path(b))
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


@pytest.mark.netns
def test_a_host_network_pod_listens_in_the_nodes_namespace(tmp_path: Path) -> None:
    cluster_id = random_cluster_id()
    run_dir = Path("/run/podwall") / cluster_id
    node = Node(cluster_id, run_dir=run_dir, log_dir=tmp_path / "logs", flow_log=None)
    try:
        node.start()
        results = node.start_pod(_plan("centaur-0", "198.18.0.1", host_network=True))
        assert results == {"c": None}
        node.start_pod(_plan("harry-0", "198.18.0.2", host_network=False))
        centaur, harry = node.pods["default/centaur-0"], node.pods["default/harry-0"]
        assert _same_netns(centaur.netns, node.sandbox.netns)
        assert not _same_netns(harry.netns, node.sandbox.netns)
        wait_for(lambda: node.listening("default/centaur-0", (PORT,)), "centaur listening")
        # The node's namespace answers on the port; the pod beside it is another namespace.
        assert _answers(node.sandbox.netns, "127.0.0.1")
        process = centaur.processes["c"]
        assert process.pid in pids_in_netns(node.sandbox.netns)
        assert "default/centaur-0" not in node.sandbox.pods()
        node.stop_pod("default/centaur-0")
        assert not netns.netns_path(centaur.netns).exists()
        assert netns.netns_path(node.sandbox.netns).exists()
        assert not _answers(node.sandbox.netns, "127.0.0.1")
    finally:
        node.stop()
    assert not netns.netns_path(node.sandbox.netns).exists()
