"""The coalescing transport: one write per event-loop turn, flushed before close."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from podwall.apiserver.coalesce import CoalescingTransport, open_transports


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def test_the_writes_of_one_turn_leave_as_one() -> None:
    async def scenario() -> list[bytes]:
        inner = Recording()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"")
        transport.writelines([b"{", b"}"])
        assert inner.writes == []  # nothing before the turn ends
        assert transport.get_write_buffer_size() == 21
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"next"]


def test_close_sends_what_is_pending_and_abort_drops_it() -> None:
    async def scenario() -> tuple[Recording, Recording]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recording(), Recording()
        first, second = CoalescingTransport(closed, loop), CoalescingTransport(aborted, loop)
        first.write(b"last words")
        first.close()
        second.write(b"lost")
        second.abort()
        await asyncio.sleep(0)
        assert first.get_extra_info("peername") == ("127.0.0.1", 1)
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert (closed.writes, closed.closed) == ([b"last words"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


def test_open_transports_are_kept_per_loop_until_they_are_gone() -> None:
    async def make() -> tuple[asyncio.AbstractEventLoop, CoalescingTransport]:
        loop = asyncio.get_running_loop()
        return loop, CoalescingTransport(Recording(), loop)

    async def listed(
        transport: CoalescingTransport, other: asyncio.AbstractEventLoop
    ) -> tuple[bool, bool]:
        mine = open_transports(asyncio.get_running_loop())
        return transport in mine, transport in open_transports(other)

    other, elsewhere = asyncio.run(make())
    transport: CoalescingTransport | None = None

    async def scenario() -> tuple[tuple[bool, bool], list[asyncio.Transport]]:
        nonlocal transport
        transport = CoalescingTransport(Recording(), asyncio.get_running_loop())
        seen = await listed(transport, other)
        transport = None  # the connection is gone: nothing refers to its transport
        gc.collect()
        return seen, open_transports(asyncio.get_running_loop())

    seen, after = asyncio.run(scenario())
    assert seen == (True, False)  # listed for its own loop only
    assert after == []
    assert open_transports(other) == [elsewhere]
