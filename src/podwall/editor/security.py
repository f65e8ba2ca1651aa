"""Who may drive the editor: the holder of the token printed at start, on loopback only.

Every request must carry the token as `?token=`, the `X-Podwall-Token` header or the cookie
the page sets; anything else gets 403, so other local users and web pages cannot use it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podwall.editor.errors import EditorError

HEADER = "x-podwall-token"
QUERY = "token"
LOOPBACK_NAMES = ("localhost",)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_name(port: int | None) -> str:
    """Per port, as cookies are shared by every port of a host."""
    return f"podwall_token_{port or 0}"


def presented(conn: HTTPConnection) -> list[str]:
    return [
        t
        for t in (
            conn.query_params.get(QUERY),
            conn.headers.get(HEADER),
            conn.cookies.get(cookie_name(conn.url.port)),
        )
        if t
    ]


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BindError(EditorError, ValueError):
    """A listen address beyond loopback without `--listen-any`."""


def check_bind(host: str, *, listen_any: bool) -> str | None:
    """Raise for a non-loopback host unless allowed; return the warning to print if allowed."""
    if is_loopback(host):
        return None
    if not listen_any:
        raise BindError(
            f"refusing to listen on {host}: the editor listens on loopback only; "
            "pass --listen-any to listen beyond it (anyone who can reach the port and learns "
            "the token can drive the editor)"
        )
    return (
        f"warning: listening on {host}, beyond loopback: anyone who can reach this port and "
        "sees the token can read your manifests and drive the editor"
    )


class TokenMiddleware:
    """403 for every HTTP or websocket request without the token."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token

    def allowed(self, conn: HTTPConnection) -> bool:
        return any(hmac.compare_digest(t.encode(), self.token.encode()) for t in presented(conn))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.allowed(HTTPConnection(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = PlainTextResponse(
            "403 forbidden: open the URL podwall editor printed (it carries the token)\n",
            status_code=403,
        )
        await response(scope, receive, send)


SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class HeadersMiddleware:
    """Security headers on every HTTP response: nothing loads from elsewhere, no framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
