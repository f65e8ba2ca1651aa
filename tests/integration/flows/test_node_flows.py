"""A `podwall up` node reports its verdicts to its ring file, and `podwall observe` reads them
there: the path from the kernel to the user, without the API server."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from podwall.flows import files
from podwall.model.ports import Protocol
from podwall.runtime import connect, images
from podwall.runtime.names import random_cluster_id
from podwall.runtime.node import ContainerPlan, Node, PodPlan
from podwall.runtime.probe import AGNHOST
from tests.builders import make_cluster, policy

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
        deadline = time.monotonic() + 10
        while not node.listening("default/server", (8080,)) and time.monotonic() < deadline:
            time.sleep(0.1)
        attempt = connect.Attempt(
            netns=node.pods["default/client"].netns,
            address="198.18.0.3",
            port=8080,
            protocol=Protocol.TCP,
        )
        assert not connect.try_once(attempt, timeout=0.5)
        time.sleep(0.5)  # the kernel's batch and the reader's poll
        result = CliRunner().invoke(
            cli, ["observe", "--state-dir", str(state), "--to", "server"], catch_exceptions=False
        )
    finally:
        node.stop()
    assert result.exit_code == 0
    assert "default/client:" in result.output
    assert (
        "-> default/server:8080 TCP INGRESS DENIED: "
        "denied by the default deny of default/server-deny"
    ) in result.output
