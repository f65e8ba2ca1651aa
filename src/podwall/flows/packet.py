"""The headers of a logged packet: IPv4 addresses, the transport protocol and its ports.

nfnetlink_log copies the start of the packet (the network header on); this reads what a flow
needs from it and nothing else. A header that is not IPv4, is cut short or is a later fragment
gives None or a packet without ports, never made-up values. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

TCP, UDP, SCTP, ICMP = 6, 17, 132, 1
PORTED = frozenset({TCP, UDP, SCTP})  # the protocols whose header starts with two ports
TCP_SYN, TCP_ACK = 0x02, 0x10
_PORTS = struct.Struct(">HH")
_FRAGMENT_OFFSET = 0x1FFF


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address
    protocol: int  # IANA number: 6 TCP, 17 UDP, 132 SCTP
    sport: int | None = None  # None: no transport header in what was copied
    dport: int | None = None
    tcp_flags: int | None = None

    @property
    def syn_only(self) -> bool:
        """A TCP connection's opening packet (SYN without ACK)."""
        return self.tcp_flags is not None and self.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN


def parse_ipv4(data: bytes) -> Packet | None:
    """The IPv4 packet starting at data[0], or None when it is not one."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    header = (data[0] & 0x0F) * 4
    if header < 20 or len(data) < header:
        return None
    protocol = data[9]
    packet = Packet(
        src=ipaddress.IPv4Address(data[12:16]),
        dst=ipaddress.IPv4Address(data[16:20]),
        protocol=protocol,
    )
    (fragment,) = struct.unpack_from(">H", data, 6)
    transport = data[header:]
    if protocol not in PORTED or fragment & _FRAGMENT_OFFSET or len(transport) < _PORTS.size:
        return packet
    sport, dport = _PORTS.unpack_from(transport)
    flags = transport[13] if protocol == TCP and len(transport) >= 14 else None
    return Packet(
        src=packet.src,
        dst=packet.dst,
        protocol=protocol,
        sport=sport,
        dport=dport,
        tcp_flags=flags,
    )
