"""The sandbox's address plan: a pod range per node, node addresses, the fabric's address.

All inside the RFC 2544 benchmarking range 198.18.0.0/15, so sandbox traffic never leaves it:

- pods: 198.18.0.0/16; node `i` (its index, 0-based) allocates from 198.18.<i>.0/24, from .2
  to .254 (.1 stays free, as on a real node's bridge);
- nodes: 198.18.255.<i + 1> (the /24 of index 255 is reserved for them, so no pod takes one);
- the fabric that routes between nodes: 198.18.255.254;
- services: 198.19.0.0/16, cluster DNS at 198.19.0.10 (`podwall.model.addressing`).

Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

POD_SUPERNET = ipaddress.IPv4Network("198.18.0.0/16")
SERVICE_SUPERNET = ipaddress.IPv4Network("198.19.0.0/16")
NODE_RANGE = ipaddress.IPv4Network("198.18.255.0/24")
FABRIC_ADDRESS = ipaddress.IPv4Address("198.18.255.254")
# Node addresses are .1 to .253 of NODE_RANGE: indices 0 to 252.
MAX_NODES = 253


def node_subnet(index: int) -> ipaddress.IPv4Network:
    """Node `index` allocates pod addresses from 198.18.<index>.0/24."""
    if not 0 <= index <= 255:
        raise ValueError(f"node index {index} must be 0 to 255")
    return ipaddress.IPv4Network(f"{POD_SUPERNET.network_address + index * 256}/24")


def node_address(index: int) -> ipaddress.IPv4Address:
    """The address node `index` holds on its uplink to the fabric: 198.18.255.<index + 1>."""
    if not 0 <= index < MAX_NODES:
        raise ValueError(f"node index {index} must be 0 to {MAX_NODES - 1} on an underlay")
    return NODE_RANGE.network_address + index + 1


def allocatable(subnet: ipaddress.IPv4Network) -> Iterator[ipaddress.IPv4Address]:
    """The pod addresses of a node's /24, lowest first."""
    # .0 and .255 are the network and broadcast addresses; .1 stays free.
    base = subnet.network_address
    return (base + offset for offset in range(2, 255))
