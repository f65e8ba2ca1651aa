"""Stand-in for `wbitt/network-multitool` (formerly praqma/network-multitool) running its
default command: the image's entrypoint writes one line to nginx's index page, then nginx serves
it on $HTTP_PORT (80) and, with the image's self-signed certificate (CN=localhost), on
$HTTPS_PORT (443), on one line:

    WBITT Network MultiTool (with NGINX) - <hostname> - <pod IP> - HTTP: 80 , HTTPS: 443 .
    (Formerly praqma/network-multitool)

As the image: the entrypoint's lines on stdout first, `/` (and `/index.html`) answer the line,
any other path nginx's 404 page, each request logged in nginx's `main` format on stdout. The
certificate is made at start (EC P-256, not the image's RSA key); the pod IP is the source
address of the pod's route to the cluster's DNS, as the entrypoint takes its default route's.
With a command, the image runs that command (the image table's shell images), not this.

Run as `python -m podwall.runtime.standins.multitool`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import datetime
import http.server
import logging
import os
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import serve, start

log = logging.getLogger("network-multitool")

DEFAULT_HTTP_PORT = 80
DEFAULT_HTTPS_PORT = 443
WEB_ROOT = "/usr/share/nginx/html"
INDEX_PATHS = frozenset({"/", "/index.html"})
# A pod's route to the cluster DNS Service picks its own address; connecting a UDP socket sends
# nothing.
ROUTE_PROBE = ("198.19.0.10", 53)
NOT_FOUND = b"""\
<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


class PortError(ValueError):
    """$HTTP_PORT or $HTTPS_PORT is not a port number."""


def ports(environ: Mapping[str, str]) -> tuple[int, int]:
    """$HTTP_PORT and $HTTPS_PORT, 80 and 443 when unset or empty (the entrypoint's `-n`)."""
    return (
        _port(environ, "HTTP_PORT", DEFAULT_HTTP_PORT),
        _port(environ, "HTTPS_PORT", DEFAULT_HTTPS_PORT),
    )


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "")
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise PortError(f"{name}={text!r} is not a port number")
    return int(text)


def index_line(hostname: str, ip: str, environ: Mapping[str, str]) -> str:
    """The index page's one line, as the entrypoint writes it (${HTTP_PORT:-80} and the like:
    the variables' text, not the ports parsed)."""
    http_port = environ.get("HTTP_PORT") or str(DEFAULT_HTTP_PORT)
    https_port = environ.get("HTTPS_PORT") or str(DEFAULT_HTTPS_PORT)
    return (
        f"WBITT Network MultiTool (with NGINX) - {hostname} - {ip} - HTTP: {http_port} , "
        f"HTTPS: {https_port} . (Formerly praqma/network-multitool)"
    )


def entrypoint_lines(line: str, environ: Mapping[str, str]) -> list[str]:
    """What the image's entrypoint prints before nginx starts."""
    lines = [
        f"The directory {WEB_ROOT} is not mounted.",
        "Therefore, over-writing the default index.html file with some useful information:",
        line,
    ]
    if environ.get("HTTP_PORT"):
        lines.append(
            "Replacing default HTTP port (80) with the value specified by the user - "
            f"(HTTP_PORT: {environ['HTTP_PORT']})."
        )
    if environ.get("HTTPS_PORT"):
        lines.append(
            "Replacing default HTTPS port (443) with the value specified by the user - "
            f"(HTTPS_PORT: {environ['HTTPS_PORT']})."
        )
    return lines


def answer(path: str) -> tuple[int, bytes]:
    """Status and body for a GET of `path` (its query ignored, as nginx's static files do)."""
    if path.split("?", 1)[0] in INDEX_PATHS:
        return 200, b""  # the caller's index line
    return 404, NOT_FOUND


def pod_ip() -> str:
    """The address the pod's route to the cluster DNS leaves from ("" without such a route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(ROUTE_PROBE)
            return str(probe.getsockname()[0])
    except OSError:
        return ""


def handler(index: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def version_string(self) -> str:
            return "nginx"

        def do_GET(self) -> None:
            self._send(head=False)

        def do_HEAD(self) -> None:
            self._send(head=True)

        def _send(self, *, head: bool) -> None:
            status, body = answer(self.path)
            body = body or index
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self._access(status, len(body))

        def _access(self, status: int, length: int) -> None:
            when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
            agent = self.headers.get("User-Agent", "-")
            # A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; nginx logs a.b.c.d.
            client = str(self.client_address[0]).removeprefix("::ffff:")
            print(
                f'{client} - - [{when}] "{self.requestline}" {status} {length} "-" "{agent}" "-"',
                flush=True,
            )

        def log_message(self, format: str, *args: Any) -> None:
            pass  # nginx's access log is written above, on stdout

    return Handler


def tls_context() -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for CN=localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = Path(directory, "server.crt"), Path(directory, "server.key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_file, key_file)
    return context


class TlsServer(Server):
    """The HTTPS listener: each accepted connection is wrapped in TLS in its own thread."""

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext):
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            wrapped = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not speak TLS (or hangs up): nginx drops it too
        with wrapped:
            super().finish_request(wrapped, client_address)


def main() -> None:
    environ = dict(os.environ)
    try:
        http_port, https_port = ports(environ)
    except PortError as err:
        print(f"network-multitool: {err}", file=sys.stderr)
        sys.exit(1)
    context = tls_context()  # as root, before any input: the key files never reach the pod
    start()
    line = index_line(socket.gethostname(), pod_ip(), environ)
    for text in entrypoint_lines(line, environ):
        print(text, flush=True)
    index = f"{line}\n".encode()
    servers = [
        Server(("", http_port), handler(index)),
        TlsServer(("", https_port), handler(index), context),
    ]
    serve(servers, log, f"nginx listening on {http_port} and {https_port} (ssl)")


if __name__ == "__main__":
    main()
