"""Stand-in for `dockercoins/worker`, DockerCoins' miner (container.training's
dockercoins/worker/worker.py, `python worker.py`).

As upstream, against the services `rng`, `hasher` and `redis` (names the pod's DNS resolves):
each unit of work sleeps 0.1 s, gets 32 bytes from `GET http://rng/32`, posts them to
`http://hasher/` and, when the hash starts with `0`, logs `Coin found: 0abc1234...` and stores
the bytes in the `wallet` hash (`HSET wallet HASH BYTES`; `We already had that coin` when the
field existed). Once a second it logs `N units of work done, updating hash counter` and runs
`INCRBY hashes N`. Any error logs `In work loop:` (with the exception), then `Waiting 10s and
restarting.`, sleeps 10 s and starts over. Log lines are Python's default format
(`INFO:__main__:...`); $DEBUG starting with `y` adds the DEBUG lines.

Not reproduced: each HTTP request and Redis command times out after `TIMEOUT` seconds
(upstream's wait for the kernel to give up, minutes under a policy that drops them); the
traceback is this stand-in's, not requests' or redis-py's; redis-py's own retries.

Run as `python -m podwall.runtime.standins.coinworker`; it drops to the pod's uid at start and
runs until SIGTERM.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from podwall.runtime.standins import resp
from podwall.runtime.standins.privileges import drop_privileges
from podwall.runtime.standins.redisclient import RedisClient

log = logging.getLogger("__main__")

TIMEOUT = 5.0
MAX_BODY = 1 << 20
RESTART_AFTER = 10.0


class WorkError(Exception):
    """An answer the worker cannot use (a bad Redis reply)."""


def get_random_bytes(host: str = "rng", timeout: float = TIMEOUT) -> bytes:
    """`requests.get("http://rng/32").content`: the body, whatever the status."""
    return _request("GET", host, "/32", None, timeout)


def hash_bytes(data: bytes, host: str = "hasher", timeout: float = TIMEOUT) -> str:
    """`requests.post("http://hasher/", data=data, ...).text`."""
    return _request("POST", host, "/", data, timeout).decode(errors="replace")


def _request(method: str, host: str, path: str, body: bytes | None, timeout: float) -> bytes:
    connection = http.client.HTTPConnection(host, 80, timeout=timeout)
    try:
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().read(MAX_BODY)
    finally:
        connection.close()


@dataclass
class Worker:
    """The work loop's state and its services; `clock`, `sleep` and the calls are replaceable
    for tests."""

    redis: RedisClient
    random_bytes: Callable[[], bytes] = get_random_bytes
    hasher: Callable[[bytes], str] = hash_bytes
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    interval: float = 1.0
    deadline: float = 0.0
    loops_done: int = 0

    def step(self) -> None:
        """One turn of `work_loop`: the counter's update when due, then one unit of work."""
        if self.clock() > self.deadline:
            log.info("%d units of work done, updating hash counter", self.loops_done)
            self.redis.call("INCRBY", "hashes", self.loops_done)
            self.loops_done = 0
            self.deadline = self.clock() + self.interval
        self.work_once()
        self.loops_done += 1

    def work_once(self) -> None:
        log.debug("Doing one unit of work")
        self.sleep(0.1)
        random_bytes = self.random_bytes()
        hex_hash = self.hasher(random_bytes)
        if not hex_hash.startswith("0"):
            log.debug("No coin found")
            return
        log.info("Coin found: %s...", hex_hash[:8])
        created = self.redis.call("HSET", "wallet", hex_hash, random_bytes)
        if not isinstance(created, int):
            raise WorkError(f"HSET answered {created!r}")
        if not created:
            log.info("We already had that coin")

    def restart(self) -> None:
        """What upstream's `except:` does, then `work_loop()` starting over."""
        log.exception("In work loop:")
        log.error("Waiting 10s and restarting.")
        self.sleep(RESTART_AFTER)
        self.deadline, self.loops_done = 0.0, 0


def run(worker: Worker, turns: int | None = None) -> None:
    """Work until the process ends (SIGTERM), or for `turns` steps (tests)."""
    done = 0
    while turns is None or done < turns:
        done += 1
        try:
            worker.step()
        except (OSError, http.client.HTTPException, resp.ReplyError, resp.ProtocolError,
                WorkError):  # fmt: skip
            worker.restart()


def main() -> None:
    drop_privileges()
    debug = os.environ.get("DEBUG", "").lower().startswith("y")
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run(Worker(RedisClient("redis", timeout=TIMEOUT)))


if __name__ == "__main__":
    main()
