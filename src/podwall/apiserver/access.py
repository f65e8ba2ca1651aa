"""The API server's front door (ASGI middleware): authentication, impersonation, authorization.

A request without a bearer token is `system:anonymous`, which RBAC's bootstrap policy lets read
`/version`, `/healthz`, `/livez` and `/readyz` only (system:public-info-viewer); a bearer
token the `Authenticator` does not accept is a 401 (kubectl: `You must be logged in to the
server`). The request then acts as its user, or as whom its Impersonate-* headers name, and
must be allowed by the `Authorizer` (else 403 in kube-apiserver's words). A WebSocket to
pods/exec, pods/attach or pods/portforward needs `create` besides `get`, as kube-apiserver 1.32
asks. The user is left in the scope (`user_of`) for the reviews that answer about it, and in
`acting_user` for the escalation check of RBAC writes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from podwall.apiserver import errors
from podwall.apiserver.authentication import IMPERSONATE_PREFIX, Authenticator, impersonate
from podwall.apiserver.authorization import Authorizer
from podwall.apiserver.errors import ApiError
from podwall.apiserver.escalation import acting_user
from podwall.apiserver.handlers import status_response
from podwall.apiserver.requestinfo import Attributes, request_info
from podwall.apiserver.userinfo import UserInfo

USER_KEY = "podwall.user"
_STREAMS = frozenset({"exec", "attach", "portforward"})


def user_of(scope: Scope) -> UserInfo:
    user = scope.get(USER_KEY)
    if not isinstance(user, UserInfo):
        raise errors.unauthorized()
    return user


@dataclasses.dataclass(eq=False)
class AccessFilter:
    app: ASGIApp
    authenticator: Authenticator
    authorizer: Authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        given, impersonating = _read_headers(headers)
        user = self.authenticator.authenticate_request(given)
        if user is None:
            await self._deny(scope, receive, send, errors.unauthorized())
            return
        try:
            if impersonating:
                user = impersonate(user, headers, self.authorizer.allowed)
            for attrs in attributes_of(scope):
                self.authorizer.check(user, attrs)
        except ApiError as exc:
            await self._deny(scope, receive, send, exc)
            return
        scope[USER_KEY] = user
        acting = acting_user.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            acting_user.reset(acting)

    async def _deny(self, scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
        if scope["type"] == "http":
            await status_response(error)(scope, receive, send)
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in (scope.get("extensions") or {}):
            response = status_response(error)
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await send({"type": "websocket.http.response.body", "body": response.body})
            return
        await send({"type": "websocket.close", "code": 1008})


def _read_headers(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bool]:
    """The first `Authorization` header's value (empty without one), and whether any header
    asks for impersonation (`Impersonate-*`): one pass over the headers, which every request
    makes."""
    given: bytes | None = None
    impersonating = False
    for key, value in headers:
        name = key.lower()
        if name == b"authorization":
            if given is None:
                given = value
        elif name[:12] == IMPERSONATE_PREFIX:
            impersonating = True
    return (given or b""), impersonating


def attributes_of(scope: Scope) -> list[Attributes]:
    """What a request must be allowed: its own attributes, and `create` for a pod stream's
    WebSocket."""
    method = "GET" if scope["type"] == "websocket" else str(scope.get("method", "GET"))
    query: Any = scope.get("query_string", b"")
    attrs = request_info(method, scope["path"], bytes(query).decode("latin-1"))
    stream = attrs.resource == "pods" and attrs.subresource in _STREAMS
    if attrs.resource_request and attrs.verb == "get" and stream:
        return [attrs, dataclasses.replace(attrs, verb="create")]
    return [attrs]
