"""The nfnetlink_log (NFLOG) wire format: configuration requests out, logged packets in.

nftables' `log group N` hands each matching packet to the nfnetlink_log subsystem, which sends
it to whoever bound group N in that network namespace, as a netlink message of subsystem
NFNL_SUBSYS_ULOG (linux/netfilter/nfnetlink_log.h). This module builds the messages that bind a
group and set its options, and decodes the messages the kernel sends back: acknowledgements
(errors) and packets (`LogRecord`).

Why not pyroute2: pyroute2 0.9.7 (pinned) has netlink sockets for nftables, conntrack and ipset
but no message classes for NFULNL, and its generic attribute decoder costs tens of microseconds
a message; the handful of fixed layouts here decode with `struct` at a fraction of that, which
keeps the reader far below one core under a log flood. Pure: no I/O here (`reader` owns the
socket).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from podwall.flows.packet import Packet, parse_ipv4

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_PACKET = 0
NFULNL_MSG_CONFIG = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4

# Configuration attributes (NFULA_CFG_*) and commands.
CFG_CMD, CFG_MODE, CFG_NLBUFSIZ, CFG_TIMEOUT, CFG_QTHRESH, CFG_FLAGS = 1, 2, 3, 4, 5, 6
CMD_BIND, CMD_UNBIND = 1, 2
COPY_PACKET = 2
FLAG_SEQ = 0x1  # a per-group sequence number in every packet message: gaps are losses

# Packet attributes (NFULA_*).
PACKET_HDR, MARK, TIMESTAMP, IFINDEX_INDEV, IFINDEX_OUTDEV = 1, 2, 3, 4, 5
PAYLOAD, PREFIX, SEQ = 9, 10, 12
NLA_TYPE_MASK = 0x3FFF  # strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

_NLMSGHDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_NFGENMSG = struct.Struct("=BBH")  # family, version, resource id (the group, big-endian)
_NLA = struct.Struct("=HH")
_ERRNO = struct.Struct("=i")
_BE16 = struct.Struct(">H")
_BE32 = struct.Struct(">I")
_BE64X2 = struct.Struct(">QQ")
_HEADER = _NLMSGHDR.size + _NFGENMSG.size


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    """One packet as nfnetlink_log reported it."""

    group: int
    prefix: str
    seq: int | None  # the group's sequence number (FLAG_SEQ); None when not asked for
    hook: int  # the netfilter hook (NF_INET_FORWARD is 2, PRE_ROUTING 0)
    mark: int
    indev: int | None
    outdev: int | None
    timestamp: float | None  # the packet's own time, when the kernel had one (often not)
    packet: Packet | None  # None when the payload is not an IPv4 header we can read


@dataclass(frozen=True, slots=True)
class Ack:
    """The kernel's answer to a request: errno 0 means done."""

    sequence: int
    errno: int


def _attr(kind: int, payload: bytes) -> bytes:
    length = _NLA.size + len(payload)
    return _NLA.pack(length, kind) + payload + b"\0" * (-length % 4)


def config_message(group: int, attrs: list[bytes], sequence: int) -> bytes:
    """A NFULNL_MSG_CONFIG request for `group`, asking for an acknowledgement."""
    body = _NFGENMSG.pack(socket.AF_UNSPEC, 0, socket.htons(group)) + b"".join(attrs)
    kind = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG
    return (
        _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK, sequence, 0)
        + body
    )


def command(cmd: int) -> bytes:
    return _attr(CFG_CMD, struct.pack("=B", cmd))


def copy_mode(copy_range: int) -> bytes:
    """Copy the first `copy_range` bytes of each packet (its headers, not its data)."""
    return _attr(CFG_MODE, struct.pack(">IBB", copy_range, COPY_PACKET, 0))


def flags(value: int) -> bytes:
    return _attr(CFG_FLAGS, _BE16.pack(value))


def queue_threshold(messages: int) -> bytes:
    """Send once this many packets are batched (or the timeout passed)."""
    return _attr(CFG_QTHRESH, _BE32.pack(messages))


def flush_timeout(hundredths: int) -> bytes:
    """Send a partial batch after this long, in hundredths of a second."""
    return _attr(CFG_TIMEOUT, _BE32.pack(hundredths))


def buffer_size(size: int) -> bytes:
    """The kernel-side batch buffer, in bytes."""
    return _attr(CFG_NLBUFSIZ, _BE32.pack(size))


def attributes(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """The netlink attributes in data[start:end], by type (the first of each type)."""
    found: dict[int, bytes] = {}
    offset = start
    while offset + _NLA.size <= end:
        length, kind = _NLA.unpack_from(data, offset)
        if length < _NLA.size or offset + length > end:
            break  # malformed: stop rather than read past the message
        found.setdefault(kind & NLA_TYPE_MASK, data[offset + _NLA.size : offset + length])
        offset += (length + 3) & ~3
    return found


def messages(data: bytes) -> Iterator[LogRecord | Ack]:
    """Decode one datagram from the socket: packets and acknowledgements, in order.

    Messages of other subsystems and malformed ones are skipped, never guessed at.
    """
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, sequence, _port = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            return
        if kind == NLMSG_ERROR and length >= _NLMSGHDR.size + _ERRNO.size:
            (err,) = _ERRNO.unpack_from(data, offset + _NLMSGHDR.size)
            yield Ack(sequence, -err)
        elif kind == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET and length >= _HEADER:
            yield _record(data, offset, offset + length)
        offset += (length + 3) & ~3


def _record(data: bytes, start: int, end: int) -> LogRecord:
    _family, _version, res_id = _NFGENMSG.unpack_from(data, start + _NLMSGHDR.size)
    attrs = attributes(data, start + _HEADER, end)
    hdr = attrs.get(PACKET_HDR, b"")
    stamp = attrs.get(TIMESTAMP)
    seconds = None
    if stamp is not None and len(stamp) == _BE64X2.size:
        sec, usec = _BE64X2.unpack(stamp)
        seconds = sec + usec / 1e6
    return LogRecord(
        group=socket.ntohs(res_id),
        prefix=attrs.get(PREFIX, b"").split(b"\0", 1)[0].decode(errors="replace"),
        seq=_u32(attrs.get(SEQ)),
        hook=hdr[2] if len(hdr) >= 3 else -1,
        mark=_u32(attrs.get(MARK)) or 0,
        indev=_u32(attrs.get(IFINDEX_INDEV)),
        outdev=_u32(attrs.get(IFINDEX_OUTDEV)),
        timestamp=seconds,
        packet=parse_ipv4(attrs.get(PAYLOAD, b"")),
    )


def _u32(value: bytes | None) -> int | None:
    if value is None or len(value) != _BE32.size:
        return None
    result: int = _BE32.unpack(value)[0]
    return result
