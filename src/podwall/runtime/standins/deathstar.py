"""Stand-in for `cilium/starwars`, the Star Wars demo's deathstar: its API on port 80.

The real image is a small Go server. This stand-in answers what Cilium's demo asks of it:

- `POST /v1/request-landing`: `Ship landed` (the L3/L4 part of the demo);
- `PUT /v1/exhaust-port`: the image's panic text (what the demo's L7 rule is there to stop);
- `GET /v1` and `/v1/`: the API's description, as JSON;
- anything else: 404 `Not found`.

Run as `python -m podwall.runtime.standins.deathstar`; it drops to the pod's uid at start (port
80 needs `net.ipv4.ip_unprivileged_port_start=0` in the pod's netns, which pods have).
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import socket
from typing import Any

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import send_text, serve, start

log = logging.getLogger("deathstar")

PORT = 80
LANDED = b"Ship landed\n"
EXPLODED = b"""Panic: deathstar exploded

goroutine 1 [running]:
main.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)
        /code/src/github.com/empire/deathstar/
        temp/main.go:9 +0x64
main.main()
        /code/src/github.com/empire/deathstar/
        temp/main.go:5 +0x85
"""
API = {
    "name": "Death Star",
    "hostname": "",
    "model": "DS-1 Orbital Battle Station",
    "manufacturer": "Imperial Department of Military Research, Sienar Fleet Systems",
    "cost_in_credits": "1000000000000",
    "length": "120000",
    "crew": "342953",
    "passengers": "843342",
    "cargo_capacity": "1000000000000",
    "hyperdrive_rating": "4.0",
    "starship_class": "Deep Space Mobile Battlestation",
    "api": ["GET   /v1", "POST  /v1/request-landing", "PUT   /v1/cargobay",
            "GET   /v1/hyper-matter-reactor/status", "PUT   /v1/exhaust-port"],
}  # fmt: skip


def answer(method: str, path: str, hostname: str) -> tuple[int, bytes]:
    """The status and body for `method path`."""
    path = path.split("?", 1)[0]
    if method == "POST" and path == "/v1/request-landing":
        return 200, LANDED
    if method == "PUT" and path == "/v1/exhaust-port":
        return 503, EXPLODED
    if method == "GET" and path in ("/v1", "/v1/"):
        return 200, (json.dumps({**API, "hostname": hostname}, indent=2) + "\n").encode()
    return 404, b"Not found\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, body = answer(method, self.path, socket.gethostname())
        send_text(self, status, body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0], format % args)


def main() -> None:
    start()
    try:
        server = Server(("", PORT), Handler)
    except OSError as exc:
        log.error("cannot bind port %d as uid %d: %s", PORT, os.getuid(), exc.strerror)
        raise SystemExit(1) from None
    serve([server], log, f"deathstar is listening on port {PORT}")


if __name__ == "__main__":
    main()
