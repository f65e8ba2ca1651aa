"""ServiceAccount tokens: issued, verified, refused when not ours, expired or for others."""

from __future__ import annotations

import datetime
from pathlib import Path

import jwt
import pytest

from podwall.apiserver.serviceaccounttokens import (
    KEY_FILE,
    BoundPod,
    TokenSigner,
    issue_token,
    signer_for,
)

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def test_issued_token_verifies_as_its_service_account(tmp_path: Path) -> None:
    signer = TokenSigner(tmp_path)
    issued = signer.issue("ns1", "builder", "uid-1", pod=BoundPod("p", "pod-uid"))
    claims = signer.verify(issued.token)
    assert claims is not None
    assert (claims.namespace, claims.name, claims.uid) == ("ns1", "builder", "uid-1")
    assert claims.pod == BoundPod("p", "pod-uid")
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert payload["sub"] == "system:serviceaccount:ns1:builder"
    assert payload["exp"] - payload["iat"] == 3600


def test_key_is_kept_across_signers_and_private(tmp_path: Path) -> None:
    token = TokenSigner(tmp_path).issue("default", "x", "u").token
    assert TokenSigner(tmp_path).verify(token) is not None
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "case",
    ["expired", "other_key", "other_audience", "tampered", "unsigned", "garbage"],
)
def test_refused(tmp_path: Path, case: str) -> None:
    signer = TokenSigner(tmp_path / "a")
    if case == "expired":
        token = signer.issue("d", "x", "u", now=NOW).token
    elif case == "other_key":
        token = TokenSigner(tmp_path / "b").issue("d", "x", "u").token
    elif case == "other_audience":
        token = signer.issue("d", "x", "u", audiences=["vault"]).token
    elif case == "tampered":
        head, body, sig = signer.issue("d", "x", "u").token.split(".")
        token = f"{head}.{body[:-2]}AA.{sig}"
    elif case == "unsigned":
        payload = jwt.decode(signer.issue("d", "x", "u").token, options={"verify_signature": False})
        token = jwt.encode(payload, key=None, algorithm="none")
    else:
        token = "not-a-jwt"
    assert signer.verify(token) is None


def test_issue_token_uses_the_state_dirs_key(tmp_path: Path) -> None:
    issued = issue_token(tmp_path, "default", "default", "u", expiration_seconds=600)
    assert signer_for(tmp_path).verify(issued.token) is not None
    assert TokenSigner(tmp_path).verify(issued.token) is not None
