"""Stand-ins for demo web servers whose answer is one page about the pod that served it.

| image                          | port          | answers                                     |
|--------------------------------|---------------|---------------------------------------------|
| httpd (Apache)                 | 80            | `<html><body><h1>It works!</h1></body></html>` |
|                                |               | at `/`; 404 elsewhere                       |
| nginxdemos/hello               | 80            | its HTML page: Server name, Server address  |
|                                |               | (ip:port), URI, Date, Client IP, Request ID |
| nginxdemos/hello:plain-text    | 80            | the same as text lines (`Server address:`)  |
| nginxdemos/nginx-hello         | 8080          | the unprivileged variant: same page         |
| paulbouwer/hello-kubernetes    | $PORT (8080)  | its HTML page: $MESSAGE (`Hello world!`),   |
|                                |               | namespace, pod, node from $KUBERNETES_*     |
| gcr.io/kuar-demo/kuard-*       | 8080          | a page naming the pod (not kuard's React    |
|                                |               | app); `/healthy` and `/ready` answer `ok`   |
| rxmllc/hostinfo (RX-M's labs)  | 9898          | `HOSTNAME IP`, one line of text, at any path|
|                                |               | (as the labs show it: `hi 10.32.0.6`)       |

Run as `python -m podwall.runtime.standins.demopages KIND TAG`; it drops to the pod's uid.
"""

from __future__ import annotations

import html
import logging
import os
import platform
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate

from podwall.runtime.standins.webserving import Reply, Request, host_port, run

log = logging.getLogger("demo-page")

HTML = "text/html; charset=utf-8"
HTTPD_PAGE = b"<html><body><h1>It works!</h1></body></html>\n"
HTTPD_NOT_FOUND = b"""<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
</body></html>
"""
KINDS = (
    "httpd", "nginx-hello", "nginx-hello-unprivileged", "hello-kubernetes", "kuard", "hostinfo"
)  # fmt: skip
HOSTINFO_PORT = 9898


def _nginx_time() -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S %z")


def httpd(request: Request) -> Reply:
    if request.path in ("/", "/index.html"):
        return Reply(200, HTTPD_PAGE, "text/html")
    return Reply(404, HTTPD_NOT_FOUND, "text/html; charset=iso-8859-1")


def nginx_hello(request: Request, hostname: str, plain: bool) -> Reply:
    """nginxdemos/hello's page; `plain` for the plain-text tag."""
    address, request_id = host_port(request.server), uuid.uuid4().hex
    if plain:
        text = (
            f"Server address: {address}\nServer name: {hostname}\nDate: {_nginx_time()}\n"
            f"URI: {request.target}\nRequest ID: {request_id}\n"
        )
        return Reply(200, text.encode(), "text/plain")
    rows = [
        ("Server&nbsp;name:", hostname), ("Server&nbsp;address:", address),
        ("URI:", request.target), ("Date:", _nginx_time()),
        ("Client&nbsp;IP:", request.client[0]),
    ]  # fmt: skip
    cells = "\n".join(f"<p><span>{k}</span> <span>{html.escape(v)}</span></p>" for k, v in rows)
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Hello World</title>\n</head>\n<body>\n"
        f'<div class="info">\n{cells}\n</div>\n<div id="footer">\n'
        f"Request ID: {request_id}<br/>\n&copy; NGINX, Inc. 2018\n</div>\n</body>\n</html>\n"
    )
    return Reply(200, page.encode(), "text/html")


def hello_kubernetes(request: Request, hostname: str, environ: Mapping[str, str]) -> Reply:
    """paulbouwer/hello-kubernetes' home page (GET only, as its express routes)."""
    if request.method not in ("GET", "HEAD"):
        return Reply(404, f"Cannot {request.method} {request.path}\n".encode(), HTML)
    message = environ.get("MESSAGE") or "Hello world!"
    node = (
        f"{environ.get('KUBERNETES_NODE_NAME') or '-'} ({platform.system()} {platform.release()})"
    )
    rows = [
        ("namespace:", environ.get("KUBERNETES_NAMESPACE") or "-"),
        ("pod:", environ.get("KUBERNETES_POD_NAME") or hostname),
        ("node:", node),
    ]
    table = "\n".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Hello Kubernetes!</title>\n</head>\n<body>\n"
        f'<div class="main">\n<div class="content">\n<div id="message">\n  {html.escape(message)}\n'
        f'</div>\n<div id="info">\n<table>\n{table}\n</table>\n</div>\n</div>\n</div>\n'
        "</body>\n</html>\n"
    )
    return Reply(200, page.encode(), HTML)


def kuard(request: Request, hostname: str) -> Reply:
    if request.path in ("/healthy", "/ready"):
        return Reply(200, b"ok", "text/plain")
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<title>KUAR Demo</title>\n</head>\n'
        f"<body>\n<h1>Kubernetes Up and Running Demo</h1>\n<p>Hostname: {html.escape(hostname)}"
        f"</p>\n<p>Addresses: {html.escape(request.server[0])}</p>\n</body>\n</html>\n"
    )
    return Reply(200, page.encode(), HTML)


def hostinfo(request: Request, hostname: str) -> Reply:
    """The pod's hostname and the address the request reached (the pod's IP)."""
    return Reply(200, f"{hostname} {request.server[0]}\n".encode(), "text/plain")


def port_of(kind: str, environ: Mapping[str, str]) -> int:
    if kind == "hostinfo":
        return HOSTINFO_PORT
    if kind == "hello-kubernetes":
        value = environ.get("PORT", "")
        return int(value) if value.isdigit() else 8080
    return 80 if kind in ("httpd", "nginx-hello") else 8080


def answerer(kind: str, tag: str, environ: Mapping[str, str]) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        hostname = socket.gethostname()
        if kind == "httpd":
            return httpd(request)
        if kind.startswith("nginx-hello"):
            return nginx_hello(request, hostname, plain=tag.startswith("plain-text"))
        if kind == "hello-kubernetes":
            return hello_kubernetes(request, hostname, environ)
        if kind == "hostinfo":
            return hostinfo(request, hostname)
        return kuard(request, hostname)

    return answer


SERVER_HEADERS: Mapping[str, str] = {
    "httpd": "Apache/2.4.62 (Unix)",
    "nginx-hello": "nginx/1.27.2",
    "nginx-hello-unprivileged": "nginx/1.27.2",
    "hello-kubernetes": "",
    "kuard": "",
    "hostinfo": "",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kind, tag = [*args, "", ""][:2]
    if kind not in KINDS:
        print(f"unknown demo page {kind!r}: one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    environ = dict(os.environ)
    port = port_of(kind, environ)
    ready = f"{kind} listening on port {port} ({formatdate(usegmt=True)})"
    run(log, port, answerer(kind, tag, environ), ready, SERVER_HEADERS[kind] or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
