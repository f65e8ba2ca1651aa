"""What the small TCP/HTTP stand-ins share: a plain-text HTTP answer, and serving their
listeners as the pod's unprivileged user until SIGTERM (what `kubectl delete pod` sends)."""

from __future__ import annotations

import http.server
import logging
import signal
import socketserver
import sys
import threading
from collections.abc import Sequence

from podwall.runtime.standins.privileges import drop_privileges

LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


def start() -> None:
    """Log as the stand-ins do, then become the pod's user (before any socket is bound)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    drop_privileges()


def send_text(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve(servers: Sequence[socketserver.BaseServer], log: logging.Logger, ready: str) -> None:
    """Serve every listener (the first in this thread) until SIGTERM exits the process."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("%s", ready)
    for extra in servers[1:]:
        threading.Thread(target=extra.serve_forever, daemon=True).start()
    with servers[0]:
        servers[0].serve_forever()
