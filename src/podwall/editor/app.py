"""The Starlette application: the page, its assets and the API, behind the token.

`create_app()` builds it for tests and for `serve()`, which runs it under uvicorn.
"""

from __future__ import annotations

import hmac
import socket
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from podwall.editor.api import Api
from podwall.editor.attached import Attached
from podwall.editor.security import (
    QUERY,
    HeadersMiddleware,
    TokenMiddleware,
    cookie_name,
)
from podwall.editor.workspace import Workspace

STATIC = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


async def index(request: Request) -> Response:
    """The page; opened with `?token=`, it leaves a cookie so assets and reloads work."""
    response = FileResponse(STATIC / "index.html", media_type="text/html")
    token = request.query_params.get(QUERY)
    if token and hmac.compare_digest(token.encode(), request.app.state.token.encode()):
        response.set_cookie(
            cookie_name(request.url.port),
            token,
            httponly=True,
            samesite="strict",
            path="/",
        )
    return response


def create_app(
    workspace: Workspace,
    token: str,
    *,
    allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS,
    attached: Attached | None = None,
) -> Starlette:
    """The editor app; `allowed_hosts` None accepts any Host header (with --listen-any);
    `attached`: the live cluster the workspace reads, which the page may then change."""
    middleware = [Middleware(HeadersMiddleware), Middleware(TokenMiddleware, token=token)]
    if allowed_hosts is not None:
        # A page on another site that rebinds its name to 127.0.0.1 still sends its own Host.
        middleware.insert(1, Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    routes = [
        Route("/", index, methods=["GET"]),
        *Api(workspace, attached).routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.token = token
    return app


def url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?{QUERY}={token}"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is printed (port 0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def serve(app: Starlette, sock: socket.socket) -> None:
    """Run until interrupted; uvicorn's access log stays off (URLs carry the token)."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
