"""SPDY/3.1 framing, as kubectl's moby/spdystream speaks it (no I/O here).

Every frame starts with 8 bytes. A control frame: `1 | version (15 bits) | type (16)`, then
`flags (8) | length (24)`. A data frame: `0 | stream id (31)`, then `flags (8) | length (24)`.
SYN_STREAM, SYN_REPLY and HEADERS carry a header block: a count, then (name, value) pairs, every
number a 32-bit big-endian length, multiple values joined by NUL. The blocks are zlib-compressed
with DICTIONARY as the preset dictionary, one compression context per direction for the whole
connection, each block ended with a sync flush.

Stream ids: the client opens odd ones, the server even ones. kubectl opens every exec stream.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from podwall.errors import PodwallError

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS = 1, 2, 3, 4
PING, GOAWAY, HEADERS, WINDOW_UPDATE = 6, 7, 8, 9
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, UNSUPPORTED_VERSION, CANCEL = 1, 2, 3, 4, 5
# GOAWAY status codes
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR, GOAWAY_INTERNAL_ERROR = 0, 1, 2
MAX_DATA_LENGTH = (1 << 24) - 1

_WORDS = (  # the dictionary's names, each after its 32-bit length
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type",
    "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
    "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
    "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
)  # fmt: skip
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
# The SPDY/3 header dictionary (spdy draft 3, §2.6.10.1): 1423 bytes, no trailing NUL.
DICTIONARY = (
    b"".join(struct.pack(">I", len(word)) + word for word in (w.encode() for w in _WORDS))
    + _TAIL.encode()
)

Headers = dict[str, list[str]]


class SpdyError(PodwallError):
    """A frame this side cannot make sense of: the connection is done."""


def encode_header_block(headers: Mapping[str, Sequence[str]]) -> bytes:
    """The uncompressed header block: names lowercased, several values joined by NUL."""
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        key = name.lower().encode()
        value = "\0".join(values).encode()
        out += [struct.pack(">I", len(key)), key, struct.pack(">I", len(value)), value]
    return b"".join(out)


def decode_header_block(block: bytes) -> Headers:
    """The headers of an uncompressed block (names lowercased, values split on NUL)."""
    headers: Headers = {}
    try:
        (count,) = struct.unpack_from(">I", block, 0)
        offset = 4
        for _ in range(count):
            (length,) = struct.unpack_from(">I", block, offset)
            name = block[offset + 4 : offset + 4 + length]
            offset += 4 + length
            (length,) = struct.unpack_from(">I", block, offset)
            value = block[offset + 4 : offset + 4 + length]
            offset += 4 + length
            if offset > len(block):
                raise SpdyError("truncated header block")
            headers.setdefault(name.decode("latin-1").lower(), []).extend(
                value.decode("latin-1").split("\0")
            )
    except struct.error as exc:
        raise SpdyError(f"bad header block: {exc}") from exc
    return headers


class HeaderCompressor:
    """One direction's header compression: a zlib stream with the dictionary, sync-flushed."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, zdict=DICTIONARY)

    def compress(self, headers: Mapping[str, Sequence[str]]) -> bytes:
        block = encode_header_block(headers)
        return self._zlib.compress(block) + self._zlib.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    """The other direction's: every block inflates in the same zlib stream."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zdict=DICTIONARY)

    def decompress(self, data: bytes) -> Headers:
        try:
            block = self._zlib.decompress(data)
        except zlib.error as exc:
            raise SpdyError(f"bad header compression: {exc}") from exc
        return decode_header_block(block)


@dataclass(frozen=True, slots=True)
class DataFrame:
    stream_id: int
    data: bytes
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True, slots=True)
class SynStream:
    stream_id: int
    headers: Headers
    flags: int = 0
    associated_to: int = 0
    priority: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True, slots=True)
class SynReply:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True, slots=True)
class HeadersFrame:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True, slots=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True, slots=True)
class Ping:
    ping_id: int


@dataclass(frozen=True, slots=True)
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@dataclass(frozen=True, slots=True)
class OtherControl:
    """SETTINGS, WINDOW_UPDATE and anything else: spdystream ignores them, and so does this."""

    frame_type: int
    flags: int
    payload: bytes


Frame = DataFrame | SynStream | SynReply | HeadersFrame | RstStream | Ping | GoAway | OtherControl


def _control(frame_type: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, frame_type, flags << 24 | len(payload)) + payload


class FrameWriter:
    """Encodes frames; owns this direction's header compressor."""

    def __init__(self) -> None:
        self._headers = HeaderCompressor()

    def data(self, stream_id: int, data: bytes = b"", *, fin: bool = False) -> bytes:
        if len(data) > MAX_DATA_LENGTH:
            raise ValueError("data frame too long")
        flags = FLAG_FIN if fin else 0
        return struct.pack(">II", stream_id & 0x7FFFFFFF, flags << 24 | len(data)) + data

    def syn_stream(
        self,
        stream_id: int,
        headers: Mapping[str, Sequence[str]],
        *,
        fin: bool = False,
        associated_to: int = 0,
        priority: int = 0,
    ) -> bytes:
        block = self._headers.compress(headers)
        payload = struct.pack(">IIBB", stream_id, associated_to, (priority & 7) << 5, 0) + block
        return _control(SYN_STREAM, FLAG_FIN if fin else 0, payload)

    def syn_reply(
        self,
        stream_id: int,
        headers: Mapping[str, Sequence[str]] | None = None,
        *,
        fin: bool = False,
    ) -> bytes:
        block = self._headers.compress(headers or {})
        return _control(SYN_REPLY, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + block)

    def rst_stream(self, stream_id: int, status: int) -> bytes:
        return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))

    def ping(self, ping_id: int) -> bytes:
        return _control(PING, 0, struct.pack(">I", ping_id))

    def goaway(self, last_good_stream_id: int, status: int = GOAWAY_OK) -> bytes:
        return _control(GOAWAY, 0, struct.pack(">II", last_good_stream_id, status))


class FrameReader:
    """Decodes frames from bytes fed in any pieces; owns the peer's header decompressor."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._headers = HeaderDecompressor()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        return list(self._frames())

    def _frames(self) -> Iterator[Frame]:
        while len(self._buffer) >= 8:
            first, flags_length = struct.unpack_from(">II", self._buffer, 0)
            length = flags_length & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                return
            flags = flags_length >> 24
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if first & 0x80000000:
                version = (first >> 16) & 0x7FFF
                if version != VERSION:
                    raise SpdyError(f"unsupported SPDY version {version}")
                yield self._control_frame(first & 0xFFFF, flags, payload)
            else:
                yield DataFrame(first & 0x7FFFFFFF, payload, flags)

    def _control_frame(self, frame_type: int, flags: int, payload: bytes) -> Frame:
        try:
            if frame_type == SYN_STREAM:
                stream_id, associated, priority, _slot = struct.unpack_from(">IIBB", payload)
                return SynStream(
                    stream_id & 0x7FFFFFFF,
                    self._headers.decompress(payload[10:]),
                    flags,
                    associated & 0x7FFFFFFF,
                    priority >> 5,
                )
            if frame_type in (SYN_REPLY, HEADERS):
                (stream_id,) = struct.unpack_from(">I", payload)
                headers = self._headers.decompress(payload[4:])
                kind = SynReply if frame_type == SYN_REPLY else HeadersFrame
                return kind(stream_id & 0x7FFFFFFF, headers, flags)
            if frame_type == RST_STREAM:
                stream_id, status = struct.unpack_from(">II", payload)
                return RstStream(stream_id & 0x7FFFFFFF, status)
            if frame_type == PING:
                return Ping(struct.unpack_from(">I", payload)[0])
            if frame_type == GOAWAY:
                last, status = struct.unpack_from(">II", payload)
                return GoAway(last & 0x7FFFFFFF, status)
        except struct.error as exc:
            raise SpdyError(f"short control frame of type {frame_type}") from exc
        return OtherControl(frame_type, flags, payload)
