"""The attached editor's real flows: every node's ring followed, the selected pods' kept."""

from __future__ import annotations

from pathlib import Path

from podwall.editor.flows import RecentFlows, for_kubeconfig
from podwall.flows import files
from podwall.flows.flow import FlowEndpoint, Verdict
from podwall.flows.ring import RingFile
from tests.unit.flows.samples import OUTSIDE, flow

OTHER = FlowEndpoint(ip="198.18.0.9", port=80, namespace="team", pod="other")


def _ring(directory: Path, node: str) -> RingFile:
    return RingFile(files.ring_path(directory, node), 100)


def test_the_flows_of_the_pods_asked_for_from_every_node(tmp_path: Path) -> None:
    one, two = _ring(tmp_path, "node-1"), _ring(tmp_path, "node-2")
    one.append([flow(1.0, node="node-1"), flow(2.0, source=OUTSIDE, destination=OTHER)])
    two.append([flow(3.0, node="node-2", verdict=Verdict.DENIED, policies=("default/deny",))])
    recent = RecentFlows(tmp_path)
    found = recent.of(["default/backend"], 10)
    assert [(f["node"], f["verdict"]) for f in found] == [
        ("node-1", "ALLOWED"),
        ("node-2", "DENIED"),
    ]
    assert found[0]["destinationKey"] == "default/backend"
    assert found[1]["text"].endswith("denied by default/deny")
    one.append([flow(4.0, node="node-1", source=OTHER)])  # read at the next call, not before
    assert [f["node"] for f in recent.of(["team/other"], 10)] == ["node-1", "node-1"]
    assert len(recent.of(["default/backend", "team/other"], 2)) == 2  # the last two
    one.close()
    two.close()
    recent.close()


def test_no_flows_directory_yet_is_no_flows_until_one_appears(tmp_path: Path) -> None:
    recent = RecentFlows(tmp_path / "flows")
    assert recent.of(["default/backend"], 10) == []
    ring = _ring(tmp_path / "flows", "node-1")
    ring.append([flow(1.0)])
    ring.close()
    assert len(recent.of(["default/backend"], 10)) == 1
    recent.close()


def test_the_flows_of_a_podwall_up_kubeconfig_are_found_by_its_cluster_id(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    assert for_kubeconfig(state / "kubeconfig", tmp_path / "run") is None  # not podwall up's
    (state / "cluster-id").write_text("c0ffee\n")
    found = for_kubeconfig(state / "kubeconfig", tmp_path / "run")
    assert found is not None
    assert found.directory == files.flows_dir("c0ffee", tmp_path / "run")
