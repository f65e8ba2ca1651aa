"""Peer address sets: pod addresses and ipBlocks (minus their excepts) as disjoint networks.

nft interval sets refuse overlapping elements, so every set is collapsed first. Only IPv4 is
rendered: the sandbox dataplane is single-stack. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from podwall.model.policy import IPBlock

V4Net = ipaddress.IPv4Network


def block_networks(block: IPBlock) -> list[V4Net]:
    """`cidr` minus every `except`, as disjoint IPv4 networks (none for an IPv6 block)."""
    if not isinstance(block.cidr, V4Net):
        return []
    remaining = [block.cidr]
    for ex in block.except_:
        if not isinstance(ex, V4Net):
            continue
        remaining = [piece for net in remaining for piece in _minus(net, ex)]
    return remaining


def _minus(net: V4Net, ex: V4Net) -> list[V4Net]:
    if not net.overlaps(ex):
        return [net]
    if ex.supernet_of(net):
        return []
    return list(net.address_exclude(ex))


def collapse(networks: Iterable[V4Net]) -> list[str]:
    """Disjoint, sorted element texts: `198.18.0.5` for a host, `198.18.0.0/24` otherwise."""
    out = []
    for net in ipaddress.collapse_addresses(networks):
        out.append(str(net.network_address) if net.prefixlen == 32 else str(net))
    return out


def host(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> V4Net | None:
    return ipaddress.IPv4Network(ip) if isinstance(ip, ipaddress.IPv4Address) else None
