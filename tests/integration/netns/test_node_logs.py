"""A pod's logs on a sandbox node go with the pod: a pod made later under the same name (as
`kubectl run busybox --rm ...` twice) shows its own output only, as the kubelet, which keeps
logs by pod UID, shows it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from podwall.runtime import containerlogs, images
from podwall.runtime.names import random_cluster_id
from podwall.runtime.node import ContainerPlan, Node, PodPlan
from tests.unit.agent.apiserver import wait_for


def _echo(word: str) -> PodPlan:
    spec = images.ContainerSpec(image="busybox", command=("echo", word))
    container = ContainerPlan(name="c", image="busybox", env={}, launch=images.resolve(spec))
    return PodPlan(
        namespace="default",
        name="busybox",
        ip=ipaddress.IPv4Address("198.18.0.1"),
        containers=(container,),
    )


def _output(node: Node) -> str:
    """The container's log once it has exited."""
    wait_for(lambda: bool(node.exited()), "the container's exit")
    pod = node.pods["default/busybox"]
    return containerlogs.log_path(pod.log_dir, "c").read_text()


@pytest.mark.netns
def test_a_pod_made_again_under_a_deleted_ones_name_has_only_its_own_log(tmp_path: Path) -> None:
    cluster_id = random_cluster_id()
    node = Node(cluster_id, run_dir=Path("/run/podwall") / cluster_id,
                log_dir=tmp_path / "logs", flow_log=None)  # fmt: skip
    try:
        node.start()
        assert node.start_pod(_echo("one")) == {"c": None}
        assert _output(node) == "one\n"
        log_dir = node.pods["default/busybox"].log_dir
        node.stop_pod("default/busybox")
        assert not log_dir.exists()
        assert node.start_pod(_echo("two")) == {"c": None}
        assert _output(node) == "two\n"
    finally:
        node.stop()
