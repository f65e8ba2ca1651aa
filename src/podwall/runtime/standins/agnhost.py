"""Stand-in for the subset of `agnhost` (registry.k8s.io/e2e-test-images/agnhost) probes use.

Subcommands, with upstream's flags and exit statuses:

- `serve --tcp-ports 80,81 --udp-ports 80,81` (podwall's own): every TCP connection gets the
  hostname and is closed, every UDP datagram is answered with the hostname.
- `serve-hostname [--tcp] [--udp] [--http=BOOL] [--port N]`: as upstream (HTTP by default, port
  9376); raw TCP and UDP answer the hostname as `serve` does.
- `porter`: SERVE_PORT_N / SERVE_TCP_PORT_N serve the variable's value over HTTP on port N,
  SERVE_UDP_PORT_N over UDP, SERVE_SCTP_PORT_N over SCTP (the value, then close). TLS is not
  supported and is logged. SCTP needs the kernel's sctp module: where a socket cannot be made
  (EPROTONOSUPPORT, as on kernels without it) porter logs one line on stderr, `SCTP is not
  supported by this kernel: not serving port N`, and keeps serving its other ports (or just
  runs), so the pod becomes Ready; every SCTP probe of it then fails (`connect --protocol
  sctp` exits 1 with `OTHER: ...`), never a pass.
- `netexec [--http-port 8080] [--udp-port 8081] [--udp-listen-addresses A,B]`: HTTP on
  `--http-port` (`/hostname`, `/clientip`, `/echo?msg=X`, else `NOW: <time>`) and upstream's
  UDP commands on `--udp-port` (`hostname`, `echo X`, `clientip`), on every address or those
  listed; `--udp-port -1` serves no UDP.
- `connect HOST:PORT [--protocol tcp|udp|sctp] [--timeout 1s] [--udp-data TEXT]`: exit 0 when
  the connection opens (for UDP: when a reply arrives); else exit 1 after printing upstream's
  prefixes on stderr: `TIMEOUT`, `REFUSED`, `DNS: ...`, `OTHER: ...`, `UNKNOWN: ...`.
- `pause` (also the image's CMD, so a container with neither command nor args): wait for
  SIGTERM or SIGINT.

Servers exit at once on SIGTERM (upstream lingers 60 s; a sandbox has no use for that). The
process drops to the pod's uid before binding, so ports below 1024 need the pod netns sysctl
`net.ipv4.ip_unprivileged_port_start=0`.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import re
import signal
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podwall.runtime.standins.privileges import drop_privileges
from podwall.runtime.standins.sockets import UdpReplier, bound_socket

log = logging.getLogger("agnhost")

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True, slots=True)
class Listener:
    """One port to serve: `protocol` tcp, udp or sctp, `http` for an HTTP answer, `body` to
    send; `host` the address to bind ("" for every one); `netexec` for netexec's commands."""

    protocol: str
    port: int
    body: bytes
    http: bool = False
    host: str = ""
    netexec: bool = False


def parse_duration(text: str) -> float:
    """Seconds in a Go duration ("1s", "500ms", "1m30s", "0")."""
    if text in ("0", ""):
        return 0.0
    parts = _DURATION_PART.findall(text)
    if "".join(value + unit for value, unit in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
    return sum(float(value) * _DURATION_UNITS[unit] for value, unit in parts)


def parse_bool(text: str) -> bool:
    """A Go flag boolean (`--http=false`)."""
    lowered = text.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}")


def parse_ports(text: str) -> list[int]:
    """`80,81` as a list of ports."""
    return [int(port) for port in text.split(",") if port.strip()]


def serve_listeners(tcp: Sequence[int], udp: Sequence[int], body: bytes) -> list[Listener]:
    return [Listener("tcp", port, body) for port in tcp] + [
        Listener("udp", port, body) for port in udp
    ]


def serve_hostname_listeners(args: argparse.Namespace, hostname: bytes) -> list[Listener]:
    if args.http and (args.tcp or args.udp):
        raise SystemExit("Can't server TCP/UDP mode and HTTP mode at the same time")
    listeners = serve_listeners(
        [args.port] if args.tcp else [], [args.port] if args.udp else [], hostname
    )
    if args.http:
        listeners.append(Listener("tcp", args.port, hostname, http=True))
    return listeners


def porter_listeners(environ: Mapping[str, str]) -> list[Listener]:
    """Listeners for upstream porter's SERVE_*_PORT_N variables."""
    listeners = []
    for key, value in sorted(environ.items()):
        match = re.fullmatch(r"SERVE_(PORT|TCP_PORT|UDP_PORT|TLS_PORT|SCTP_PORT)_(\d+)", key)
        if match is None:
            continue
        kind, port = match.group(1), int(match.group(2))
        if kind == "TLS_PORT":
            log.warning("porter: %s is not supported by podwall's agnhost stand-in", key)
            continue
        protocol = {"UDP_PORT": "udp", "SCTP_PORT": "sctp"}.get(kind, "tcp")
        listeners.append(Listener(protocol, port, value.encode(), http=protocol == "tcp"))
    return listeners


def netexec_listeners(args: argparse.Namespace, hostname: bytes) -> list[Listener]:
    """netexec's HTTP port and its UDP port, on each `--udp-listen-addresses` address."""
    listeners = [Listener("tcp", args.http_port, hostname, http=True, netexec=True)]
    if args.udp_port >= 0:
        hosts = [h.strip() for h in args.udp_listen_addresses.split(",") if h.strip()] or [""]
        listeners += [Listener("udp", args.udp_port, hostname, host=h, netexec=True) for h in hosts]
    return listeners


def netexec_udp_answer(data: bytes, client: str, hostname: bytes) -> bytes:
    """Upstream netexec's UDP commands: `hostname`, `echo TEXT`, `clientip`."""
    command, _, rest = data.decode(errors="replace").strip().partition(" ")
    if command == "hostname":
        return hostname
    if command == "echo":
        return rest.encode()
    if command == "clientip":
        return client.encode()
    return b"Unknown udp command received"


def netexec_http_body(target: str, client: str, hostname: bytes) -> bytes:
    """The body netexec answers for a request target (`/hostname`, `/echo?msg=hi`...)."""
    parsed = urllib.parse.urlsplit(target)
    if parsed.path == "/hostname":
        return hostname
    if parsed.path == "/clientip":
        return client.encode()
    if parsed.path == "/echo":
        return "".join(urllib.parse.parse_qs(parsed.query).get("msg", [""])).encode()
    return f"NOW: {time.strftime('%Y-%m-%d %H:%M:%S')}".encode()


def http_response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _udp_reply(listener: Listener) -> Callable[[bytes, tuple[str | Any, ...]], bytes]:
    def reply(data: bytes, addr: tuple[str | Any, ...]) -> bytes:
        log.info("UDP request from %s", addr[0])
        if listener.netexec:
            return netexec_udp_answer(data, f"{addr[0]}:{addr[1]}", listener.body)
        return listener.body

    return reply


async def _answer_tcp(
    listener: Listener, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    peer = writer.get_extra_info("peername")
    log.info("%s request from %s", listener.protocol.upper(), peer[0])
    try:
        if listener.http:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            body = listener.body
            if listener.netexec:
                target = head.split(b"\r\n", 1)[0].decode(errors="replace").split(" ")
                path = target[1] if len(target) > 1 else "/"
                body = netexec_http_body(path, f"{peer[0]}:{peer[1]}", listener.body)
            writer.write(http_response(body))
        else:
            writer.write(listener.body)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass
    finally:
        writer.close()


def sctp_socket(port: int) -> socket.socket | None:
    """A listening SCTP socket on `port`; None, after one line on stderr, where the kernel has
    no SCTP (the pod keeps running, and SCTP probes of it fail)."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    except OSError as exc:
        if exc.errno not in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EAFNOSUPPORT):
            raise
        print(f"SCTP is not supported by this kernel: not serving port {port}", file=sys.stderr)
        return None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    return sock


async def _start(listener: Listener) -> Callable[[], None] | None:
    """Serve `listener`; what closes it, None when it could not be served (SCTP)."""
    loop = asyncio.get_running_loop()
    if listener.protocol == "sctp":
        found = sctp_socket(listener.port)
        if found is None:
            return None
        sock = found
    else:
        sock = bound_socket(listener.protocol, listener.port, listener.host)
    close: Callable[[], None]
    if listener.protocol == "udp":
        transport, _ = await loop.create_datagram_endpoint(
            lambda: UdpReplier(_udp_reply(listener)), sock=sock
        )
        close = transport.close
    else:
        sock.listen(128)
        server = await asyncio.start_server(lambda r, w: _answer_tcp(listener, r, w), sock=sock)
        close = server.close
    log.info("Serving %s on port %d", listener.protocol.upper(), listener.port)
    return close


async def _serve(listeners: Sequence[Listener]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    for listener in listeners:
        await _start(listener)
    await stop.wait()
    log.info("Shutting down after receiving a signal")


def split_dest(dest: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` as (host, port); ValueError when it is neither."""
    host, sep, port = dest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"address {dest}: missing port in address")
    return host.removeprefix("[").removesuffix("]"), int(port)


def connect(dest: str, protocol: str, timeout: float, data: str) -> int:
    """Upstream `agnhost connect`: 0 on success, 1 with a prefixed message on stderr otherwise."""
    try:
        host, port = split_dest(dest)
    except ValueError as exc:
        return _fail(f"UNKNOWN: {exc}")
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=kind)[0]
    except (OSError, UnicodeError) as exc:
        return _fail(f"DNS: {exc}")
    number = socket.IPPROTO_SCTP if protocol == "sctp" else 0
    try:
        sock = socket.socket(family, kind, number)
    except OSError as exc:  # no SCTP in this kernel: a failed probe, never a pass
        return _fail(f"OTHER: {exc}")
    with sock:
        sock.settimeout(timeout or None)
        if protocol == "udp":
            return _connect_udp(sock, address, data)
        return _connect_tcp(sock, address)


def _connect_tcp(sock: socket.socket, address: tuple[Any, ...]) -> int:
    try:
        sock.connect(address)
    except TimeoutError:
        return _fail("TIMEOUT")
    except ConnectionRefusedError:
        return _fail("REFUSED")
    except OSError as exc:
        return _fail(f"OTHER: {exc}")
    return 0


def _connect_udp(sock: socket.socket, address: tuple[Any, ...], data: str) -> int:
    try:
        sock.connect(address)
        sock.send(f"{data}\n".encode())
        reply = sock.recv(1024)
    except TimeoutError as exc:
        return _fail(f"TIMEOUT: {exc}")
    except ConnectionRefusedError as exc:
        return _fail(f"REFUSED: {exc}")
    except OSError as exc:
        return _fail(f"UNKNOWN: {exc}")
    if not reply:
        return _fail("OTHER: No data received from the server.")
    return 0


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def pause() -> int:
    """Wait for SIGTERM or SIGINT, then exit 0, as upstream `agnhost pause`."""
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    print("Paused", flush=True)
    signal.pause()
    print("Shutting down", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="agnhost", description=__doc__.split("\n")[0])
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="answer the hostname on TCP and UDP ports")
    serve.add_argument("--tcp-ports", type=parse_ports, default=[])
    serve.add_argument("--udp-ports", type=parse_ports, default=[])
    hostname = sub.add_parser("serve-hostname", help="upstream serve-hostname")
    for flag, default in (("--tcp", False), ("--udp", False), ("--http", True), ("--close", False)):
        hostname.add_argument(flag, type=parse_bool, nargs="?", const=True, default=default)
    hostname.add_argument("--port", type=int, default=9376)
    sub.add_parser("porter", help="upstream porter (SERVE_PORT_N, SERVE_UDP_PORT_N...)")
    netexec = sub.add_parser("netexec", help="upstream netexec's HTTP and UDP commands")
    netexec.add_argument("--http-port", type=int, default=8080)
    netexec.add_argument("--udp-port", type=int, default=8081)
    netexec.add_argument("--udp-listen-addresses", default="")
    sub.add_parser("pause", help="wait for a signal")
    conn = sub.add_parser("connect", help="upstream connect")
    conn.add_argument("dest")
    conn.add_argument("--protocol", default="tcp", choices=("tcp", "udp", "sctp"))
    conn.add_argument("--timeout", type=parse_duration, default=0.0)
    conn.add_argument("--udp-data", default="hostname")
    return root


def listeners_for(args: argparse.Namespace, environ: Mapping[str, str]) -> list[Listener]:
    """The ports a server subcommand serves."""
    name = socket.gethostname().encode()
    if args.command == "serve":
        return serve_listeners(args.tcp_ports, args.udp_ports, name)
    if args.command == "serve-hostname":
        return serve_hostname_listeners(args, name)
    if args.command == "netexec":
        return netexec_listeners(args, name)
    return porter_listeners(environ)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%Y/%m/%d %H:%M:%S"
    )
    args = parser().parse_args(argv)
    drop_privileges()
    if args.command == "connect":
        return connect(args.dest, args.protocol, args.timeout, args.udp_data)
    if args.command == "pause":
        return pause()
    asyncio.run(_serve(listeners_for(args, os.environ)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
