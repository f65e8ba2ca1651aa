"""A queue drained by its own thread: in order, one or all at a time, the rest drained on stop."""

from __future__ import annotations

import threading
import time

import pytest

from podwall.apiserver.drainer import Drainer


class Recorder(Drainer[int]):
    def __init__(self, *, batch: bool, gate: threading.Event) -> None:
        super().__init__("test-drainer", batch=batch)
        self.gate = gate
        self.calls: list[list[int]] = []

    def put(self, item: int) -> bool:
        return self._put(item)

    def _drain(self, items: list[int]) -> None:
        self.gate.wait(timeout=10)
        self.calls.append(items)


@pytest.mark.parametrize(("batch", "expected"), [(True, [[1], [2, 3]]), (False, [[1], [2], [3]])])
def test_items_arrive_in_order_and_stop_drains_the_rest(
    batch: bool, expected: list[list[int]]
) -> None:
    gate = threading.Event()
    drainer = Recorder(batch=batch, gate=gate)
    assert drainer.put(1)
    # Bounded in time, not in turns: a loaded machine may not run the thread for a second.
    deadline = time.monotonic() + 60  # until the thread holds item 1 at the gate
    while time.monotonic() < deadline:
        with drainer._cond:
            if not drainer._queue:
                break
        threading.Event().wait(0.001)
    assert drainer.put(2)
    assert drainer.put(3)
    gate.set()
    drainer.stop()
    assert drainer.calls == expected


def test_nothing_is_queued_after_stop() -> None:
    drainer = Recorder(batch=True, gate=threading.Event())
    drainer.stop()
    assert not drainer.put(1)
    assert drainer.calls == []


def test_an_item_left_to_its_caller_is_drained_in_the_callers_thread() -> None:
    threads: list[str] = []

    class Here(Recorder):
        def _drain(self, items: list[int]) -> None:
            threads.append(threading.current_thread().name)
            super()._drain(items)

    drainer = Here(batch=True, gate=threading.Event())
    drainer.gate.set()
    assert drainer._put(1, here=True)
    drainer._drain_here()
    drainer.stop()
    assert drainer.calls == [[1]]
    assert threads == [threading.current_thread().name]


def test_items_queued_during_a_callers_drain_go_to_the_thread_after_it() -> None:
    gate = threading.Event()
    drainer = Recorder(batch=True, gate=gate)
    assert drainer._put(1, here=True)
    caller = threading.Thread(target=drainer._drain_here)
    caller.start()
    for _ in range(1000):  # bounded: until the caller's drain holds item 1 at the gate
        with drainer._cond:
            if drainer._draining:
                break
        threading.Event().wait(0.001)
    assert drainer._put(2, here=True)  # not left to this caller: a drain is in progress
    assert drainer.put(3)
    gate.set()
    caller.join(10)
    drainer.stop()
    assert drainer.calls == [[1], [2, 3]]


def test_an_item_left_to_a_caller_is_taken_with_the_next_one_queued() -> None:
    gate = threading.Event()
    gate.set()
    drainer = Recorder(batch=True, gate=gate)
    assert drainer._put(1, here=True)
    assert drainer.put(2)  # before the caller drains: the thread takes both
    drainer._drain_here()  # finds nothing left to it
    drainer.stop()
    assert drainer.calls == [[1, 2]]
