"""Interim service account tokens for the sandbox's pods, until the API server serves TokenRequest.

A token names the pod's namespace, service account and name, signed with HMAC-SHA256 under a
key that only `podwall up` and its node agents read (`<state>/pod-tokens.key`, 0600, made by
the API server). `verify` gives back the user the token stands for,
`system:serviceaccount:<namespace>:<service account>`, or None for anything it did not sign.

To swap for the real thing: the node agent's one call site (`agent.sandbox`, the `tokens`
callable it gives the kubelet) asks TokenRequest instead, and the API server's bearer check
(`apiserver.server`, `verify`) goes with this module. Pure but for `ensure_key`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

PREFIX = "podwall-pod."
KEY_FILE = "pod-tokens.key"


def ensure_key(path: Path) -> bytes:
    """The signing key in `path`, made (0600) when missing."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


def read_key(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def mint(key: bytes, namespace: str, service_account: str, pod: str) -> str:
    """A bearer token for pod `namespace/pod` running as `service_account`."""
    claims = json.dumps(
        {"namespace": namespace, "serviceaccount": service_account, "pod": pod},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    body = _b64(claims)
    return f"{PREFIX}{body}.{_b64(_sign(key, body))}"


def verify(key: bytes, token: str) -> str | None:
    """The user `token` stands for, if `key` signed it."""
    if not token.startswith(PREFIX):
        return None
    body, _, signature = token[len(PREFIX) :].partition(".")
    try:
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if not hmac.compare_digest(given, _sign(key, body)):
            return None
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(claims, dict):
        return None
    return f"system:serviceaccount:{claims.get('namespace')}:{claims.get('serviceaccount')}"


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
