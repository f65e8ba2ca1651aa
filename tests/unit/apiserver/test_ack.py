"""A write's acknowledgement: settled once, waited for by a thread or by an event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from podwall.apiserver.ack import Ack, settle_all


def _settle_later(ack: Ack, error: BaseException | None = None) -> threading.Thread:
    thread = threading.Thread(target=lambda: (threading.Event().wait(0.01), ack.settle(error)))
    thread.start()
    return thread


@pytest.mark.parametrize("before", [True, False], ids=["settled-first", "waited-first"])
def test_a_thread_waits_until_settled(before: bool) -> None:
    ack = Ack()
    if before:
        ack.settle()
        ack.wait(timeout=10)
    else:
        thread = _settle_later(ack)
        ack.wait(timeout=10)
        thread.join()
    assert ack.done()


@pytest.mark.parametrize("before", [True, False], ids=["settled-first", "waited-first"])
def test_a_loop_waits_until_settled_and_gets_the_failure(before: bool) -> None:
    ack = Ack()
    failure = RuntimeError("the write could not be stored")

    async def main() -> None:
        thread = None
        if before:
            ack.settle(failure)
        else:
            thread = _settle_later(ack, failure)
        with pytest.raises(RuntimeError, match="could not be stored"):
            await asyncio.wait_for(ack.wait_async(), 10)
        if thread is not None:
            thread.join()

    asyncio.run(main())


def test_the_first_settle_counts() -> None:
    ack = Ack()
    settle_all([ack])
    ack.settle(RuntimeError("late"))
    ack.wait(timeout=10)  # the write was durable: no error


def test_a_waiter_that_went_away_does_not_stop_the_settling() -> None:
    ack = Ack()

    async def main() -> None:
        task = asyncio.create_task(ack.wait_async())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        thread = _settle_later(ack)
        thread.join()
        await asyncio.sleep(0)  # the loop runs the wake-up for the cancelled waiter

    asyncio.run(main())
    assert ack.done()


def test_a_thread_gives_up_after_its_timeout() -> None:
    with pytest.raises(TimeoutError):
        Ack().wait(timeout=0.01)
