"""Stand-in for `bmuschko/nodejs-hello-world`, the app of Benjamin Muschko's CKAD and CKS
crash courses (their exercises' backend pod).

As the image's index.js (node's `http.createServer` on 0.0.0.0:3000): every request, whatever
its method or path, gets 200 and `Hello World` in plain text; at start it prints
`Magic happens on port 3000` on stdout, the only line it ever prints.

Run as `python -m podwall.runtime.standins.nodehello`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import http.server
import logging
import sys
from typing import Any

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import send_text, serve, start

PORT = 3000
ANSWER = b"Hello World\n"


def handler() -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            send_text(self, 200, ANSWER)

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the app logs no request

    return Handler


def plain_logger() -> logging.Logger:
    """A logger printing bare lines on stdout, as the app's `console.log`."""
    log = logging.getLogger("nodejs-hello-world")
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(out)
    log.propagate = False
    return log


def main() -> None:
    start()
    server = Server(("", PORT), handler())
    serve([server], plain_logger(), f"Magic happens on port {PORT}")


if __name__ == "__main__":
    main()
