"""The Starlette application: routes, bearer-token auth, and Status errors (kubectl-api.md §1-§3).

Everything but `/healthz`, `/livez` and `/readyz` needs `Authorization: Bearer <token>`;
anything else is a 401 Status, which kubectl prints as `You must be logged in to the server`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Collection
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from podwall.apiserver import attach, discovery, errors, logs, openapi, portforward, spdyexec
from podwall.apiserver import exec as pod_exec
from podwall.apiserver.errors import ApiError
from podwall.apiserver.handlers import (
    BOOKMARK_SECONDS,
    ResourceApi,
    Target,
    json_response,
    parse_target,
    status_response,
)
from podwall.apiserver.podruntime import PodRuntime
from podwall.apiserver.store import Store

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
POD_STREAMS = frozenset({"exec", "log", "attach", "portforward"})


class BearerAuth:
    """ASGI middleware: a valid bearer token, or 401 (HTTP) / close (WebSocket).

    The admin's token, any of `others` (the nodes' own, from the tokens file), and any token
    `verify` names a user for (the pods' service account tokens)."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        others: Collection[str] = (),
        verify: Callable[[str], str | None] | None = None,
    ) -> None:
        self.app = app
        self.expected = [f"Bearer {t}".encode() for t in (token, *others)]
        self.verify = verify

    def _verified(self, given: bytes) -> bool:
        if self.verify is None or not given.startswith(b"Bearer "):
            return False
        return self.verify(given[len(b"Bearer ") :].decode(errors="replace")) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        if any([hmac.compare_digest(given, expected) for expected in self.expected]):
            await self.app(scope, receive, send)
            return
        if self._verified(given):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        await status_response(errors.unauthorized())(scope, receive, send)


def create_app(
    store: Store,
    token: str,
    server_address: str = "127.0.0.1:6443",
    runtime: PodRuntime | None = None,
    other_tokens: Collection[str] = (),
    *,
    bookmark_seconds: float = BOOKMARK_SECONDS,
    verify_token: Callable[[str], str | None] | None = None,
) -> ASGIApp:
    """The API server as an ASGI app over `store`, requiring `token`.

    `runtime` runs `pods/exec` and serves `pods/log`; without it both answer a 503 Status
    ("pod runtime not attached"). Watches that allow bookmarks get one every
    `bookmark_seconds`.
    """
    api = ResourceApi(store, bookmark_seconds=bookmark_seconds)

    def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    def version(request: Request) -> Response:
        return json_response(discovery.server_version())

    def core_root(request: Request) -> Response:
        version = discovery.wants_aggregated(request.headers.get("accept", ""))
        if version is not None:
            return _aggregated(discovery.aggregated(core=True, version=version), version)
        return json_response(discovery.api_versions(server_address))

    def groups_root(request: Request) -> Response:
        version = discovery.wants_aggregated(request.headers.get("accept", ""))
        if version is not None:
            return _aggregated(discovery.aggregated(core=False, version=version), version)
        return json_response(discovery.api_group_list())

    def core_resources(request: Request) -> Response:
        return _or_404(discovery.api_resource_list("", request.path_params["version"]))

    def group(request: Request) -> Response:
        return _or_404(discovery.api_group(request.path_params["group"]))

    def group_resources(request: Request) -> Response:
        params = request.path_params
        return _or_404(discovery.api_resource_list(params["group"], params["version"]))

    def openapi_root(request: Request) -> Response:
        return Response(openapi.root_document(), media_type="application/json")

    def openapi_doc(request: Request) -> Response:
        doc = openapi.document_for(request.path_params["path"])
        if doc is None:
            return status_response(errors.not_found_path())
        return Response(doc, media_type="application/json")

    def openapi_v2(request: Request) -> Response:
        return Response(openapi.v2_protobuf(), media_type=openapi.V2_CONTENT_TYPE)

    def not_found(request: Request) -> Response:
        return status_response(errors.not_found_path())

    async def core_resource(request: Request) -> Response:
        return await _serve(request, "", request.path_params["version"])

    async def group_resource(request: Request) -> Response:
        params = request.path_params
        return await _serve(request, params["group"], params["version"])

    async def _serve(request: Request, group: str, version: str) -> Response:
        try:
            target = parse_target(group, version, request.path_params["rest"].split("/"))
            if not group and target.name is not None and target.subresource in POD_STREAMS:
                return await _pod_stream(request, target)
            return await api.handle(request, target)
        except ApiError as exc:
            return status_response(exc)
        except Exception as exc:
            log.exception("internal error on %s %s", request.method, request.url.path)
            return status_response(errors.internal(str(exc)))

    async def _pod_stream(request: Request, target: Target) -> Response:
        """pods/log, and pods/exec when it is not a WebSocket: SPDY (kubectl before 1.30)."""
        assert target.name is not None
        namespace = target.namespace or ""
        if target.subresource == "log":
            if request.method != "GET":
                raise errors.method_not_allowed(request.method)
            return await logs.serve(request, store, runtime, namespace, target.name)
        if target.subresource == "attach":
            return attach.serve_http(request, store, runtime, namespace, target.name)
        if target.subresource == "portforward":
            return portforward.serve_http(request, store, runtime, namespace, target.name)
        if spdyexec.wants_spdy(request):
            return spdyexec.upgrade_response(request, store, runtime, namespace, target.name)
        raise pod_exec.serve_http(request, store, runtime, namespace, target.name)

    async def exec_websocket(websocket: WebSocket) -> None:
        await pod_exec.serve_websocket(websocket, store, runtime)

    async def attach_websocket(websocket: WebSocket) -> None:
        await attach.serve_websocket(websocket, store, runtime)

    async def portforward_websocket(websocket: WebSocket) -> None:
        await portforward.serve_websocket(websocket, store, runtime)

    routes = [
        WebSocketRoute(
            "/api/v1/namespaces/{namespace}/pods/{name}/portforward", portforward_websocket
        ),
        WebSocketRoute("/api/v1/namespaces/{namespace}/pods/{name}/exec", exec_websocket),
        WebSocketRoute("/api/v1/namespaces/{namespace}/pods/{name}/attach", attach_websocket),
        Route("/healthz", ok),
        Route("/livez", ok),
        Route("/readyz", ok),
        Route("/version", version),
        Route("/api", core_root),
        Route("/apis", groups_root),
        Route("/openapi/v3", openapi_root),
        Route("/openapi/v3/{path:path}", openapi_doc),
        Route("/openapi/v2", openapi_v2),
        Route("/api/{version}", core_resources),
        Route("/api/{version}/{rest:path}", core_resource, methods=ALL_METHODS),
        Route("/apis/{group}", group),
        Route("/apis/{group}/{version}", group_resources),
        Route("/apis/{group}/{version}/{rest:path}", group_resource, methods=ALL_METHODS),
        Route("/{rest:path}", not_found, methods=ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    return BearerAuth(app, token, other_tokens, verify_token)


def _aggregated(body: dict[str, Any], version: str) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        media_type=discovery.aggregated_content_type(version),
    )


def _or_404(body: dict[str, Any] | None) -> Response:
    if body is None:
        return status_response(errors.not_found_path())
    return json_response(body)
