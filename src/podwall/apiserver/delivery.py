"""The Store's on_commit listeners, called in a thread of their own, in resourceVersion order.

After each durable batch the Store hands its changes over (`put`), with the acknowledgements
that wait for the listeners; one thread calls every listener on every change, oldest first,
then resolves those acknowledgements. A listener that writes to the Store from this thread is
acknowledged once its write is durable (it does not wait for its own delivery, which comes
after the change it is reacting to); its changes are delivered after the current ones.
What a listener raises is logged: the change it reacts to is already committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from podwall.apiserver.ack import Ack, settle_all
from podwall.apiserver.drainer import Drainer
from podwall.apiserver.history import Change
from podwall.apiserver.watch import WatchEvent

log = logging.getLogger(__name__)

Listener = Callable[[str, WatchEvent], None]
_Batch = tuple[list[Change], list[Ack]]


class Delivery(Drainer[_Batch]):
    """One listener thread (started on the first batch); `listeners()` is read per batch."""

    def __init__(self, listeners: Callable[[], list[Listener]]) -> None:
        super().__init__("podwall-store-listeners", batch=False)
        self._listeners = listeners

    def in_thread(self) -> bool:
        """Is the caller a listener (running in the delivery thread)?"""
        return self._thread is not None and self._thread is threading.current_thread()

    def put(self, changes: list[Change], done: list[Ack]) -> None:
        if not self._put((changes, done)):
            settle_all(done)

    def _drain(self, items: list[_Batch]) -> None:
        for changes, done in items:
            self._deliver(changes)
            settle_all(done)

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
