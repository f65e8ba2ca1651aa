"""Stand-in for `ahmet/app-on-two-ports`, the network policy recipes' app (recipe 09).

What the recipe says of it, and all it asks: an HTTP server answering a hello on port 8000 and
monitoring metrics on port 5000 at `/metrics`, in the recipe's words:

    http.requests=3
    go.goroutines=5
    go.cpus=1

`http.requests` counts the requests served on both ports. The recipe never shows the hello
text; this one says which port answered.

Run as `python -m podwall.runtime.standins.twoports`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import http.server
import itertools
import logging
import threading
from typing import Any

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import send_text, serve, start

log = logging.getLogger("app-on-two-ports")

API_PORT = 8000
METRICS_PORT = 5000
GOROUTINES = 5
CPUS = 1


class Counter:
    """Requests served so far, on either port (thread-safe)."""

    def __init__(self) -> None:
        self._next = itertools.count(1)
        self._lock = threading.Lock()

    def count(self) -> int:
        with self._lock:
            return next(self._next)


def answer(port: int, path: str, requests: int) -> tuple[int, bytes]:
    """The status and body for a GET of `path` on `port`, as the `requests`-th request."""
    path = path.split("?", 1)[0]
    if port == METRICS_PORT:
        if path == "/metrics":
            text = f"http.requests={requests}\ngo.goroutines={GOROUTINES}\ngo.cpus={CPUS}\n"
            return 200, text.encode()
        return 404, b"404 page not found\n"
    return 200, f"Hello from the API on port {API_PORT}!\n".encode()


def handler(port: int, counter: Counter) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, body = answer(port, self.path, counter.count())
            send_text(self, status, body)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s :%d %s", self.client_address[0], port, format % args)

    return Handler


def main() -> None:
    start()
    counter = Counter()
    servers = [Server(("", port), handler(port, counter)) for port in (API_PORT, METRICS_PORT)]
    serve(servers, log, f"listening on ports {API_PORT} and {METRICS_PORT}")


if __name__ == "__main__":
    main()
