"""The pod's own addresses, interface by interface, as Go's `net.Interfaces()` lists them
(what traefik/whoami prints as its `IP:` lines): each interface's IPv4 address, then its
IPv6 addresses. Read with an unprivileged ioctl and /proc/net/if_inet6, so it works after a
stand-in has dropped root.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from pathlib import Path

SIOCGIFADDR = 0x8915
IF_INET6 = Path("/proc/net/if_inet6")


def interface_addresses() -> list[str]:
    """Every address of every interface, in interface index order."""
    v6 = ipv6_by_index(IF_INET6.read_text() if IF_INET6.exists() else "")
    found: list[str] = []
    for index, name in sorted(socket.if_nameindex()):
        v4 = ipv4_of(name)
        found += ([v4] if v4 else []) + v6.get(index, [])
    return found


def ipv4_of(name: str) -> str | None:
    """The interface's (primary) IPv4 address, None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            data = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(data[20:24])


def ipv6_by_index(text: str) -> dict[int, list[str]]:
    """/proc/net/if_inet6's addresses by interface index (`fe80...0001 02 40 20 80 eth0`)."""
    found: dict[int, list[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or len(fields[0]) != 32:
            continue
        address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
        found.setdefault(int(fields[1], 16), []).append(str(address))
    return found
