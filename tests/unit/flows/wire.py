"""Bytes as the kernel sends them, for the decoder's tests: IPv4 packets and NFLOG messages."""

from __future__ import annotations

import ipaddress
import socket
import struct

from podwall.flows import nflog


def ipv4(
    src: str,
    dst: str,
    protocol: int = 6,
    sport: int = 40000,
    dport: int = 8080,
    *,
    flags: int = 0x02,
    options: bytes = b"",
    fragment: int = 0,
) -> bytes:
    """An IPv4 header (with `options`), then the first 20 bytes of a transport header."""
    ihl = (20 + len(options)) // 4
    transport = struct.pack(">HH", sport, dport) + b"\0" * 9 + bytes([flags]) + b"\0" * 6
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x40 | ihl,
        0,
        20 + len(options) + len(transport),
        0,
        fragment,
        64,
        protocol,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + options + transport


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def packet_message(
    group: int,
    prefix: str,
    payload: bytes,
    *,
    seq: int | None = None,
    hook: int = 2,
    timestamp: tuple[int, int] | None = None,
) -> bytes:
    """One NFULNL_MSG_PACKET, laid out as nfnetlink_log builds it."""
    attrs = [_attr(nflog.PACKET_HDR, struct.pack(">HBB", 0x0800, hook, 0))]
    attrs.append(_attr(nflog.PREFIX, prefix.encode() + b"\0"))
    if seq is not None:
        attrs.append(_attr(nflog.SEQ, struct.pack(">I", seq)))
    if timestamp is not None:
        attrs.append(_attr(nflog.TIMESTAMP, struct.pack(">QQ", *timestamp)))
    attrs.append(_attr(nflog.PAYLOAD, payload))
    body = struct.pack("=BBH", socket.AF_INET, 0, socket.htons(group)) + b"".join(attrs)
    kind = (nflog.NFNL_SUBSYS_ULOG << 8) | nflog.NFULNL_MSG_PACKET
    return struct.pack("=IHHII", 16 + len(body), kind, 0, 0, 0) + body


def ack(sequence: int, errno: int) -> bytes:
    """An NLMSG_ERROR answer (errno 0 is the acknowledgement)."""
    body = struct.pack("=i", -errno) + struct.pack("=IHHII", 16, 0, 0, sequence, 0)
    return struct.pack("=IHHII", 16 + len(body), nflog.NLMSG_ERROR, 0, sequence, 0) + body
