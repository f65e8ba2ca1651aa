"""An agent thread's life: it runs once started, a poke cuts its sleep short, join ends it."""

from __future__ import annotations

import threading
import time

from podwall.agent.worker import PeriodicThread


class Ticker(PeriodicThread):
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.ticks = 0
        self._poked = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.ticks += 1
            self._sleep(60.0)  # only a poke wakes it within the test


def test_a_poke_wakes_the_sleeping_loop_and_join_ends_it() -> None:
    stop = threading.Event()
    ticker = Ticker(stop)
    assert not ticker.alive()
    ticker.start()
    assert ticker.alive()
    deadline = time.monotonic() + 60  # bounded: until the second tick, only a poke brings it
    while ticker.ticks < 2 and time.monotonic() < deadline:
        ticker.poke()
        threading.Event().wait(0.001)
    assert ticker.ticks >= 2
    stop.set()
    ticker.join()
    assert not ticker.alive()
