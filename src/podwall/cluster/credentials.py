"""Each node agent's own credentials: a bearer token the API server accepts, and a kubeconfig.

As on a real cluster, where each kubelet authenticates as `system:node:<name>`: the tokens are
in `<state>/tokens.csv` (kube-apiserver's `--token-auth-file` format, token → user), kept
across restarts, and each node's kubeconfig is `<state>/nodes/<node>/kubeconfig` (0600). The
API server puts each node in `system:nodes`, which RBAC allows what a kubelet and the podwall
agent need (apiserver/defaultroles.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

from podwall.apiserver import kubeconfig
from podwall.cluster.agents import node_dir

KUBECONFIG = "kubeconfig"


def node_user(node: str) -> str:
    return f"system:node:{node}"


def ensure_tokens(state_dir: Path, nodes: Sequence[str]) -> dict[str, str]:
    """node -> token for every node (new ones made), written to the tokens file."""
    path = state_dir / kubeconfig.TOKENS_FILE
    by_user = {user: token for token, user in kubeconfig.read_token_file(path).items()}
    for node in nodes:
        by_user.setdefault(node_user(node), secrets.token_urlsafe(32))
    kubeconfig.write_token_file(path, {token: user for user, token in by_user.items()})
    return {node: by_user[node_user(node)] for node in nodes}


def kubeconfig_path(state_dir: Path, node: str) -> Path:
    return node_dir(state_dir, node) / KUBECONFIG


def remove_kubeconfigs(state_dir: Path, nodes: Sequence[str]) -> dict[str, Path]:
    """Remove the nodes' kubeconfigs of an earlier run (they name its port); node -> path."""
    out = {}
    for node in nodes:
        path = kubeconfig_path(state_dir, node)
        path.unlink(missing_ok=True)
        out[node] = path
    return out


def write_kubeconfigs(
    state_dir: Path, server: str, ca_pem: bytes, tokens: dict[str, str]
) -> dict[str, Path]:
    """Each node's kubeconfig, pointing at `server`, each appearing whole; node -> its path."""
    out = {}
    for node, token in tokens.items():
        path = kubeconfig_path(state_dir, node)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = path.with_name(f".{KUBECONFIG}.new")
        kubeconfig.write(staging, server, ca_pem, token, user_name=node_user(node))
        staging.replace(path)
        out[node] = path
    return out
