"""DockerCoins' worker: its loop as worker.py runs it, against fake services."""

from __future__ import annotations

import hashlib
import logging
import socket

import pytest

from podwall.runtime.standins import resp
from podwall.runtime.standins.coinworker import RESTART_AFTER, Worker, run


class FakeRedis:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[bytes | str | int, ...]] = []
        self.wallet: set[str] = set()
        self.fail = fail

    def call(self, *words: bytes | str | int) -> resp.Value:
        if self.fail:
            raise socket.gaierror(-2, "Name or service not known")
        self.calls.append(words)
        if words[0] == "HSET":
            added = str(words[2]) not in self.wallet
            self.wallet.add(str(words[2]))
            return int(added)
        return 0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _worker(redis: FakeRedis, clock: Clock, hashes: list[str]) -> Worker:
    return Worker(
        redis,  # type: ignore[arg-type]
        random_bytes=lambda: b"\x01" * 32,
        hasher=lambda data: hashes.pop(0),
        clock=clock.time,
        sleep=clock.sleep,
    )


def test_once_a_second_it_adds_its_units_of_work_to_the_hash_counter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis, clock = FakeRedis(), Clock()
    with caplog.at_level(logging.INFO, logger="__main__"):
        run(_worker(redis, clock, ["f" * 64] * 30), turns=30)
    # Each unit sleeps 0.1 s: the first turn reports 0 units, then 10 units each second.
    assert redis.calls[:3] == [("INCRBY", "hashes", 0), ("INCRBY", "hashes", 10),
                               ("INCRBY", "hashes", 10)]  # fmt: skip
    assert caplog.messages[:2] == ["0 units of work done, updating hash counter",
                                   "10 units of work done, updating hash counter"]  # fmt: skip


def test_a_hash_starting_with_zero_is_a_coin_stored_in_the_wallet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis, clock = FakeRedis(), Clock()
    coin = "0" + hashlib.sha256(b"x").hexdigest()[1:]
    with caplog.at_level(logging.INFO, logger="__main__"):
        run(_worker(redis, clock, [coin, "a" * 64, coin]), turns=3)
    assert ("HSET", "wallet", coin, b"\x01" * 32) in redis.calls
    assert f"Coin found: {coin[:8]}..." in caplog.messages
    assert caplog.messages[-1] == "We already had that coin"


def test_an_error_is_logged_then_it_waits_10s_and_starts_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis, clock = FakeRedis(fail=True), Clock()
    with caplog.at_level(logging.INFO, logger="__main__"):
        run(_worker(redis, clock, []), turns=2)
    assert caplog.messages == ["0 units of work done, updating hash counter", "In work loop:",
                               "Waiting 10s and restarting."] * 2  # fmt: skip
    assert clock.slept == [RESTART_AFTER, RESTART_AFTER]
    assert caplog.records[1].exc_info is not None
