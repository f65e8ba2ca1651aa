"""What the demo web servers' stand-ins share: a request as they read it, a reply as they
write it, and one HTTP handler that turns the first into the second for every method.

Each stand-in (whoami, podinfo, echoserver, httpbin...) is then one pure function from a
`Request` to a `Reply`, testable without sockets. The handler sends the image's own `Server`
header (none for Go's servers, which send none), a `Date`, the reply's headers, and no body
to HEAD. Clients on an IPv4 address are shown as IPv4 (`198.18.0.5`, not `::ffff:198.18.0.5`),
as a server listening on IPv4 shows them.
"""

from __future__ import annotations

import http.server
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import serve, start

MAX_BODY = 1 << 20
TEXT = "text/plain; charset=utf-8"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the server saw it: its line, headers (in order, as sent), both ends."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    client: tuple[str, int]
    server: tuple[str, int]
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def args(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()


Answer = Callable[[Request], Reply]


def peer(address: tuple[Any, ...]) -> tuple[str, int]:
    """A socket address as (ip, port), an IPv4-mapped IPv6 address as its IPv4 address."""
    host, port = str(address[0]), int(address[1])
    return host.removeprefix("::ffff:") if "." in host else host, port


def host_port(address: tuple[str, int]) -> str:
    """`ip:port`, an IPv6 address in brackets, as Go and nginx write them."""
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def canonical(key: str) -> str:
    """Go's canonical header key: `x-forwarded-for` → `X-Forwarded-For`."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def handler(
    answer: Answer, log: logging.Logger, server_header: str | None = None
) -> type[http.server.BaseHTTPRequestHandler]:
    """A handler answering every method with `answer`; `server_header` is the image's."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def send_response(self, code: int, message: str | None = None) -> None:
            self.log_request(code)
            self.send_response_only(code, message)
            if server_header:
                self.send_header("Server", server_header)
            self.send_header("Date", self.date_time_string())

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
            request = Request(
                method=self.command,
                target=self.path,
                version=self.request_version,
                headers=tuple(self.headers.items()),
                client=peer(self.client_address),
                server=peer(self.connection.getsockname()),
                body=body,
            )
            reply = answer(request)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _reply

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", peer(self.client_address)[0], format % args)

    return Handler


def run(
    log: logging.Logger, port: int, answer: Answer, ready: str, server_header: str | None = None
) -> None:
    """Become the pod's user, then serve `answer` on `port` until SIGTERM."""
    start()
    server = Server(("", port), handler(answer, log, server_header))
    serve([server], log, ready)
