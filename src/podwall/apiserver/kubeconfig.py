"""The bearer token and the kubeconfig that points kubectl at the API server."""

from __future__ import annotations

import base64
import csv
import os
import secrets
from pathlib import Path

import yaml

CLUSTER, USER, CONTEXT = "podwall", "podwall-admin", "podwall"
TOKENS_FILE = "tokens.csv"


def ensure_token(path: Path) -> str:
    """A random bearer token, created once and kept in `path` (0600)."""
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def read_token_file(path: Path) -> dict[str, str]:
    """token -> user, from a file in kube-apiserver's `--token-auth-file` format
    (`token,user,uid,"group1,group2"` per line); {} when there is none."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    out = {}
    for line in lines:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 2 and fields[0] and not fields[0].startswith("#"):
            out[fields[0]] = fields[1]
    return out


def read_token_users(path: Path) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """token -> (user, uid, groups), from a `--token-auth-file` (CSV; groups quoted)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    out = {}
    for fields in csv.reader(text.splitlines()):
        fields = [f.strip() for f in fields]
        if len(fields) >= 2 and fields[0] and not fields[0].startswith("#"):
            uid = fields[2] if len(fields) > 2 else ""
            groups = (
                tuple(g.strip() for g in fields[3].split(",") if g.strip())
                if len(fields) > 3
                else ()
            )
            out[fields[0]] = (fields[1], uid, groups)
    return out


def write_token_file(path: Path, users: dict[str, str]) -> None:
    """Write token -> user as a `--token-auth-file` (0600): uid = user, no groups."""
    text = "".join(f"{token},{user},{user}\n" for token, user in users.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def render(
    server: str,
    ca_pem: bytes,
    token: str | None,
    namespace: str = "default",
    user_name: str = USER,
) -> str:
    """A kubeconfig (YAML) for `server`, trusting `ca_pem`; without a token if None."""
    user: dict[str, str] = {"token": token} if token is not None else {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user_name, "user": user}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CLUSTER, "user": user_name, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, server: str, ca_pem: bytes, token: str | None, user_name: str = USER) -> Path:
    """Write the kubeconfig to `path` (0600) and return it.

    Written aside and renamed over: a kubectl reading it while the server restarts sees the old
    file or the new one, never an empty one (it would fall back to localhost:8080)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(render(server, ca_pem, token, user_name=user_name))
    os.chmod(aside, 0o600)
    os.replace(aside, path)
    return path
