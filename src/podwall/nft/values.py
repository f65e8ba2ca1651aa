"""Literal values of nft expressions (addresses, prefixes, ranges, protocols, ports).

Address ranges are written as the fewest element texts (`address_texts`); every key component
read back is reduced to an inclusive integer interval, so the fake can detect
overlapping interval elements the way nft does and the tracer can test membership with two
comparisons. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from enum import StrEnum

Interval = tuple[int, int]

MAX_PORT = 65535

# The names nft accepts for `meta l4proto` / `inet_proto` (from /etc/protocols); numbers
# are accepted too. Kept small on purpose: these are the protocols a pod network carries.
PROTOCOLS: dict[str, int] = {
    "icmp": 1,
    "igmp": 2,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "sctp": 132,
    "udplite": 136,
}


class NftType(StrEnum):
    """nft data types usable as set/map keys (and `verdict` as a map value)."""

    IPV4_ADDR = "ipv4_addr"
    IPV6_ADDR = "ipv6_addr"
    INET_PROTO = "inet_proto"
    INET_SERVICE = "inet_service"
    VERDICT = "verdict"


def protocol_number(text: str) -> int:
    """`tcp` -> 6; `6` -> 6."""
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    if text.isdigit() and int(text) <= 255:
        return int(text)
    raise ValueError(f"unknown protocol {text!r}")


def port_interval(text: str) -> Interval:
    """`80` -> (80, 80); `80-81` -> (80, 81)."""
    lo_text, _, hi_text = text.partition("-")
    lo, hi = _port(lo_text), _port(hi_text or lo_text)
    if lo > hi:
        raise ValueError(f"empty port range {text!r}")
    return lo, hi


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_PORT:
        raise ValueError(f"bad port {text!r}")
    return int(text)


def address_interval(text: str, version: int) -> Interval:
    """An address, a prefix `a/n` or a range `a-b` of the given IP version, as integers.

    Host bits in a prefix are cleared, as nft does silently (`10.0.0.1/8` is `10.0.0.0/8`).
    """
    if "/" in text:
        net = ipaddress.ip_network(text, strict=False)
        _check_version(text, net.version, version)
        return int(net.network_address), int(net.broadcast_address)
    if "-" in text:
        lo_text, _, hi_text = text.partition("-")
        lo, hi = ipaddress.ip_address(lo_text), ipaddress.ip_address(hi_text)
        _check_version(text, lo.version, version)
        _check_version(text, hi.version, version)
        if int(lo) > int(hi):
            raise ValueError(f"empty address range {text!r}")
        return int(lo), int(hi)
    addr = ipaddress.ip_address(text)
    _check_version(text, addr.version, version)
    return int(addr), int(addr)


def _check_version(text: str, got: int, want: int) -> None:
    if got != want:
        raise ValueError(f"{text!r} is not an IPv{want} value")


def component_interval(nft_type: NftType, text: str) -> Interval:
    """Parse one key component of a set element (or a literal compared with a field)."""
    match nft_type:
        case NftType.IPV4_ADDR:
            return address_interval(text, 4)
        case NftType.IPV6_ADDR:
            return address_interval(text, 6)
        case NftType.INET_PROTO:
            number = protocol_number(text)
            return number, number
        case NftType.INET_SERVICE:
            return port_interval(text)
    raise ValueError(f"{nft_type} is not a key type")


def is_interval_syntax(nft_type: NftType, text: str) -> bool:
    """Whether `text` is written as a prefix or range, which needs `flags interval`."""
    if nft_type in (NftType.IPV4_ADDR, NftType.IPV6_ADDR):
        return "/" in text or "-" in text
    return nft_type is NftType.INET_SERVICE and "-" in text


def canonical(nft_type: NftType, text: str) -> str:
    """The text nft lists for a component: host bits cleared, /32 prefixes as addresses."""
    if nft_type not in (NftType.IPV4_ADDR, NftType.IPV6_ADDR) or "/" not in text:
        return text
    net = ipaddress.ip_network(text, strict=False)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def overlaps(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> bool:
    """Whether two (concatenated) keys share at least one point in every component."""
    return all(
        x_lo <= y_hi and y_lo <= x_hi for (x_lo, x_hi), (y_lo, y_hi) in zip(a, b, strict=True)
    )


def contains(key: tuple[Interval, ...], point: tuple[int, ...]) -> bool:
    return all(lo <= p <= hi for (lo, hi), p in zip(key, point, strict=True))


def address_texts(ranges: Iterable[Interval]) -> list[str]:
    """IPv4 ranges as disjoint, sorted element texts: `198.18.0.5`, `198.18.0.0/24` or `a-b`.

    nft interval sets refuse overlapping elements, so touching and overlapping ranges are
    merged first; a block with an except becomes two ranges, not dozens of prefixes.
    """
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [_address_text(lo, hi) for lo, hi in merged]


def _address_text(lo: int, hi: int) -> str:
    first = ipaddress.IPv4Address(lo)
    if lo == hi:
        return str(first)
    size = hi - lo + 1
    if size & (size - 1) == 0 and lo % size == 0:
        return f"{first}/{32 - size.bit_length() + 1}"
    return f"{first}-{ipaddress.IPv4Address(hi)}"
