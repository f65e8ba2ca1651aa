"""ServiceAccount tokens: signed JWTs the API server issues (TokenRequest) and accepts.

As kube-apiserver with `--service-account-signing-key-file`: one RSA key, made once and kept in
the state directory (`sa.key`, 0600), signs RS256 tokens whose claims are upstream's
(`iss`, `sub` = `system:serviceaccount:NS:NAME`, `aud`, `exp`, `iat`, `nbf`, `jti`, and the
`kubernetes.io` claim naming the namespace, the ServiceAccount and, for a pod's token, the pod).
`verify` checks signature, issuer, audience and times; whether the ServiceAccount (and pod) still
exist is the authenticator's question, not this module's. No HTTP here.

`issue_token(state_dir, namespace, name, uid)` is the one call for code outside the API server
that needs a token for a ServiceAccount (a pod's projected token file).
"""

from __future__ import annotations

import datetime
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "sa.key"
ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCES = (ISSUER,)  # kube-apiserver's default --api-audiences: the issuer
ALGORITHM = "RS256"
DEFAULT_SECONDS = 3600
MIN_SECONDS = 600  # TokenRequest refuses less than 10 minutes, as upstream
MAX_SECONDS = 2**32  # upstream's cap (the type is int64; the validation caps 2^32 s)
SUBJECT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True, slots=True)
class BoundPod:
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expiration: datetime.datetime  # UTC

    @property
    def expiration_timestamp(self) -> str:
        return self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says about its bearer."""

    namespace: str
    name: str
    uid: str
    pod: BoundPod | None
    audiences: tuple[str, ...]
    expiration: datetime.datetime
    token_id: str


def subject(namespace: str, name: str) -> str:
    return f"{SUBJECT_PREFIX}{namespace}:{name}"


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    staging.replace(path)
    return key


class TokenSigner:
    """Issues and verifies ServiceAccount tokens with the key kept in `state_dir` (None: a key
    of this process only, for servers without a state directory)."""

    def __init__(self, state_dir: Path | None, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self._key = (
            _load_or_create_key(Path(state_dir) / KEY_FILE)
            if state_dir is not None
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self._public = self._key.public_key()

    def issue(
        self,
        namespace: str,
        name: str,
        uid: str,
        *,
        audiences: Sequence[str] = (),
        expiration_seconds: int = DEFAULT_SECONDS,
        pod: BoundPod | None = None,
        now: datetime.datetime | None = None,
    ) -> IssuedToken:
        issued = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
        expiration = issued + datetime.timedelta(seconds=expiration_seconds)
        scope: dict[str, Any] = {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": uid},
        }
        if pod is not None:
            scope["pod"] = {"name": pod.name, "uid": pod.uid}
        claims = {
            "aud": list(audiences or API_AUDIENCES),
            "exp": expiration,
            "iat": issued,
            "nbf": issued,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": scope,
            "sub": subject(namespace, name),
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedToken(token, expiration)

    def verify(self, token: str, audiences: Sequence[str] = API_AUDIENCES) -> TokenClaims | None:
        """The token's claims when it is ours, unexpired and meant for one of `audiences`."""
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                audience=list(audiences),
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        return _claims_of(claims)


def _claims_of(claims: dict[str, Any]) -> TokenClaims | None:
    scope = claims.get("kubernetes.io")
    if not isinstance(scope, dict):
        return None
    account = scope.get("serviceaccount") or {}
    namespace, name = scope.get("namespace"), account.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return None
    if claims.get("sub") != subject(namespace, name):
        return None
    pod_claim = scope.get("pod")
    pod = (
        BoundPod(str(pod_claim.get("name", "")), str(pod_claim.get("uid", "")))
        if isinstance(pod_claim, dict)
        else None
    )
    audience = claims.get("aud")
    audiences = (audience,) if isinstance(audience, str) else tuple(audience or ())
    return TokenClaims(
        namespace=namespace,
        name=name,
        uid=str(account.get("uid", "")),
        pod=pod,
        audiences=audiences,
        expiration=datetime.datetime.fromtimestamp(int(claims["exp"]), datetime.UTC),
        token_id=str(claims.get("jti", "")),
    )


_SIGNERS: dict[Path, TokenSigner] = {}
_SIGNERS_LOCK = threading.Lock()


def signer_for(state_dir: Path) -> TokenSigner:
    """The one TokenSigner of a state directory (its key read once per process)."""
    path = Path(state_dir).resolve()
    with _SIGNERS_LOCK:
        if path not in _SIGNERS:
            _SIGNERS[path] = TokenSigner(path)
        return _SIGNERS[path]


def issue_token(
    state_dir: Path,
    namespace: str,
    name: str,
    uid: str,
    *,
    expiration_seconds: int = DEFAULT_SECONDS,
    pod: BoundPod | None = None,
) -> IssuedToken:
    """A token for ServiceAccount `namespace/name` (its `uid`), as a TokenRequest issues it.

    The API server of `state_dir` accepts it until it expires, while the ServiceAccount (and
    `pod`, when given) exists with that uid; an empty uid (the account's or the pod's) skips
    that uid's check, so a token made before the object was read still names it by name."""
    return signer_for(state_dir).issue(
        namespace, name, uid, expiration_seconds=expiration_seconds, pod=pod
    )
