"""The probe session: a host-network pod serves in its node's namespace, on the ports the probe
asks for, low ones included; each pod probe is tried as often as asked."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.runtime import connect
from podwall.runtime.connect import Attempt, try_all
from podwall.runtime.probe import Session


def _pod(name: str, *, host_network: bool) -> dict[str, Any]:
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


@pytest.mark.netns
@pytest.mark.parametrize("tries", [1, 3])
def test_probe_pods_tries_each_probe_as_often_as_asked(
    tries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-to-b", "namespace": "default"},
        "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"]},
    }
    manifests = [_pod("a", host_network=False), _pod("b", host_network=False), deny]
    cluster = convert_cluster(RawObject(body=m) for m in manifests).cluster
    made: list[Attempt] = []
    real_try_once = connect.try_once

    def counted(attempt: Attempt, timeout: float) -> bool:
        made.append(attempt)
        return real_try_once(attempt, timeout)

    with Session(cluster, serve=[(80, Protocol.TCP)], nodes=1, progress=lambda _: None) as s:
        s.start()
        monkeypatch.setattr(connect, "try_once", counted)
        probes, _ = s.probe_pods(timeout=0.3, only=(80, Protocol.TCP), tries=tries)
    observed = {(p.src, p.dst): p.observed for p in probes}
    assert observed == {("default/a", "default/b"): False, ("default/b", "default/a"): True}
    # The allowed probe answers at its first try; the denied one is tried `tries` times.
    assert len(made) == 1 + tries
