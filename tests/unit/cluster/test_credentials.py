"""Each node's own credentials: tokens kept across restarts, a kubeconfig per node."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from podwall.apiserver import kubeconfig
from podwall.cluster import credentials


def test_each_node_has_its_own_token_and_keeps_it(tmp_path: Path) -> None:
    first = credentials.ensure_tokens(tmp_path, ["node-1", "node-2"])
    assert len(set(first.values())) == 2
    again = credentials.ensure_tokens(tmp_path, ["node-1", "node-2", "node-3"])
    assert {n: again[n] for n in first} == first
    users = kubeconfig.read_token_file(tmp_path / kubeconfig.TOKENS_FILE)
    assert users == {token: f"system:node:{node}" for node, token in again.items()}
    assert stat.S_IMODE((tmp_path / kubeconfig.TOKENS_FILE).stat().st_mode) == 0o600


def test_a_nodes_kubeconfig_names_its_user_and_token(tmp_path: Path) -> None:
    tokens = credentials.ensure_tokens(tmp_path, ["node-1"])
    (path,) = credentials.write_kubeconfigs(
        tmp_path, "https://127.0.0.1:6443", b"CA", tokens
    ).values()
    config = yaml.safe_load(path.read_text())
    assert config["users"] == [{"name": "system:node:node-1", "user": {"token": tokens["node-1"]}}]
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.remove_kubeconfigs(tmp_path, ["node-1"]) == {"node-1": path}
    assert not path.exists()
