"""`/healthz`, `/readyz` and `/metrics` over plain HTTP, on 127.0.0.1 unless told otherwise.

- `/healthz`: 200 while the agent's threads run and the sync loop keeps turning (the kubelet
  restarts the agent otherwise; the rules stay loaded while it does);
- `/readyz`: 200 once the first full sync is committed, 503 before;
- `/metrics`: the Prometheus text exposition of `metrics.Metrics`;
- any route the agent adds (`routes`: `/flows`, see `flowapi`), given the query's parameters.

The probes' body says why in one line. The server runs in a daemon thread of its own; it
never touches the ruleset.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from prometheus_client import CONTENT_TYPE_LATEST

Check = Callable[[], str | None]  # None when fine, else what is wrong


class Reply(NamedTuple):
    status: int
    kind: str  # Content-Type
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


Route = Callable[[Mapping[str, str]], Reply]  # the query's parameters (the last of each name)


class HealthServer:
    def __init__(
        self,
        bind: str,
        port: int,
        *,
        healthy: Check,
        ready: Check,
        metrics: Callable[[], bytes],
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        table: dict[str, Route] = {
            "/healthz": lambda _: _probe(healthy, 500),
            "/readyz": lambda _: _probe(ready, 503),
            "/metrics": lambda _: Reply(200, CONTENT_TYPE_LATEST, metrics()),
            **(routes or {}),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                route = table.get(url.path)
                if route is None:
                    reply = Reply(404, "text/plain", b"not found\n")
                else:
                    reply = route(dict(urllib.parse.parse_qsl(url.query)))
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.kind)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

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


def _probe(check: Check, failing: int) -> Reply:
    problem = check()
    if problem is None:
        return Reply(200, "text/plain", b"ok\n")
    return Reply(failing, "text/plain", (problem + "\n").encode())
