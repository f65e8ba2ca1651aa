"""Stand-in for `traefik/whoami` (formerly `containous/whoami`, `emilevauge/whoami`), the tiny
Go server that prints what it knows of itself and of the request.

As upstream's app.go: flags `--port` (or `-port`, `=` or a separate value; $WHOAMI_PORT_NUMBER,
else 80) and `--name` ($WHOAMI_NAME); `--verbose`, `--cert`, `--key`, `--cacert` and
`--allowed-origins` are accepted and ignored (no TLS here). Paths:

- `/` (and any path not below): `Name: N` (when named), `Hostname: H`, one `IP: A` per
  address of the pod's interfaces, `RemoteAddr: ip:port`, then the request as Go's
  `Request.Write` sends it: request line, `Host`, `User-Agent`, the other headers sorted,
  CRLF line ends, a blank line;
- `/api`: the same as JSON (hostname, ip, headers, url, host, method, name, remoteAddr);
- `/health`: 200 (a POST of a status code changes it, as upstream);
- `/bench`: `1`; `/data?size=N`: N bytes.

Run as `python -m podwall.runtime.standins.whoami ARGS...`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from podwall.runtime.standins.addresses import interface_addresses
from podwall.runtime.standins.webserving import Reply, Request, canonical, host_port, run

log = logging.getLogger("whoami")

DEFAULT_PORT = "80"
VALUED = frozenset({"port", "name", "cert", "key", "cacert", "allowed-origins"})
SWITCHES = frozenset({"verbose"})
# Go's Request.Write writes these itself, or not at all.
WRITTEN_APART = frozenset({"host", "user-agent", "content-length", "transfer-encoding", "trailer"})


@dataclass(frozen=True, slots=True)
class Options:
    port: int
    name: str = ""


class UsageError(Exception):
    """Arguments whoami does not take; the message is Go's flag package's."""


def parse(args: Sequence[str], environ: Mapping[str, str]) -> Options:
    values = {"port": environ.get("WHOAMI_PORT_NUMBER") or DEFAULT_PORT}
    values["name"] = environ.get("WHOAMI_NAME", "")
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--" or not arg.startswith("-"):
            break
        flag, sep, value = arg.lstrip("-").partition("=")
        if flag in SWITCHES:
            continue
        if flag not in VALUED:
            raise UsageError(f"flag provided but not defined: -{flag}")
        if not sep:
            if not rest:
                raise UsageError(f"flag needs an argument: -{flag}")
            value = rest.pop(0)
        values[flag] = value
    if not values["port"].isdigit():
        raise UsageError(f"listen tcp: address {values['port']}: invalid port")
    return Options(int(values["port"]), values["name"])


def whoami_text(request: Request, name: str, hostname: str, ips: Sequence[str]) -> bytes:
    lines = [f"Name: {name}"] if name else []
    lines += [f"Hostname: {hostname}", *(f"IP: {ip}" for ip in ips)]
    lines.append(f"RemoteAddr: {host_port(request.client)}")
    head = "\n".join(lines) + "\n"
    return head.encode() + go_request_write(request)


def go_request_write(request: Request) -> bytes:
    """The request as Go's `Request.Write` writes it back (header names canonical)."""
    out = [f"{request.method} {request.target} HTTP/1.1"]
    out.append(f"Host: {request.header('Host') or ''}")
    out.append(f"User-Agent: {request.header('User-Agent') or 'Go-http-client/1.1'}")
    if request.body:
        out.append(f"Content-Length: {len(request.body)}")
    grouped: dict[str, list[str]] = {}
    for key, value in request.headers:
        if key.lower() not in WRITTEN_APART:
            grouped.setdefault(canonical(key), []).append(value)
    out += [f"{key}: {value}" for key in sorted(grouped) for value in grouped[key]]
    return ("\r\n".join(out) + "\r\n\r\n").encode() + request.body


def api_json(request: Request, name: str, hostname: str, ips: Sequence[str]) -> bytes:
    headers: dict[str, list[str]] = {}
    for key, value in request.headers:
        headers.setdefault(canonical(key), []).append(value)
    data: dict[str, object] = {
        "hostname": hostname,
        "ip": list(ips),
        "headers": dict(sorted(headers.items())),  # Go writes a map's keys sorted
        "url": request.target,
        "host": request.header("Host") or "",
        "method": request.method,
        "name": name,
        "remoteAddr": host_port(request.client),
    }
    return (json.dumps({k: v for k, v in data.items() if v}, separators=(",", ":")) + "\n").encode()


def answerer(
    options: Options, hostname: Callable[[], str], ips: Callable[[], list[str]]
) -> Callable[[Request], Reply]:
    health = [200]

    def answer(request: Request) -> Reply:
        path = request.path
        if path == "/health":
            if request.method == "POST":
                text = request.body.decode(errors="replace").strip()
                if not text.isdigit():
                    return Reply(400, b"invalid status code\n")
                health[0] = int(text)
                return Reply(200, b"")
            return Reply(health[0], b"")
        if path == "/bench":
            return Reply(200, b"1", "text/plain")
        if path == "/data":
            size = request.args().get("size", "1")
            return Reply(200, b"-" * max(0, int(size) if size.isdigit() else 1))
        if path == "/api":
            body = api_json(request, options.name, hostname(), ips())
            return Reply(200, body, "application/json")
        return Reply(200, whoami_text(request, options.name, hostname(), ips()))

    return answer


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse(sys.argv[1:] if argv is None else argv, os.environ)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    answer = answerer(options, socket.gethostname, interface_addresses)
    run(log, options.port, answer, f"Starting up on port {options.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
