"""Peer address sets: pod addresses and ipBlocks (minus their excepts) as disjoint ranges.

nft interval sets refuse overlapping elements, so every set is merged into disjoint ranges
first; a block with an except becomes two ranges, not dozens of CIDRs. Only IPv4 is rendered:
the sandbox dataplane is single-stack. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from podwall.model.policy import IPAddress, IPBlock

V4Net = ipaddress.IPv4Network
Range = tuple[int, int]  # inclusive, as integers


def block_ranges(block: IPBlock) -> list[Range]:
    """`cidr` minus every `except`, as disjoint IPv4 ranges (none for an IPv6 block)."""
    if not isinstance(block.cidr, V4Net):
        return []
    remaining = [_range(block.cidr)]
    for ex in block.except_:
        if isinstance(ex, V4Net):
            remaining = [piece for r in remaining for piece in _minus(r, _range(ex))]
    return remaining


def _range(net: V4Net) -> Range:
    return int(net.network_address), int(net.broadcast_address)


def _minus(r: Range, cut: Range) -> list[Range]:
    lo, hi = r
    if cut[1] < lo or cut[0] > hi:
        return [r]
    out = []
    if cut[0] > lo:
        out.append((lo, cut[0] - 1))
    if cut[1] < hi:
        out.append((cut[1] + 1, hi))
    return out


def host(ip: IPAddress) -> V4Net | None:
    if not isinstance(ip, ipaddress.IPv4Address):
        return None
    # From (int, prefix): ipaddress would turn an address object into text and parse it back.
    return ipaddress.IPv4Network((int(ip), 32))


def collapse(ranges: Iterable[Range]) -> list[str]:
    """Disjoint, sorted element texts: `198.18.0.5`, `198.18.0.0/24` or `a-b`."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [_text(lo, hi) for lo, hi in merged]


def _text(lo: int, hi: int) -> str:
    first = ipaddress.IPv4Address(lo)
    if lo == hi:
        return str(first)
    size = hi - lo + 1
    if size & (size - 1) == 0 and lo % size == 0:
        return f"{first}/{32 - size.bit_length() + 1}"
    return f"{first}-{ipaddress.IPv4Address(hi)}"
