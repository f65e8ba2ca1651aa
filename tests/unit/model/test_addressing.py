"""Addresses: the sandbox plan for pods and services, and the ranges an ipBlock holds."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.model.addressing import DNS_SERVICE_IP, block_ranges, with_addresses
from podwall.model.policy import IPBlock
from tests.builders import make_cluster


def block(cidr: str, *excepts: str) -> IPBlock:
    return IPBlock(
        cidr=ipaddress.ip_network(cidr), except_=tuple(ipaddress.ip_network(e) for e in excepts)
    )


def text(ranges: list[tuple[int, int]], version: int = 4) -> list[str]:
    address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [f"{address(lo)}-{address(hi)}" for lo, hi in ranges]


RANGES = [
    ("a block without excepts is one range", block("198.18.0.0/24"),
     ["198.18.0.0-198.18.0.255"]),
    ("an except in the middle splits the block in two", block("198.18.0.0/24", "198.18.0.64/26"),
     ["198.18.0.0-198.18.0.63", "198.18.0.128-198.18.0.255"]),
    ("an except at an edge trims it", block("198.18.0.0/24", "198.18.0.0/25"),
     ["198.18.0.128-198.18.0.255"]),
    ("an except covering the block leaves nothing", block("198.18.0.0/24", "198.18.0.0/16"), []),
    ("overlapping excepts remove their union", block("198.18.0.0/24", "198.18.0.0/26", "198.18.0.32/27"),
     ["198.18.0.64-198.18.0.255"]),
    ("an except of the other IP version is ignored", block("198.18.0.0/31", "2001:db8::/64"),
     ["198.18.0.0-198.18.0.1"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ipblock", "expected"), [r[1:] for r in RANGES], ids=[r[0] for r in RANGES]
)
def test_block_ranges(ipblock: IPBlock, expected: list[str]) -> None:
    assert text(block_ranges(ipblock)) == expected


def test_an_ipv6_block_has_ranges_of_ipv6_numbers() -> None:
    assert text(block_ranges(block("2001:db8::/127")), 6) == ["2001:db8::-2001:db8::1"]


@given(st.integers(0, 255), st.sampled_from(["198.18.0.0/24", "198.18.0.128/25", "0.0.0.0/0"]))
def test_the_ranges_hold_the_addresses_the_block_contains(last: int, cidr: str) -> None:
    ipblock = block(cidr, "198.18.0.16/28", "198.18.0.200/30")
    address = ipaddress.IPv4Address(f"198.18.0.{last}")
    inside = any(lo <= int(address) <= hi for lo, hi in block_ranges(ipblock))
    assert inside is ipblock.contains(address)


POD = """
apiVersion: v1
kind: Pod
metadata: {name: NAME, namespace: z}
spec: {containers: [{name: c}]}
---
"""
DNS = """
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {selector: {k8s-app: kube-dns}, ports: [{port: 53, protocol: UDP}]}
---
"""


def test_pods_without_an_address_get_one_in_name_order() -> None:
    c = with_addresses(make_cluster(POD.replace("NAME", "b") + POD.replace("NAME", "a"), base=""))
    assert {p.key: str(p.ips[0]) for p in c.pods} == {"z/a": "198.18.0.10", "z/b": "198.18.0.11"}


def test_given_addresses_are_kept_and_never_handed_out_again() -> None:
    given = POD.replace("NAME", "a").replace("spec:", "status: {podIP: 198.18.0.10}\nspec:")
    c = with_addresses(make_cluster(given + POD.replace("NAME", "b"), base=""))
    assert {p.key: str(p.ips[0]) for p in c.pods} == {"z/a": "198.18.0.10", "z/b": "198.18.0.11"}


def test_cluster_dns_gets_its_reserved_address() -> None:
    c = with_addresses(make_cluster(DNS, base=""))
    assert [s.cluster_ip for s in c.services] == [str(DNS_SERVICE_IP)]
