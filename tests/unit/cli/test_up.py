"""`podwall status`'s node and pod lines: columns line up whatever the names' lengths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podwall.cli.up import node_lines, pod_lines
from tests.clirunner import invoke


def _pod(namespace: str, name: str, phase: str, ip: str, node: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name},
        "status": {"phase": phase, "podIP": ip},
        "spec": {"nodeName": node},
    }


def _node(name: str, ready: bool, address: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "addresses": [{"type": "InternalIP", "address": address}],
        },
    }


def test_pod_columns_line_up() -> None:
    lines = pod_lines(
        [
            _pod("default", "backend-66964cdff8-tfjl2", "Running", "198.18.1.3", "node-2"),
            _pod("default", "not-frontend-f646c9c96-dd65m", "Pending", "", ""),
            _pod("kube-system", "coredns-7bcfcdfd5b-45w6z", "Running", "198.18.0.10", "node-1"),
        ]
    )
    assert lines == [
        "default/backend-66964cdff8-tfjl2      Running  198.18.1.3   node-2",
        "default/not-frontend-f646c9c96-dd65m  Pending",
        "kube-system/coredns-7bcfcdfd5b-45w6z  Running  198.18.0.10  node-1",
    ]


def test_node_columns_line_up() -> None:
    lines = node_lines([_node("node-1", True, "198.18.255.1"), _node("node-10", False, "")])
    assert lines == ["node-1   Ready     198.18.255.1", "node-10  NotReady"]


def test_no_pods_no_lines() -> None:
    assert pod_lines([]) == []


def test_kubeconfig_prints_the_path_and_says_when_no_cluster_wrote_it(tmp_path: Path) -> None:
    result = invoke(["kubeconfig", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout == f"{tmp_path / 'kubeconfig'}\n"
    assert "does not exist yet: `podwall up` writes it" in result.stderr
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    result = invoke(["kubeconfig", "--state-dir", str(tmp_path)])
    assert (result.stdout, result.stderr) == (f"{tmp_path / 'kubeconfig'}\n", "")


def test_status_of_a_missing_kubeconfig_is_bad_input_named_as_in_the_review_commands(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "kubeconfig"
    status = invoke(["status", "--kubeconfig", str(missing)])
    check = invoke(["check", "--kubeconfig", str(missing), "--from", "a/b", "--to", "c/d"])
    assert (status.exit_code, check.exit_code) == (2, 2)
    assert status.output == check.output == f"error: {missing}: no kubeconfig there\n"
