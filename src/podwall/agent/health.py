"""`/healthz`, `/readyz` and `/metrics` over plain HTTP, on 127.0.0.1 unless told otherwise.

- `/healthz`: 200 while the agent's threads run and the sync loop keeps turning (the kubelet
  restarts the agent otherwise; the rules stay loaded while it does);
- `/readyz`: 200 once the first full sync is committed, 503 before;
- `/metrics`: the Prometheus text exposition of `metrics.Metrics`.

The answer's body says why in one line. The server runs in a daemon thread of its own; it
never touches the ruleset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

Check = Callable[[], str | None]  # None when fine, else what is wrong


class HealthServer:
    def __init__(
        self,
        bind: str,
        port: int,
        *,
        healthy: Check,
        ready: Check,
        metrics: Callable[[], bytes],
    ) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/healthz": lambda: _probe(healthy, 500),
            "/readyz": lambda: _probe(ready, 503),
            "/metrics": lambda: (200, CONTENT_TYPE_LATEST, metrics()),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    status, kind, body = 404, "text/plain", b"not found\n"
                else:
                    status, kind, body = route()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # probes every few seconds would drown the agent's log

        self._server = ThreadingHTTPServer((bind, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _probe(check: Check, failing: int) -> tuple[int, str, bytes]:
    problem = check()
    if problem is None:
        return 200, "text/plain", b"ok\n"
    return failing, "text/plain", (problem + "\n").encode()
