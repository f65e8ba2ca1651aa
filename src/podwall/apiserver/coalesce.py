"""One send per response: writes made in one turn of the event loop leave together.

uvicorn writes a response's head and its body separately, so every answer took two TLS records
and two `send()` calls, and woke the client twice. `CoalescingTransport` wraps a connection's
transport: what is written during one turn of the loop is joined and handed on at the end of
that turn (`loop.call_soon`), before the loop waits for I/O again, so nothing is delayed beyond
the turn that wrote it. Everything else is the wrapped transport's. `CoalescingProtocol` is the
server's HTTP protocol with SPDY upgrades over it: uvicorn's httptools one (llhttp, in C) when
httptools is installed (a pinned dependency), else its h11 one (pure Python: the same answers,
at about twice the CPU per request).

Every connection's transport is also kept, by event loop, until it is gone (`open_transports`):
the server aborts those still open when it stops, whatever protocol holds them by then.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from podwall.apiserver.spdyexec import SpdyH11Protocol


class CoalescingTransport(asyncio.Transport):
    """A transport whose writes of one event-loop turn reach the wrapped one as one write."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []
        known = _OPEN.get(loop)
        if known is None:
            known = _OPEN[loop] = weakref.WeakSet()
        known.add(self)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Hand what was written on to the wrapped transport now."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._inner.is_closing():
            self._inner.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending.clear()
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)


_OPEN: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakSet[CoalescingTransport]]
_OPEN = weakref.WeakKeyDictionary()


def open_transports(loop: asyncio.AbstractEventLoop) -> list[asyncio.Transport]:
    """The connections of `loop` whose transport is still referenced (open or closing)."""
    return list(_OPEN.get(loop, ()))


class CoalescingH11Protocol(SpdyH11Protocol):
    """The h11 protocol, writing through a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))


def _protocol() -> type[asyncio.Protocol]:
    try:
        from podwall.apiserver.spdyhttptools import SpdyHttpToolsProtocol
    except ImportError:  # httptools absent: h11 answers the same, slower
        return CoalescingH11Protocol

    class CoalescingHttpToolsProtocol(SpdyHttpToolsProtocol):
        """The httptools protocol, writing through a CoalescingTransport."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))

    return CoalescingHttpToolsProtocol


CoalescingProtocol = _protocol()
