"""The Starlette application: routes, and Status errors (kubectl-api.md §1-§3), behind the
front door of `access` (authentication, impersonation, RBAC).

Everything but `/healthz`, `/livez` and `/readyz` needs `Authorization: Bearer <token>`: the
admin's (`system:masters`), a node's (`tokens.csv`) or a ServiceAccount's; anything else is a
401 Status, which kubectl prints as `You must be logged in to the server`. Reviews and
TokenRequests are answered by `reviews`, never stored.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from podwall.apiserver import (
    attach,
    discovery,
    errors,
    logs,
    openapi,
    openapiv2,
    portforward,
    rbacvalidation,
    reviews,
    spdyexec,
    typecheck,
)
from podwall.apiserver import exec as pod_exec
from podwall.apiserver.access import AccessFilter, user_of
from podwall.apiserver.authentication import Authenticator
from podwall.apiserver.authorization import Authorizer, StorePolicy
from podwall.apiserver.errors import ApiError
from podwall.apiserver.escalation import EscalationCheck
from podwall.apiserver.handlers import (
    BOOKMARK_SECONDS,
    ResourceApi,
    Target,
    json_response,
    parse_target,
    status_response,
)
from podwall.apiserver.podruntime import PodRuntime
from podwall.apiserver.resources import REVIEWS
from podwall.apiserver.serviceaccounttokens import TokenSigner
from podwall.apiserver.store import Store
from podwall.apiserver.userinfo import UserInfo

log = logging.getLogger(__name__)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORE_RESOURCES = re.compile(r"/api/(?P<version>[^/]+)/(?P<rest>.*)")
GROUP_RESOURCES = re.compile(r"/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/(?P<rest>.*)")
POD_STREAMS = frozenset({"exec", "log", "attach", "portforward"})


def create_app(
    store: Store,
    token: str,
    server_address: str = "127.0.0.1:6443",
    runtime: PodRuntime | None = None,
    other_tokens: Mapping[str, UserInfo] | None = None,
    *,
    bookmark_seconds: float = BOOKMARK_SECONDS,
    signer: TokenSigner | None = None,
) -> ASGIApp:
    """The API server as an ASGI app over `store`: `token` is the admin's (system:masters),
    `other_tokens` the static ones (token -> user), `signer` issues and checks ServiceAccount
    tokens (a key of this process when None).

    `runtime` runs `pods/exec` and serves `pods/log`; without it both answer a 503 Status
    ("pod runtime not attached"). Watches that allow bookmarks get one every
    `bookmark_seconds`.
    """
    api = ResourceApi(store, bookmark_seconds=bookmark_seconds)
    signer = signer or TokenSigner(None)
    authenticator = Authenticator(token, other_tokens or {}, signer, store)
    authorizer = Authorizer(StorePolicy(store))
    rbacvalidation.guard_role_ref(store)
    EscalationCheck(store, authorizer).install()

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
        found = openapiv2.negotiate(request.headers.get("accept", ""))
        if found is None:
            return Response(status_code=406, headers={"Vary": "Accept"})
        headers = {"ETag": found.etag, "Vary": "Accept"}
        if openapiv2.matches(found.etag, request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.content_type, headers=headers)

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
            if target.resource.key in REVIEWS or target.subresource == "token":
                return await _review(request, target)
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

    async def _review(request: Request, target: Target) -> Response:
        """A review or a TokenRequest: POST only, answered (201) and never stored."""
        if request.method != "POST":
            raise errors.method_not_allowed(request.method)
        body = await api._body(request)
        if target.subresource == "token":
            assert target.name is not None
            answer = reviews.token_request(store, signer, target.namespace or "", target.name, body)
            return json_response(answer, 201)
        resource = target.resource
        if not isinstance(body, dict):
            raise errors.bad_request(f"a {resource.kind} body is required")
        typecheck.check(resource, body)
        user = user_of(request.scope)
        if resource.kind == "SelfSubjectReview":
            answer = reviews.self_review(resource, body, user)
        elif resource.kind == "TokenReview":
            answer = reviews.token_review(authenticator, resource, body)
        elif resource.kind == "SelfSubjectRulesReview":
            answer = reviews.rules_review(authorizer, resource, body, user)
        else:
            answer = reviews.access_review(authorizer, resource, body, user, target.namespace)
        return json_response(answer, 201)

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
        # Also served by ResourceRoutes, ahead of the router (the same two patterns):
        Route("/api/{version}/{rest:path}", core_resource, methods=ALL_METHODS),
        Route("/apis/{group}", group),
        Route("/apis/{group}/{version}", group_resources),
        Route("/apis/{group}/{version}/{rest:path}", group_resource, methods=ALL_METHODS),
        Route("/{rest:path}", not_found, methods=ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    direct = ResourceRoutes(app, core_resource, group_resource)
    return AccessFilter(direct, authenticator, authorizer)


Endpoint = Callable[[Request], Awaitable[Response]]


class ResourceRoutes:
    """The two routes nearly every request takes (objects under `/api/V/` and `/apis/G/V/`),
    served straight from their endpoint as Starlette's `Route` would; anything else goes to
    `app` (Starlette: its router tries a dozen routes before these, and its two exception
    middlewares wrap them while the endpoints answer every error themselves)."""

    _METHODS = frozenset(ALL_METHODS)

    def __init__(self, app: ASGIApp, core: Endpoint, group: Endpoint) -> None:
        self.app = app
        self._routes = ((CORE_RESOURCES, core), (GROUP_RESOURCES, group))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self._METHODS:
            path = scope["path"]
            for pattern, endpoint in self._routes:
                match = pattern.fullmatch(path)
                if match is not None:
                    scope["path_params"] = match.groupdict()
                    response = await endpoint(_Request(scope, receive, send))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class _NoQuery(QueryParams):
    """An empty query string's parameters: what QueryParams answers, without the KeyError
    its `get` raises and catches inside (twice for every create: fieldValidation, dryRun)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def getlist(self, key: Any) -> list[str]:
        return []


_NO_QUERY = _NoQuery("")


class _Request(Request):
    """Starlette's Request, whose empty query string (most requests') is parsed only once, and
    whose body is read without Starlette's async generator (one per body read)."""

    @property
    def query_params(self) -> QueryParams:
        if not self.scope["query_string"]:
            return _NO_QUERY  # immutable: one shared instance serves every such request
        return super().query_params

    async def body(self) -> bytes:
        """Starlette's `body()`: the messages' bodies joined; ClientDisconnect if the client
        went away first."""
        if hasattr(self, "_body") or self._stream_consumed:
            return await super().body()
        chunks: list[bytes] = []
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        self._stream_consumed = True
        self._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._body


def _aggregated(body: dict[str, Any], version: str) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        media_type=discovery.aggregated_content_type(version),
    )


def _or_404(body: dict[str, Any] | None) -> Response:
    if body is None:
        return status_response(errors.not_found_path())
    return json_response(body)
