"""The probe session's servers: a host-network pod serves in its node's namespace, on the
ports the probe asks for, low ones included."""

from __future__ import annotations

import pytest

from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.runtime.connect import Attempt, try_all
from podwall.runtime.probe import Session


def _pod(name: str, *, host_network: bool) -> dict[str, object]:
    spec: dict[str, object] = {"containers": [{"name": "c", "image": "busybox"}]}
    if host_network:
        spec["hostNetwork"] = True
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": spec,
    }


@pytest.mark.netns
@pytest.mark.parametrize("port", [80, 8080], ids=["below-1024", "above-1024"])
def test_a_host_network_pod_serves_the_probed_port_in_its_nodes_namespace(port: int) -> None:
    manifests = [_pod("centaur", host_network=True), _pod("harry", host_network=False)]
    cluster = convert_cluster(RawObject(body=m) for m in manifests).cluster
    serve = [(port, Protocol.TCP)]
    with Session(cluster, serve=serve, nodes=1, progress=lambda _: None) as s:
        s.start()
        centaur = next(p for p in s.cluster.pods if p.host_network)
        node = s.netns_of[centaur.key]
        assert node == s.sandbox.nodes[str(centaur.node)].network.netns
        loopback = Attempt(netns=node, address="127.0.0.1", port=port, protocol=Protocol.TCP)
        assert try_all([loopback], timeout=1.0) == [True]
