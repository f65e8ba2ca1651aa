"""The interim pod tokens: the API server accepts what the key signed, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.runtime import podtokens

KEY = bytes(range(32))


def test_a_minted_token_stands_for_the_pods_service_account() -> None:
    token = podtokens.mint(KEY, "team-a", "default", "web-1")
    assert podtokens.verify(KEY, token) == "system:serviceaccount:team-a:default"


def _tampered() -> str:
    token = podtokens.mint(KEY, "team-a", "default", "web-1")
    body, _, signature = token.removeprefix(podtokens.PREFIX).partition(".")
    other = podtokens.mint(KEY, "kube-system", "default", "web-1")
    other_body = other.removeprefix(podtokens.PREFIX).partition(".")[0]
    assert other_body != body
    return f"{podtokens.PREFIX}{other_body}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        podtokens.mint(bytes(32), "team-a", "default", "web-1"),
        _tampered(),
        "podwall-pod.",
        "podwall-pod.!!!.???",
        "an-admin-token",
    ],
    ids=["another key", "claims changed", "empty", "not base64", "not a pod token"],
)
def test_anything_the_key_did_not_sign_is_refused(token: str) -> None:
    assert podtokens.verify(KEY, token) is None


def test_the_key_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / podtokens.KEY_FILE
    key = podtokens.ensure_key(path)
    assert len(key) == 32
    assert podtokens.ensure_key(path) == key == podtokens.read_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
