"""Redis's wire protocol (RESP2), both ways: a server reading commands and writing replies, a
client writing commands and reading replies.

Values are bytes, as Redis keeps them (a DockerCoins worker stores random bytes in a hash). A
command arrives as a RESP array of bulk strings (`*1\\r\\n$4\\r\\nPING\\r\\n`) or inline, words
split on spaces (`PING`), as `nc` and `telnet` send it. Reads are bounded: a line of at most
`MAX_LINE` bytes, a bulk string of at most `MAX_BULK`, an array of at most `MAX_ITEMS`.

I/O only on the file objects it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

MAX_LINE = 64 * 1024
MAX_BULK = 16 * 1024 * 1024
MAX_ITEMS = 1024 * 1024
CRLF = b"\r\n"

Value = bytes | int | None | list["Value"]


class Readable(Protocol):
    """A buffered binary stream: a socket's `makefile("rb")`."""

    def readline(self, size: int | None = -1, /) -> bytes: ...

    def read(self, size: int | None = -1, /) -> bytes: ...

    def close(self) -> None: ...


class ProtocolError(Exception):
    """The peer sent something that is not RESP; the message is Redis's own words."""


class ReplyError(Exception):
    """An error reply (`-ERR ...`); the message is the reply without its `-`."""


def simple(text: str) -> bytes:
    return b"+" + text.encode() + CRLF


def error(text: str) -> bytes:
    """An error reply; Redis turns newlines in its messages into spaces."""
    return b"-" + text.replace("\r", " ").replace("\n", " ").encode() + CRLF


def integer(number: int) -> bytes:
    return b":%d\r\n" % number


def bulk(data: bytes | None) -> bytes:
    """A bulk string, or RESP2's null bulk string (`$-1`) for a missing value."""
    if data is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(items: Sequence[bytes | None]) -> bytes:
    """An array of bulk strings (KEYS, HGETALL...)."""
    return b"*%d\r\n" % len(items) + b"".join(bulk(item) for item in items)


def command(words: Sequence[bytes]) -> bytes:
    """A command as clients send it: an array of bulk strings."""
    return array(list(words))


def read_command(stream: Readable) -> list[bytes] | None:
    """The next command's words; None at the end of the stream. An empty inline line is an
    empty command, which Redis ignores."""
    line = _line(stream)
    if line is None:
        return None
    if not line.startswith(b"*"):
        return line.split()
    count = _number(line[1:], "invalid multibulk length")
    if count > MAX_ITEMS:
        raise ProtocolError("Protocol error: invalid multibulk length")
    words = []
    for _ in range(max(count, 0)):
        header = _line(stream)
        if header is None:
            return None
        if not header.startswith(b"$"):
            found = header[:1].decode(errors="replace")
            raise ProtocolError(f"Protocol error: expected '$', got '{found}'")
        words.append(_bulk_body(stream, _number(header[1:], "invalid bulk length")))
    return words


def read_reply(stream: Readable) -> Value:
    """One reply as a client reads it: bytes for simple and bulk strings, int, None for a null,
    a list for an array; an error reply raises ReplyError, a closed stream ConnectionError."""
    line = _line(stream)
    if line is None:
        raise ConnectionError("Connection closed by server.")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest
    if kind == b"-":
        raise ReplyError(rest.decode(errors="replace"))
    if kind == b":":
        return _number(rest, "invalid integer")
    if kind == b"$":
        size = _number(rest, "invalid bulk length")
        return None if size < 0 else _bulk_body(stream, size)
    if kind == b"*":
        count = _number(rest, "invalid multibulk length")
        return None if count < 0 else [read_reply(stream) for _ in range(min(count, MAX_ITEMS))]
    raise ProtocolError(f"Protocol error: unknown reply type {kind!r}")


def _line(stream: Readable) -> bytes | None:
    raw = stream.readline(MAX_LINE)
    if not raw:
        return None
    if not raw.endswith(b"\n"):
        raise ProtocolError("Protocol error: too big inline request")
    return raw.rstrip(b"\r\n")


def _bulk_body(stream: Readable, size: int) -> bytes:
    if size < 0 or size > MAX_BULK:
        raise ProtocolError("Protocol error: invalid bulk length")
    data = stream.read(size + 2)
    if len(data) < size + 2:
        raise ConnectionError("Connection closed in the middle of a bulk string.")
    return data[:size]


def _number(text: bytes, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"Protocol error: {what}") from None
