"""What DockerCoins' rng and hasher stand-ins share: a listener that answers one request at a
time, as theirs do (rng runs `flask run --without-threads`; hasher is Sinatra on thin, whose one
event loop `sleep 0.1` blocks), so one rng and one hasher cap the app's speed as in the
workshop (about 10 requests a second each).

I/O: the listening socket (`run`).
"""

from __future__ import annotations

import http.server
import logging
import socket
import socketserver

from podwall.runtime.standins.serving import serve, start

PORT = 80
# A client that connects and sends nothing holds a one-at-a-time server: not for longer than this.
IDLE_TIMEOUT = 5.0


class SerialServer(http.server.HTTPServer):
    """One request at a time, on every address of the pod (IPv6 and IPv4 alike when it has
    IPv6, as `FLASK_RUN_HOST=::` and `-o ::` listen)."""

    address_family = socket.AF_INET6 if socket.has_dualstack_ipv6() else socket.AF_INET

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        self.server_name = socket.gethostname()
        self.server_port = self.server_address[1]


def run(log: logging.Logger, handler: type[http.server.BaseHTTPRequestHandler], ready: str) -> None:
    """Become the pod's user, then serve `handler` on port 80 until SIGTERM."""
    start()
    serve([SerialServer(("", PORT), handler)], log, ready)
