"""CIDR parsing exactly as the API server's legacy fields accept it (Go 1.16's net.ParseCIDR,
k8s.io/utils/net.ParseCIDRSloppy): host bits set, leading zeros, IPv4-mapped IPv6.

Validation and conversion share it, so whatever validates also converts. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress

from podwall.model.record import Record


# Read field by field, never compared or hashed: identity equality, as a plain class has.
class GoIPNet(Record, frozen=False, kw_only=False, eq=False):
    """net.IPNet as ParseCIDR returns it: the masked address (4 or 16 bytes) and its mask."""

    ip: bytes
    prefix: int
    bits: int

    def contains(self, ip: bytes) -> bool:
        """IPNet.Contains, with networkNumberAndMask's IPv4-in-IPv6 handling."""
        network = _to4(self.ip)
        if network is None:
            network = self.ip
        mask = _mask(self.prefix, self.bits)
        if len(mask) == 16 and len(network) == 4:
            mask = mask[12:]
        elif len(mask) == 4 and len(network) != 4:
            return False
        ip4 = _to4(ip)
        if ip4 is not None:
            ip = ip4
        if len(ip) != len(network):
            return False
        return all(n & m == a & m for n, m, a in zip(network, mask, ip, strict=True))


def _mask(prefix: int, bits: int) -> bytes:
    return (((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)).to_bytes(bits // 8, "big")


_V4_IN_V6 = bytes(10) + b"\xff\xff"


def _to4(ip: bytes) -> bytes | None:
    """IP.To4."""
    if len(ip) == 4:
        return ip
    if len(ip) == 16 and ip[:12] == _V4_IN_V6:
        return ip[12:]
    return None


def parse_cidr_sloppy(text: str) -> GoIPNet | None:
    """net.ParseCIDR of Go 1.16 (netutils.ParseCIDRSloppy); None where it returns an error."""
    addr, slash, mask = text.partition("/")
    if not slash:
        return None
    ip, bits = _parse_ipv4(addr), 32
    if ip is None:
        ip, bits = _parse_ipv6(addr), 128
    prefix, used = _dtoi(mask)
    if ip is None or prefix is None or used != len(mask) or prefix > bits:
        return None
    masked = bytes(a & m for a, m in zip(ip, _mask(prefix, bits), strict=True))
    return GoIPNet(masked, prefix, bits)


_BIG = 0xFFFFFF


def _dtoi(text: str) -> tuple[int | None, int]:
    """dtoi: leading decimal digits (any number of leading zeros) and how many were read."""
    n, i = 0, 0
    while i < len(text) and "0" <= text[i] <= "9":
        n = n * 10 + int(text[i])
        if n >= _BIG:
            return None, i
        i += 1
    return (n, i) if i else (None, 0)


def _xtoi(text: str) -> tuple[int | None, int]:
    """xtoi: leading hexadecimal digits and how many were read."""
    n, i = 0, 0
    while i < len(text) and text[i] in "0123456789abcdefABCDEF":
        n = n * 16 + int(text[i], 16)
        if n >= _BIG:
            return None, i
        i += 1
    return (n, i) if i else (None, 0)


def _parse_ipv4(text: str) -> bytes | None:
    """parseIPv4 of Go 1.16: four decimal octets; leading zeros are accepted (and ignored)."""
    out = bytearray()
    for i in range(4):
        if i > 0:
            if not text.startswith("."):
                return None
            text = text[1:]
        n, used = _dtoi(text)
        if n is None or n > 0xFF:
            return None
        out.append(n)
        text = text[used:]
    return bytes(out) if not text else None


def _parse_ipv6(text: str) -> bytes | None:
    """parseIPv6 of Go 1.16: hex groups, at most one `::`, an optional trailing IPv4 part."""
    ip = bytearray(16)
    ellipsis = -1
    if text.startswith("::"):
        ellipsis, text = 0, text[2:]
        if not text:
            return bytes(ip)
    i = 0
    while i < 16:
        n, used = _xtoi(text)
        if n is None or n > 0xFFFF:
            return None
        if used < len(text) and text[used] == ".":
            if (ellipsis < 0 and i != 12) or i + 4 > 16:
                return None
            v4 = _parse_ipv4(text)
            if v4 is None:
                return None
            ip[i : i + 4], text, i = v4, "", i + 4
            break
        ip[i], ip[i + 1], i = n >> 8, n & 0xFF, i + 2
        text = text[used:]
        if not text:
            break
        if text[0] != ":" or len(text) == 1:
            return None
        text = text[1:]
        if text[0] == ":":
            if ellipsis >= 0:
                return None
            ellipsis, text = i, text[1:]
            if not text:
                break
    if text:
        return None
    if i < 16:
        if ellipsis < 0:
            return None
        gap = 16 - i
        ip[ellipsis + gap : 16] = ip[ellipsis:i]
        ip[ellipsis : ellipsis + gap] = bytes(gap)
    elif ellipsis >= 0:
        return None
    return bytes(ip)


def to_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network `text` denotes, host bits cleared; IPv4-mapped IPv6 becomes IPv4, as Go
    matches IPv4 addresses against it. Raises ValueError where the API server would."""
    net = parse_cidr_sloppy(text)
    if net is None:
        raise ValueError(f"invalid CIDR {text!r}")
    ip4 = _to4(net.ip)
    if ip4 is not None and (net.bits == 32 or net.prefix >= 96):
        prefix = net.prefix if net.bits == 32 else net.prefix - 96
        return ipaddress.IPv4Network((int.from_bytes(ip4, "big"), prefix))
    return ipaddress.IPv6Network((int.from_bytes(net.ip, "big"), net.prefix))
