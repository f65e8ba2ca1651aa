"""Stand-ins for the request-echoing servers of Kubernetes' and minikube's tutorials.

`registry.k8s.io/echoserver` (also k8s.gcr.io/, gcr.io/google_containers/, and
e2e-test-images/echoserver), nginx with a Lua page, on port 8080 (its 8443 TLS listener is
not run). Its answer, text/plain, from nginx 1.13.3's template for tags 1.10 and later (and
no tag): `Hostname:`, `Pod Information:`, `Server values:`, `Request Information:`
(client_address, method, real path, query, request_version, request_scheme, request_uri),
`Request Headers:` (lower-case, sorted), `Request Body:`. Tags before 1.10 (1.4, the one
hello-minikube ran for years) answer the older `CLIENT VALUES:` / `SERVER VALUES:` /
`HEADERS RECEIVED:` / `BODY:` page of nginx 1.10.0.

`kicbase/echo-server` (minikube's hello-minikube, also `jmalloc/echo-server`), a Go server on
$PORT (else 8080): `Request served by <hostname>`, a blank line, `HTTP/1.1 GET /path`, a blank
line, `Host:` and the other headers sorted, then the body after a blank line.
($SEND_SERVER_HOSTNAME=false drops the first line, as upstream.)

Run as `python -m podwall.runtime.standins.echoserver (k8s TAG | minikube)`; it drops to the
pod's uid at start.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence

from podwall.runtime.standins.webserving import Reply, Request, canonical, host_port, run

log = logging.getLogger("echoserver")

PORT = 8080
NEW_SERVER = "nginx/1.13.3"
NEW_VERSION = "nginx: 1.13.3 - lua: 10008"
OLD_SERVER = "nginx/1.10.0"
OLD_VERSION = "nginx: 1.10.0 - lua: 10001"
NO_BODY = "-no body in request-"


def is_old(tag: str) -> bool:
    """Tags 1.0 to 1.9 serve the older page; 1.10, 2.x and no tag the newer."""
    parts = tag.split(".")
    return len(parts) >= 2 and parts[0] == "1" and parts[1].isdigit() and int(parts[1]) < 10


def _request_uri(request: Request) -> str:
    """nginx's `$scheme://$host:$server_port$request_uri`: $host is the Host header's name."""
    host = request.header("Host") or request.server[0]
    host = host[: host.index("]") + 1] if host.startswith("[") else host.split(":")[0]
    return f"http://{host.lower()}:{request.server[1]}{request.target}"


def _headers(request: Request, prefix: str) -> list[str]:
    ordered = sorted(request.headers, key=lambda item: item[0].lower())
    return [f"{prefix}{key.lower()}={value}" for key, value in ordered]


def k8s_page(request: Request, hostname: str, tag: str) -> bytes:
    body = request.body.decode(errors="replace") if request.body else NO_BODY
    version = request.version.removeprefix("HTTP/")
    if is_old(tag):
        lines = [
            "CLIENT VALUES:", f"client_address={request.client[0]}",
            f"command={request.method}", f"real path={request.path}",
            f"query={request.query or 'nil'}", f"request_version={version}",
            f"request_uri={_request_uri(request)}", "", "SERVER VALUES:",
            f"server_version={OLD_VERSION}", "", "HEADERS RECEIVED:",
            *_headers(request, ""), f"BODY:\n{body}",
        ]  # fmt: skip
        return "\n".join(lines).encode()
    lines = [
        "", "", f"Hostname: {hostname}", "", "Pod Information:",
        "\t-no pod information available-", "", "Server values:",
        f"\tserver_version={NEW_VERSION}", "", "Request Information:",
        f"\tclient_address={request.client[0]}", f"\tmethod={request.method}",
        f"\treal path={request.path}", f"\tquery={request.query}",
        f"\trequest_version={version}", "\trequest_scheme=http",
        f"\trequest_uri={_request_uri(request)}", "", "Request Headers:",
        *_headers(request, "\t"), "", "Request Body:", f"\t{body}", "", "",
    ]  # fmt: skip
    return "\n".join(lines).encode()


def minikube_page(request: Request, hostname: str, send_hostname: bool) -> bytes:
    lines = [f"Request served by {hostname}", ""] if send_hostname else []
    lines += [f"{request.version} {request.method} {request.target}", ""]
    lines.append(f"Host: {request.header('Host') or host_port(request.server)}")
    others = [(canonical(key), value) for key, value in request.headers if key.lower() != "host"]
    lines += [f"{key}: {value}" for key, value in sorted(others, key=lambda item: item[0])]
    text = "\n".join(lines) + "\n"
    if request.body:
        text += "\n" + request.body.decode(errors="replace")
    return text.encode()


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    flavour, tag = [*args, "", ""][:2]
    if flavour == "minikube":
        port_text = os.environ.get("PORT") or str(PORT)
        send = os.environ.get("SEND_SERVER_HOSTNAME", "").lower() != "false"

        def minikube(request: Request) -> Reply:
            return Reply(200, minikube_page(request, socket.gethostname(), send), "text/plain")

        ready = f"Echo server listening on port {port_text}."
        run(log, int(port_text), minikube, ready)
        return
    server = OLD_SERVER if is_old(tag) else NEW_SERVER

    def k8s(request: Request) -> Reply:
        return Reply(200, k8s_page(request, socket.gethostname(), tag), "text/plain")

    run(log, PORT, k8s, f"echoserver (nginx) listening on port {PORT}", server)


if __name__ == "__main__":
    main()
