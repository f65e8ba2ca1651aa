"""Listening sockets for stand-ins: every address of the pod, IPv6 and IPv4 alike, and the
protocol of a UDP server that answers each datagram."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from typing import Any, cast


def bound_socket(protocol: str, port: int, host: str = "") -> socket.socket:
    """A `tcp` or `udp` socket bound to `port`, dual-stack when the pod has IPv6.

    Exits with a message (naming the sysctl when an unprivileged process may not bind `port`)
    rather than a traceback: the message is what `kubectl logs` shows.
    """
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    dual = host == "" and socket.has_dualstack_ipv6()
    family = socket.AF_INET6 if dual or ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    if dual:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except PermissionError:
        sock.close()
        raise SystemExit(
            f"cannot bind {protocol} port {port} as uid {os.getuid()}: the pod's network "
            "namespace needs net.ipv4.ip_unprivileged_port_start=0"
        ) from None
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot bind {protocol} port {port}: {exc.strerror}") from None
    return sock


class UdpReplier(asyncio.DatagramProtocol):
    """Answers each datagram with `reply(data, addr)`, sent back to its sender; None sends
    nothing (nor does an empty reply: asyncio sends no empty datagram)."""

    def __init__(self, reply: Callable[[bytes, tuple[str | Any, ...]], bytes | None]) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        out = self.reply(data, addr)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)
