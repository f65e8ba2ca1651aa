"""Stand-in for `hashicorp/http-echo`, the one-line web server many network labs serve.

As the upstream program: Go-style flags (`-text=TEXT` or `-text TEXT`, one or two dashes),
`-listen` (":5678" when unset), `-status-code` (200); `ECHO_TEXT` when `-text` is not given
(upstream 1.0). Every path answers TEXT and a newline, with the `X-App-Name` and
`X-App-Version` headers, except `/health`, which answers `{"status":"ok"}`. Without a text it
exits as upstream does: `Missing -text option!`, status 127.

Run as `python -m podwall.runtime.standins.httpecho ARGS...`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import http.server
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import serve, start

log = logging.getLogger("http-echo")

DEFAULT_LISTEN = ":5678"
VERSION = "0.2.3"
MISSING_TEXT = "Missing -text option!"
FLAGS = ("text", "listen", "status-code")


@dataclass(frozen=True, slots=True)
class Options:
    text: str
    port: int
    status: int = 200


class UsageError(Exception):
    """The arguments are not ones http-echo takes; the message is upstream's words."""


def parse(args: Sequence[str], environ: Mapping[str, str]) -> Options:
    """The options of `args` (Go's flag syntax); UsageError when they are not http-echo's."""
    values: dict[str, str] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--" or not arg.startswith("-"):
            break
        name, sep, value = arg.lstrip("-").partition("=")
        if name == "version":
            raise UsageError(f"http-echo v{VERSION}")
        if name not in FLAGS:
            raise UsageError(f"flag provided but not defined: -{name}")
        if not sep:
            if not rest:
                raise UsageError(f"flag needs an argument: -{name}")
            value = rest.pop(0)
        values[name] = value
    text = values.get("text") or environ.get("ECHO_TEXT", "")
    if not text:
        raise UsageError(MISSING_TEXT)
    listen = values.get("listen", DEFAULT_LISTEN)
    try:
        return Options(text, int(listen.rpartition(":")[2]), int(values.get("status-code", "200")))
    except ValueError:
        raise UsageError(f"invalid value for -listen or -status-code: {listen!r}") from None


def answer(options: Options, path: str) -> tuple[int, bytes]:
    """The status and body for a request of `path`."""
    if path.split("?", 1)[0] == "/health":
        return 200, b'{"status":"ok"}\n'
    return options.status, f"{options.text}\n".encode()


def handler(options: Options) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, with_body: bool) -> None:
            status, body = answer(options, self.path)
            self.send_response(status)
            self.send_header("X-App-Name", "http-echo")
            self.send_header("X-App-Version", VERSION)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._reply(True)

        def do_POST(self) -> None:
            self._reply(True)

        def do_HEAD(self) -> None:
            self._reply(False)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.client_address[0], format % args)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse(sys.argv[1:] if argv is None else argv, os.environ)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 127 if str(exc) == MISSING_TEXT else 2
    start()
    server = Server(("", options.port), handler(options))
    serve([server], log, f"[INFO] server is listening on :{options.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
