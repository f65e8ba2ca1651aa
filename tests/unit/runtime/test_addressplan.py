"""The sandbox address plan: node ranges, node addresses, the fabric's address."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.runtime.addressplan import (
    FABRIC_ADDRESS,
    MAX_NODES,
    NODE_RANGE,
    POD_SUPERNET,
    allocatable,
    node_address,
    node_subnet,
)


@pytest.mark.parametrize(
    ("index", "subnet", "address"),
    [
        pytest.param(0, "198.18.0.0/24", "198.18.255.1", id="the first node"),
        pytest.param(2, "198.18.2.0/24", "198.18.255.3", id="the third node"),
        pytest.param(MAX_NODES - 1, "198.18.252.0/24", "198.18.255.253", id="the last node"),
    ],
)
def test_node_index_gives_its_pod_range_and_its_address(
    index: int, subnet: str, address: str
) -> None:
    assert str(node_subnet(index)) == subnet
    assert str(node_address(index)) == address


def test_node_addresses_stay_apart_from_pods_and_from_the_fabric() -> None:
    addresses = {node_address(i) for i in range(MAX_NODES)}
    assert len(addresses) == MAX_NODES
    assert all(a in NODE_RANGE for a in addresses)
    assert FABRIC_ADDRESS in NODE_RANGE
    assert FABRIC_ADDRESS not in addresses
    assert NODE_RANGE.subnet_of(POD_SUPERNET)
    assert all(not node_subnet(i).overlaps(NODE_RANGE) for i in range(MAX_NODES))


@pytest.mark.parametrize("index", [-1, MAX_NODES])
def test_an_index_without_a_node_address_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="node index"):
        node_address(index)


def test_allocatable_leaves_network_broadcast_and_dot_one() -> None:
    hosts = list(allocatable(ipaddress.IPv4Network("198.18.4.0/24")))
    assert hosts[0] == ipaddress.IPv4Address("198.18.4.2")
    assert hosts[-1] == ipaddress.IPv4Address("198.18.4.254")
    assert len(hosts) == 253
