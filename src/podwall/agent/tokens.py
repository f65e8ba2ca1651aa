"""Pods' ServiceAccount tokens, from the API server's TokenRequest, as the kubelet gets them.

For a pod, `TokenRequester` POSTs `/api/v1/namespaces/NS/serviceaccounts/SA/token` bound to the
pod (boundObjectRef: kind Pod, its name and uid), with the API server's default audiences and
`EXPIRATION_SECONDS` (the kubelet's projected token's hour), and returns the pod's files with
the time to ask again: at 80 % of the token's life, as the kubelet's token manager refreshes.
A token is valid while its ServiceAccount and its pod exist; RBAC lets nodes `create`
`serviceaccounts/token` (`system:node`).

A refusal (the ServiceAccount is missing, the pod was replaced) is `TokenUnavailable` with the
API server's message, which the kubelet reports as upstream's does: no token is ever made here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podwall.agent.client import ClientError, Connection
from podwall.errors import PodwallError
from podwall.runtime.serviceaccount import ServiceAccountFiles

EXPIRATION_SECONDS = 3600
REFRESH_FRACTION = 0.8


class TokenUnavailable(PodwallError):
    """The API server did not issue the token; the message is its own."""


@dataclass(frozen=True, slots=True)
class PodToken:
    files: ServiceAccountFiles
    refresh_at: float  # monotonic: when to ask for the next one


@dataclass(frozen=True, slots=True)
class BoundPod:
    namespace: str
    name: str
    uid: str
    account: str


def token_request(pod: BoundPod, seconds: int = EXPIRATION_SECONDS) -> dict[str, Any]:
    """The TokenRequest body: bound to the pod, audiences left to the API server's default."""
    return {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "expirationSeconds": seconds,
            "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod.name,
                               "uid": pod.uid},
        },
    }  # fmt: skip


class TokenRequester:
    """Asks the API server for pods' tokens over the agent's own connection."""

    def __init__(
        self,
        connection: Connection,
        ca_pem: bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.ca_pem = ca_pem
        self.clock = clock

    def __call__(self, pod: BoundPod) -> PodToken:
        path = f"/api/v1/namespaces/{pod.namespace}/serviceaccounts/{pod.account}/token"
        asked = self.clock()
        try:
            answer = self.connection.request("POST", path, body=token_request(pod))
        except ClientError as exc:
            raise TokenUnavailable(getattr(exc, "message", "") or str(exc)) from exc
        status = answer.get("status") if isinstance(answer, dict) else None
        token = status.get("token") if isinstance(status, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenUnavailable("the TokenRequest answer holds no token")
        spec = answer.get("spec") or {}
        seconds = spec.get("expirationSeconds")
        lifetime = seconds if type(seconds) is int and seconds > 0 else EXPIRATION_SECONDS
        files = ServiceAccountFiles(token=token, ca_pem=self.ca_pem, namespace=pod.namespace)
        return PodToken(files=files, refresh_at=asked + REFRESH_FRACTION * lifetime)
