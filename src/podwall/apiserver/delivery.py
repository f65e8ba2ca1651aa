"""The Store's on_commit listeners, called in a thread of their own, in resourceVersion order.

After each durable batch the Store hands its changes over (`put`), with the acknowledgements
that wait for the listeners; one thread calls every listener on every change, oldest first,
then resolves those acknowledgements. A listener that writes to the Store from this thread is
acknowledged once its write is durable (it does not wait for its own delivery, which comes
after the change it is reacting to); its changes are delivered after the current ones.
What a listener raises is logged: the change it reacts to is already committed.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Callable

from podwall.apiserver.groupcommit import resolve
from podwall.apiserver.history import Change
from podwall.apiserver.watch import WatchEvent

log = logging.getLogger(__name__)

Listener = Callable[[str, WatchEvent], None]
_Batch = tuple[list[Change], list[concurrent.futures.Future[None]]]


class Delivery:
    """One listener thread (started on the first batch); `listeners()` is read per batch."""

    def __init__(self, listeners: Callable[[], list[Listener]]) -> None:
        self._listeners = listeners
        self._queue: deque[_Batch] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def in_thread(self) -> bool:
        """Is the caller a listener (running in the delivery thread)?"""
        return self._thread is not None and self._thread is threading.current_thread()

    def put(self, changes: list[Change], done: list[concurrent.futures.Future[None]]) -> None:
        with self._cond:
            if self._stopped:
                resolve(done)
                return
            self._queue.append((changes, done))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="podwall-store-listeners", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        """Deliver what is queued, then end the thread."""
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
                changes, done = self._queue.popleft()
            self._deliver(changes)
            resolve(done)

    def _deliver(self, changes: list[Change]) -> None:
        listeners = self._listeners()
        for change in changes:
            stored = change.stored
            event = WatchEvent(change.type, stored.obj, change.resource_version, stored.text)
            for listener in listeners:
                try:
                    listener(change.resource, event)
                except Exception:
                    log.exception("store listener failed on %s %s", change.type, change.resource)
