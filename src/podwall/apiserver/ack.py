"""A write's acknowledgement: settled once by the Store's threads, awaited by the writer.

The committer (or the listener thread) settles an `Ack` when the write is durable (or failed);
the writer waits for it, blocking its thread (`wait`) or from an event loop (`wait_async`).
This replaces a `concurrent.futures.Future` wrapped for asyncio: that one took its condition
lock on every call, ran a chain of callbacks and, for an asyncio waiter, asked for the result
again in the loop (~10 % of a lone writer's create). Here settling is one lock, one check and
one wake-up of the waiter (`call_soon_threadsafe` for a loop, a lock for a thread).

A waiter that went away (its task cancelled) changes nothing: the write stands all the same.
Nothing here knows what a write is.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable


class Ack:
    """Settled once (`settle`); one waiter at a time (`wait` or `wait_async`)."""

    __slots__ = ("_error", "_lock", "_settled", "_wake")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settled = False
        self._error: BaseException | None = None
        self._wake: Callable[[], None] | None = None

    def done(self) -> bool:
        return self._settled

    def settle(self, error: BaseException | None = None) -> None:
        """Durable (`error` None) or failed; the first call counts, later ones are ignored."""
        with self._lock:
            if self._settled:
                return
            self._error = error
            self._settled = True
            wake, self._wake = self._wake, None
        if wake is not None:
            wake()

    def result(self) -> None:
        """Raise what the write failed with (only once settled)."""
        if self._error is not None:
            raise self._error

    def wait(self, timeout: float | None = None) -> None:
        """Block this thread until settled (TimeoutError after `timeout` seconds); raise what
        the write failed with."""
        gate = threading.Lock()
        gate.acquire()
        if self._on_settle(gate.release) and not gate.acquire(
            timeout=-1 if timeout is None else timeout
        ):
            raise TimeoutError("the write was not acknowledged in time")
        self.result()

    async def wait_async(self) -> None:
        """Wait in the running loop until settled (one wake-up of the loop); raise what the
        write failed with."""
        if not self._settled:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            if self._on_settle(lambda: _wake(loop, waiter)):
                await waiter
        self.result()

    def _on_settle(self, wake: Callable[[], None]) -> bool:
        """Call `wake` (from the settling thread) once settled; False if settled already."""
        with self._lock:
            if self._settled:
                return False
            self._wake = wake
            return True


def _wake(loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[None]) -> None:
    """From the settling thread: resolve `waiter` in its loop, unless the loop closed."""
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # cancelled: its task went away
        waiter.set_result(None)


def settle_all(acks: list[Ack], error: BaseException | None = None) -> None:
    for ack in acks:
        ack.settle(error)
