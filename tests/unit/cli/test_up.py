"""`podwall status`'s node and pod lines: columns line up whatever the names' lengths."""

from __future__ import annotations

from typing import Any

from podwall.cli.up import node_lines, pod_lines


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
