"""Watch streams over the Store: `WatchEvent` and `Watch`.

A Watch receives the Store's committed `Change`s for one resource (optionally one namespace and
a predicate), in resourceVersion order, and hands them out as WatchEvents, from threads (`get`)
or an asyncio loop (`next`). An object that starts matching the predicate arrives as ADDED, one
that stops as DELETED. Nothing is decoded here: the predicate reads the Store's shared objects.

`WatchEvent.object` is the Store's shared object: read-only by contract. A consumer that wants
to change it takes a copy (`objectindex.thaw`). `WatchEvent.text` is its JSON, for writing the
event out without encoding it again ("" for bookmarks).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from podwall.apiserver.history import MODIFIED, Change

ADDED_, DELETED_ = "ADDED", "DELETED"
BOOKMARK = "BOOKMARK"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change as a watch delivers it: ADDED, MODIFIED, DELETED (or BOOKMARK) and the object.

    `object` is shared with the Store and every other reader: never change it.
    """

    type: str
    object: dict[str, Any]
    resource_version: int
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InitialEnd:
    """Marks the end of the initial events (sendInitialEvents=true), at the snapshot's RV."""

    resource_version: int


_Item = Change | InitialEnd


def initial_events_end(resource_version: int) -> WatchEvent:
    """The bookmark that ends a watch's initial events (metadata only, as upstream sends)."""
    meta = {"resourceVersion": str(resource_version), "annotations": {INITIAL_EVENTS_END: "true"}}
    return WatchEvent(BOOKMARK, {"metadata": meta}, resource_version)


class _Nothing(Enum):
    PENDING = "pending"


PENDING = _Nothing.PENDING


@dataclass(eq=False)
class Watch:
    """A stream of WatchEvents for one resource; close it when done (also a context manager)."""

    resource: str
    namespace: str | None
    _predicate: Predicate | None
    _progress: Callable[[Watch], int | None]
    _unsubscribe: Callable[[Watch], None]

    def __post_init__(self) -> None:
        self._pending: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def wants(self, change: Change) -> bool:
        return change.resource == self.resource and (
            self.namespace is None or change.namespace == self.namespace
        )

    def has_pending(self) -> bool:
        with self._cond:
            return bool(self._pending)

    def push(self, items: Iterable[_Item]) -> None:
        """Queue changes (the Store calls this under its lock, in resourceVersion order)."""
        with self._cond:
            self._pending.extend(items)
            self._cond.notify_all()
            waiter, loop = self._waiter, self._loop
        if waiter is not None and loop is not None:
            loop.call_soon_threadsafe(_wake, waiter)

    def progress(self) -> int | None:
        """The resourceVersion this watch has seen everything up to, or None while it has
        events still to hand out: what a BOOKMARK may carry."""
        return self._progress(self)

    def _pop(self) -> WatchEvent | Literal[_Nothing.PENDING] | None:
        """The next deliverable event, None once closed (what get/next answer then), or
        PENDING while nothing is there yet."""
        while True:
            with self._cond:
                if self.closed:
                    return None
                if not self._pending:
                    return PENDING
                item = self._pending.popleft()
            event = self._translate(item)
            if event is not None:
                return event

    def _translate(self, item: _Item) -> WatchEvent | None:
        if isinstance(item, InitialEnd):
            return initial_events_end(item.resource_version)
        stored, rv = item.stored, item.resource_version
        if self._predicate is None:
            return WatchEvent(item.type, stored.obj, rv, stored.text)
        now = self._predicate(stored.obj)
        if item.type != MODIFIED or item.previous is None:
            return WatchEvent(item.type, stored.obj, rv, stored.text) if now else None
        before = self._predicate(item.previous.obj)
        if now and before:
            return WatchEvent(MODIFIED, stored.obj, rv, stored.text)
        if now:
            return WatchEvent(ADDED_, stored.obj, rv, stored.text)
        if before:
            return WatchEvent(DELETED_, stored.obj, rv, stored.text)
        return None

    def get(self, timeout: float | None = None) -> WatchEvent | None:
        """Block until the next event; None on timeout or when the watch is closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            event = self._pop()
            if event is not PENDING:
                return event
            with self._cond:
                if self._pending or self.closed:
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)

    async def next(self, timeout: float | None = None) -> WatchEvent | None:
        """Await the next event; None on timeout or when the watch is closed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._pop()
            if event is not PENDING:
                return event
            waiter: asyncio.Future[None] = loop.create_future()
            with self._cond:
                if self._pending or self.closed:
                    continue
                self._waiter, self._loop = waiter, loop
            remaining = None if deadline is None else deadline - loop.time()
            try:
                if remaining is not None and remaining <= 0:
                    return None
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return None
            finally:
                with self._cond:
                    self._waiter = self._loop = None

    def close(self) -> None:
        with self._cond:
            if self.closed:
                return
            self.closed = True
            self._cond.notify_all()
            waiter, loop = self._waiter, self._loop
        self._unsubscribe(self)
        if waiter is not None and loop is not None:
            loop.call_soon_threadsafe(_wake, waiter)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
