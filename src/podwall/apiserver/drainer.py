"""A queue drained by one thread of its own, in order; the Store's committer and its listener
delivery are two.

Owns the thread's life: started on the first item, woken per item, and on `stop` left to
finish what is queued before it ends. What an item means is the subclass's (`_drain`).
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

    def _drain(self, items: list[T]) -> None:
        raise NotImplementedError

    def _put(self, item: T) -> bool:
        """Queue `item`; False (and nothing queued) once stopped."""
        with self._cond:
            if self._stopped:
                return False
            self._queue.append(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def _take_all(self) -> list[T]:
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
        return items

    def stop(self) -> None:
        """Drain what is queued, then end the thread."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if not self._queue:
                    return
                if self._batch:
                    items = list(self._queue)
                    self._queue.clear()
                else:
                    items = [self._queue.popleft()]
            self._drain(items)
