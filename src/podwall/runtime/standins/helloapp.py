"""Stand-in for Google's `hello-app` sample (gcr.io/google-samples/hello-app,
us-docker.pkg.dev/google-samples/containers/gke/hello-app), which GKE's tutorials run.

As the sample's main.go: an HTTP server on $PORT (8080 when unset) answering every path with

    Hello, world!
    Version: 1.0.0
    Hostname: <the pod's hostname>

The version is the image tag's (`1.0` → 1.0.0, `2.0` → 2.0.0), the tag passed as the only
argument.

Run as `python -m podwall.runtime.standins.helloapp TAG`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import http.server
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import send_text, serve, start

log = logging.getLogger("hello-app")

DEFAULT_PORT = 8080
DEFAULT_VERSION = "1.0.0"


def version_of(tag: str) -> str:
    """The version the image of `tag` prints: its tag padded to three parts (`2.0` → 2.0.0);
    the first release's for a tag that is no version (`latest`, none)."""
    parts = tag.split(".")
    if not tag or not all(part.isdigit() for part in parts) or len(parts) > 3:
        return DEFAULT_VERSION
    return ".".join([*parts, "0", "0"][:3])


def answer(version: str, hostname: str) -> bytes:
    return f"Hello, world!\nVersion: {version}\nHostname: {hostname}\n".encode()


def port(environ: Mapping[str, str]) -> int:
    """$PORT, as the sample reads it, else 8080."""
    value = environ.get("PORT", "")
    return int(value) if value else DEFAULT_PORT


def handler(version: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            log.info("Serving request: %s", self.path.split("?", 1)[0])
            send_text(self, 200, answer(version, socket.gethostname()))

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the sample logs each request itself, as above

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    version = version_of(args[0] if args else "")
    start()
    listening = port(os.environ)
    server = Server(("", listening), handler(version))
    serve([server], log, f"Server listening on port {listening}")


if __name__ == "__main__":
    main()
