"""The controllers' work queue: keys once, never two workers on one key, retries that back off.

A fake clock stands for time: `get(timeout=0)` answers at once, so no test sleeps.
"""

from __future__ import annotations

import pytest

from podwall.apiserver.workqueue import WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> WorkQueue[str]:
    return WorkQueue("test", base_delay=1.0, max_delay=8.0, max_retries=5, clock=clock)


def drain(queue: WorkQueue[str]) -> list[str]:
    taken = []
    while (key := queue.get(timeout=0)) is not None:
        taken.append(key)
        queue.done(key)
    return taken


def test_a_key_added_twice_is_taken_once_in_the_order_first_added(queue: WorkQueue[str]) -> None:
    for key in ["a", "b", "a", "c", "b"]:
        queue.add(key)
    assert drain(queue) == ["a", "b", "c"]


def test_a_key_added_while_it_is_processed_comes_back_after_done(queue: WorkQueue[str]) -> None:
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("a")
    assert queue.get(timeout=0) is None, "no second worker on a key being processed"
    queue.done("a")
    assert queue.get(timeout=0) == "a"


def test_retries_back_off_exponentially_up_to_the_limit(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    delays = []
    for _ in range(5):
        assert queue.add_rate_limited("a")
        start = clock.now
        while queue.get(timeout=0) is None:
            clock.now += 0.5
        queue.done("a")
        delays.append(clock.now - start)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert not queue.add_rate_limited("a"), "dropped after max_retries failures"
    assert queue.failures("a") == 0


def test_forget_starts_the_back_off_again(queue: WorkQueue[str], clock: FakeClock) -> None:
    queue.add_rate_limited("a")
    queue.add_rate_limited("a")
    assert queue.failures("a") == 2
    queue.forget("a")
    assert queue.failures("a") == 0


def test_pending_counts_queued_delayed_and_processing_keys(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("a")
    queue.add_after("b", 5.0)
    assert queue.pending() == 2
    assert queue.get(timeout=0) == "a"
    assert queue.pending() == 2, "a is being processed, b waits"
    queue.done("a")
    assert queue.pending() == 1
    clock.now += 5.0
    assert drain(queue) == ["b"]
    assert queue.pending() == 0


def test_a_delayed_key_already_queued_is_not_queued_twice(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 1.0)
    queue.add("a")
    clock.now += 1.0
    assert drain(queue) == ["a"]


def test_shut_down_ends_every_get(queue: WorkQueue[str]) -> None:
    queue.shut_down()
    queue.add("a")
    assert queue.get() is None
    assert queue.shutting_down


def test_every_change_is_reported(clock: FakeClock) -> None:
    changes: list[int] = []
    queue: WorkQueue[str] = WorkQueue("t", clock=clock, on_change=lambda: changes.append(1))
    queue.add("a")
    key = queue.get(timeout=0)
    assert key == "a"
    queue.done(key)
    assert len(changes) == 2


def test_a_wake_up_is_not_pending_and_the_soonest_one_wins(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_later("cronjob", 60.0)
    queue.add_later("cronjob", 90.0)  # later than the one waiting: not needed
    queue.add_later("job", 30.0)
    assert queue.pending() == 0
    clock.now += 30.0
    assert queue.get(timeout=0) == "job"
    queue.done("job")
    assert queue.get(timeout=0) is None
    clock.now += 30.0
    assert queue.get(timeout=0) == "cronjob"
    queue.done("cronjob")
    clock.now += 60.0
    assert queue.get(timeout=0) is None
