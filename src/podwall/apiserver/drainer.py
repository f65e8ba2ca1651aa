"""A queue drained by one thread of its own, in order; the Store's committer and its listener
delivery are two.

Owns the thread's life: started when first needed, woken per item, and on `stop` left to
finish what is queued before it ends. What an item means is the subclass's (`_drain`).

A caller may also drain in its own thread (`_put(item, here=True)`, then `_drain_here()`), when
the queue was empty and nobody was draining: one item alone then costs no wake-up of the
thread and no wait for it. Drains never overlap and always take items oldest first, whichever
thread runs them: whatever is queued meanwhile waits for the drain in progress, then goes to
the thread.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Drainer(Generic[T]):
    """`_drain` gets the queued items oldest first: all there are (`batch`), or one at a time."""

    def __init__(self, name: str, *, batch: bool) -> None:
        self._name = name
        self._batch = batch
        self._queue: deque[T] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._draining = False  # a drain is in progress (in the thread or in a caller's)
        self._claimed = False  # the caller that queued the only item drains it (_drain_here)

    def _drain(self, items: list[T]) -> None:
        raise NotImplementedError

    def _put(self, item: T, *, here: bool = False) -> bool:
        """Queue `item`; False (and nothing queued) once stopped.

        `here`: if the queue is empty and nothing drains, leave `item` to the caller, who
        must call `_drain_here()` next (without waiting on anything in between)."""
        with self._cond:
            if self._stopped:
                return False
            self._queue.append(item)
            if here and len(self._queue) == 1 and not self._draining:
                self._claimed = True
                return True
            self._claimed = False
            self._wake()
        return True

    def _drain_here(self) -> None:
        """Drain in the calling thread what `_put(here=True)` left to it, unless the thread (or
        another caller) took it meanwhile."""
        with self._cond:
            if not self._claimed or self._draining or not self._queue:
                return
            self._claimed = False
            items = self._take()
        self._finish(items)

    def _take_all(self) -> list[T]:
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
        return items

    def stop(self) -> None:
        """Drain what is queued, then end the thread (after any drain in progress)."""
        with self._cond:
            self._stopped = True
            self._claimed = False
            if self._thread is not None or self._queue or self._draining:
                self._wake()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _wake(self) -> None:
        """Have the thread look at the queue (the caller holds `_cond`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._cond.notify()

    def _take(self) -> list[T]:
        """The next items to drain, marked as draining (the caller holds `_cond`)."""
        self._draining = True
        if self._batch:
            items = list(self._queue)
            self._queue.clear()
            return items
        return [self._queue.popleft()]

    def _finish(self, items: list[T]) -> None:
        try:
            self._drain(items)
        finally:
            with self._cond:
                self._draining = False
                if self._queue or self._stopped:
                    self._wake()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._draining or self._claimed or not (self._queue or self._stopped):
                    self._cond.wait()
                if not self._queue:
                    return
                items = self._take()
            self._finish(items)
