"""The life of the agent's background threads: started once, asked whether they still run,
woken early, and joined at the end.

Owns only that life; what a thread does is its class's `_run`, and `stop` (shared by the
agent's threads) is what ends the loops.
"""

from __future__ import annotations

import threading


class DaemonThread:
    """`_thread` runs the object's loop; `start` once, `alive` while it runs."""

    _thread: threading.Thread

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()


class PeriodicThread(DaemonThread):
    """A loop that does its work, then sleeps its period (`_sleep`) unless `poke`d awake;
    `join` wakes it (after `stop` is set) and waits for it."""

    _poked: threading.Event

    def poke(self) -> None:
        self._poked.set()

    def join(self) -> None:
        self._poked.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=10)

    def _sleep(self, seconds: float) -> None:
        self._poked.wait(seconds)
        self._poked.clear()
