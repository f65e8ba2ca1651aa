from __future__ import annotations

import ipaddress

import pytest

from podwall.flows.packet import SCTP, TCP, UDP, Packet, parse_ipv4
from tests.unit.flows.wire import ipv4

A, B = ipaddress.IPv4Address("198.18.0.2"), ipaddress.IPv4Address("198.18.1.3")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            ipv4(str(A), str(B), TCP, 40000, 8080, flags=0x02),
            Packet(src=A, dst=B, protocol=TCP, sport=40000, dport=8080, tcp_flags=0x02),
            id="a TCP SYN gives its addresses, ports and flags",
        ),
        pytest.param(
            ipv4(str(A), str(B), UDP, 5353, 53),
            Packet(src=A, dst=B, protocol=UDP, sport=5353, dport=53),
            id="a UDP datagram gives ports and no flags",
        ),
        pytest.param(
            ipv4(str(A), str(B), SCTP, 1000, 80),
            Packet(src=A, dst=B, protocol=SCTP, sport=1000, dport=80),
            id="SCTP ports sit where TCP's do",
        ),
        pytest.param(
            ipv4(str(A), str(B), TCP, 1, 2, options=b"\x01" * 8),
            Packet(src=A, dst=B, protocol=TCP, sport=1, dport=2, tcp_flags=0x02),
            id="IP options move the transport header",
        ),
        pytest.param(
            ipv4(str(A), str(B), 1),
            Packet(src=A, dst=B, protocol=1),
            id="ICMP has no ports",
        ),
        pytest.param(
            ipv4(str(A), str(B), TCP, fragment=0x0010),
            Packet(src=A, dst=B, protocol=TCP),
            id="a later fragment has no transport header: no ports",
        ),
        pytest.param(
            ipv4(str(A), str(B), TCP)[:22],
            Packet(src=A, dst=B, protocol=TCP),
            id="a copy cut inside the ports gives none",
        ),
        pytest.param(b"\x60" + b"\0" * 39, None, id="IPv6 is not read as IPv4"),
        pytest.param(b"\x45" + b"\0" * 10, None, id="a header shorter than 20 bytes is none"),
        pytest.param(b"\x4f" + b"\0" * 30, None, id="a header length past the copy is none"),
    ],
)
def test_parse_ipv4(data: bytes, expected: Packet | None) -> None:
    assert parse_ipv4(data) == expected


@pytest.mark.parametrize(
    ("flags", "syn_only"),
    [(0x02, True), (0x12, False), (0x10, False), (None, False)],
    ids=["SYN", "SYN-ACK", "ACK", "not TCP"],
)
def test_syn_only(flags: int | None, syn_only: bool) -> None:
    assert Packet(src=A, dst=B, protocol=TCP, tcp_flags=flags).syn_only is syn_only
