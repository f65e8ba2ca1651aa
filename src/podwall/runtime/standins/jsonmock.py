"""Stand-in for `cilium/json-mock`: json-server's answers, served by the standard library.

The real image runs `json-server --host '' --port $PORT --watch /default.json` (port 80 when PORT
is unset) with a middleware that guards `/auth-header-required`. This stand-in answers:

- `GET`/`HEAD /` (and `/index.html`): a 2109-byte HTML page with exactly the headers the seed
  tutorial shows for `curl -I backend:8080` (Express, static file served by serve-static).
- `GET /db`, `/public`, `/private`, `/public/1`, ...: JSON from the image's default.json, with
  json-server's JSON headers; `/client-ip` and `/hostname` as the image's middleware.js answers.
- anything else: 404 with `{}`, as json-server does.

Run as `python -m podwall.runtime.standins.jsonmock` (reads PORT). It drops to the pod's uid at
start, so a port below 1024 needs `net.ipv4.ip_unprivileged_port_start=0` in the pod's netns.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.server
import json
import logging
import os
import signal
import socket
import socketserver
import sys
from collections.abc import Sequence
from typing import Any, ClassVar

from podwall.runtime.standins.privileges import drop_privileges

log = logging.getLogger("json-mock")

DEFAULT_PORT = 80
DB: dict[str, list[dict[str, Any]]] = {
    "private": [{"id": 1, "body": "secret information"}],
    "public": [{"id": 1, "body": "public information"}],
}
INDEX_SIZE = 2109  # 0x83d, the size in the tutorial's ETag
INDEX_HEADERS = (
    ("Accept-Ranges", "bytes"),
    ("Cache-Control", "public, max-age=0"),
    ("Last-Modified", "Sat, 26 Oct 1985 08:15:00 GMT"),
    ("ETag", 'W/"83d-7438674ba0"'),
    ("Content-Type", "text/html; charset=UTF-8"),
)
JSON_HEADERS = (
    ("Cache-Control", "no-cache"),
    ("Pragma", "no-cache"),
    ("Expires", "-1"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Type", "application/json; charset=utf-8"),
)
_PAGE_TOP = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>JSON Server</title>
    <style>
      body { font-family: sans-serif; margin: 2em auto; max-width: 40em; color: #333; }
      code { background: #f4f4f4; padding: 0 0.2em; }
      li { margin: 0.3em 0; }
    </style>
  </head>
  <body>
    <h1>Congrats!</h1>
    <p>You're successfully running JSON Server (a podwall stand-in for cilium/json-mock).</p>
    <h2>Resources</h2>
    <ul>
      <li><a href="db">/db</a> <code>the whole database</code></li>
      <li><a href="public">/public</a> <code>1x</code></li>
      <li><a href="private">/private</a> <code>1x</code></li>
      <li><a href="client-ip">/client-ip</a> <code>your address, as this pod sees it</code></li>
      <li><a href="hostname">/hostname</a> <code>this pod's hostname</code></li>
    </ul>
    <p>To access and modify resources, you can use any HTTP method:
      <code>GET</code> <code>POST</code> <code>PUT</code> <code>PATCH</code> <code>DELETE</code>
      <code>OPTIONS</code></p>
"""
_PAGE_BOTTOM = """  </body>
</html>
"""


def index_page() -> bytes:
    """The home page, padded with an HTML comment to the image's 2109 bytes."""
    filler = INDEX_SIZE - len(_PAGE_TOP) - len(_PAGE_BOTTOM) - len("    <!--  -->\n")
    return f"{_PAGE_TOP}    <!-- {'.' * filler} -->\n{_PAGE_BOTTOM}".encode()


INDEX = index_page()


def weak_etag(body: bytes) -> str:
    """Express's ETag for a generated body: size in hex and a sha1 prefix (the `etag` package)."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def json_answer(path: str, client_ip: str, hostname: str) -> tuple[int, Any]:
    """Status and JSON value json-server (with the image's middleware) gives for GET `path`."""
    parts = [part for part in path.split("?", 1)[0].split("/") if part]
    if parts == ["db"]:
        return 200, DB
    if parts[:1] == ["client-ip"]:
        return 200, {"client-ip": client_ip}
    if parts[:1] == ["hostname"]:
        return 200, {"hostname": hostname}
    if len(parts) in (1, 2) and parts[0] in DB:
        return _resource(DB[parts[0]], parts[1:])
    return 404, {}


def _resource(items: list[dict[str, Any]], rest: Sequence[str]) -> tuple[int, Any]:
    if not rest:
        return 200, items
    found = [item for item in items if str(item["id"]) == rest[0]]
    return (200, found[0]) if found else (404, {})


class Handler(http.server.BaseHTTPRequestHandler):
    """One keep-alive connection; headers in Express's order, no `Server` header."""

    protocol_version = "HTTP/1.1"
    timeout = 5  # Node's keepAliveTimeout
    hostname: ClassVar[str] = ""

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/auth-header-required") and not self._authorized():
            body = b'Invalid Authorization header, try setting it to "Bearer 123456"'
            self._send(401, (("Content-Type", "text/html; charset=utf-8"),), body, send_body)
        elif path in ("/", "/index.html"):
            self._send_index(send_body)
        else:
            status, value = json_answer(self.path, self.client_address[0], self.hostname)
            body = json.dumps(value, indent=2).encode()
            self._send(status, JSON_HEADERS, body, send_body)

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == "Bearer 123456"

    def _send_index(self, send_body: bool) -> None:
        if self.headers.get("If-None-Match") == 'W/"83d-7438674ba0"':
            self._send(304, INDEX_HEADERS[:4], b"", send_body=False, length=False)
        else:
            self._send(200, INDEX_HEADERS, INDEX, send_body, etag=False)

    def _send(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        send_body: bool,
        *,
        etag: bool = True,
        length: bool = True,
    ) -> None:
        self.log_request(status, len(body))
        self.send_response_only(status)
        for name, value in self._cors_headers() + tuple(headers):
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        if etag and body:
            self.send_header("ETag", weak_etag(body))
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _cors_headers(self) -> tuple[tuple[str, str], ...]:
        origin = self.headers.get("Origin")
        allow = (("Access-Control-Allow-Origin", origin),) if origin else ()
        return (
            ("X-Powered-By", "Express"),
            *allow,
            ("Vary", "Origin, Accept-Encoding"),
            ("Access-Control-Allow-Credentials", "true"),
        )

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0], format % args)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Listens on every address of the pod, IPv6 and IPv4 alike when the pod has IPv6."""

    daemon_threads = True
    address_family = socket.AF_INET6 if socket.has_dualstack_ipv6() else socket.AF_INET

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would look up this host's FQDN; a pod has no use for it.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        self.server_name = socket.gethostname()
        self.server_port = self.server_address[1]


def port_from_env(environ: dict[str, str] | os._Environ[str]) -> int:
    """The port to listen on: $PORT as the image's run.sh reads it, else 80."""
    value = environ.get("PORT", "")
    return int(value) if value else DEFAULT_PORT


def serve(port: int) -> None:
    Handler.hostname = socket.gethostname()
    try:
        server = Server(("", port), Handler)
    except PermissionError:
        log.error(
            "cannot bind port %d as uid %d: the pod's netns needs "
            "net.ipv4.ip_unprivileged_port_start=0",
            port,
            os.getuid(),
        )
        raise SystemExit(1) from None
    except OSError as exc:
        log.error("cannot bind port %d: %s", port, exc.strerror)
        raise SystemExit(1) from None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("JSON Server is running on port %d", port)
    with server:
        server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    drop_privileges()
    ignored = list(sys.argv[1:] if argv is None else argv)
    if ignored:
        log.warning("ignoring json-server arguments %s: the stand-in serves default.json", ignored)
    serve(port_from_env(os.environ))


if __name__ == "__main__":
    main()
