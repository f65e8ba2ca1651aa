"""The pod's own addresses, as whoami lists them."""

from __future__ import annotations

from podwall.runtime.standins.addresses import interface_addresses, ipv4_of, ipv6_by_index

IF_INET6 = """\
00000000000000000000000000000001 01 80 10 80       lo
fe8000000000000000fc00fffe000001 02 40 20 80     eth0
fd000000000000000000000000000002 02 40 00 80     eth0
"""


def test_if_inet6_lines_give_addresses_by_interface_index() -> None:
    assert ipv6_by_index(IF_INET6) == {1: ["::1"], 2: ["fe80::fc:ff:fe00:1", "fd00::2"]}


def test_malformed_lines_are_skipped() -> None:
    assert ipv6_by_index("garbage\n\nxyz 01 80 10 80 lo\n") == {}


def test_loopback_is_listed_first() -> None:
    found = interface_addresses()
    assert found[0] == "127.0.0.1"
    assert ipv4_of("lo") == "127.0.0.1"


def test_an_interface_without_ipv4_has_none() -> None:
    assert ipv4_of("no-such-if0") is None
