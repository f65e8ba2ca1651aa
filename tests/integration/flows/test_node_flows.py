"""A `podwall up` node reports its verdicts to its ring file, and `podwall observe` reads them
there: the path from the kernel to the user, without the API server."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from podwall.flows import files
from podwall.model.ports import Protocol
from podwall.runtime import connect, images
from podwall.runtime.names import random_cluster_id
from podwall.runtime.node import ContainerPlan, Node, PodPlan
from podwall.runtime.probe import AGNHOST
from tests.builders import make_cluster, policy
from tests.clirunner import Result, invoke
from tests.unit.agent.apiserver import wait_for

PODS = """
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {nodeName: podwall, containers: [{name: c}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
spec: {nodeName: podwall, containers: [{name: c, ports: [{containerPort: 8080}]}]}
status: {podIP: 198.18.0.3}
"""
DENY = policy("server-deny", "default", "podSelector: {matchLabels: {app: server}}")
DENIED = (
    "-> default/server:8080 TCP INGRESS DENIED: denied by the default deny of default/server-deny"
)


def _plan(name: str, ip: str) -> PodPlan:
    spec = images.ContainerSpec(image=AGNHOST, args=("serve", "--tcp-ports", "8080"))
    launch = images.resolve(spec)
    container = ContainerPlan(name="c", image=AGNHOST, env={}, launch=launch)
    return PodPlan(
        namespace="default", name=name, ip=ipaddress.IPv4Address(ip), containers=(container,)
    )


@pytest.mark.netns
@pytest.mark.slow
def test_observe_shows_what_the_node_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster_id = random_cluster_id()
    run_root, state = tmp_path / "run", tmp_path / "state"
    state.mkdir()
    (state / "cluster-id").write_text(cluster_id + "\n")
    monkeypatch.setattr(files, "RUN_ROOT", run_root)
    node = Node(
        cluster_id, run_dir=run_root / cluster_id, log_dir=tmp_path / "logs", node_name="podwall"
    )
    try:
        node.start()
        node.sync(make_cluster(DENY, base=PODS))
        node.start_pod(_plan("client", "198.18.0.2"))
        node.start_pod(_plan("server", "198.18.0.3"))
        # The server listens, so a refused connection can only be the policy's doing.
        wait_for(lambda: node.listening("default/server", (8080,)), "the server listening")
        attempt = connect.Attempt(
            netns=node.pods["default/client"].netns,
            address="198.18.0.3",
            port=8080,
            protocol=Protocol.TCP,
        )
        assert not connect.try_once(attempt, timeout=0.5)

        def observed() -> Result:
            args = ["observe", "--state-dir", str(state), "--to", "server"]
            return invoke(args)

        # The kernel batches its log messages and the node's reader polls: the flow reaches
        # the ring a moment after the packet was dropped (a sleep was a guess at how long).
        wait_for(lambda: DENIED in observed().output, "the denial in the ring")
        result = observed()
    finally:
        node.stop()
    assert result.exit_code == 0
    assert "default/client:" in result.output
    assert DENIED in result.output
