"""A controller's queue of keys to sync, as client-go's workqueue keeps them.

Mirrors k8s.io/client-go/util/workqueue (`Type`, `delaying_queue`, `rate_limiting_queue`,
`ItemExponentialFailureRateLimiter`):

- a key is queued once however often it is added before a worker takes it (`dirty`);
- a key added while a worker processes it is queued again when the worker calls `done`, so two
  workers never sync one key at once and no change is missed;
- `add_rate_limited` requeues a key whose sync failed after `base * 2**failures` seconds (at most
  `max_delay`); `forget` clears its failures once a sync succeeds. After `max_retries` failures in
  a row the key is dropped, as upstream controllers drop it (the next change adds it again).

Thread-safe; `get` blocks. `pending` (queued, delayed or in a worker) lets the owner tell when
everything is done. `add_later` is a wake-up at a time to come (a CronJob's next scheduled
time, a Job's deadline) that `pending` does not count: a queue that only waits for the clock is
done for now. The clock is injectable, so tests never sleep.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import KW_ONLY, dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
Clock = Callable[[], float]

BASE_DELAY = 0.005
MAX_DELAY = 1.0
MAX_RETRIES = 15


@dataclass(eq=False)
class WorkQueue(Generic[K]):
    """Keys to sync, deduplicated, with delayed retries. `shut_down` ends every `get`."""

    name: str
    _: KW_ONLY
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY
    max_retries: int = MAX_RETRIES
    clock: Clock = time.monotonic
    on_change: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._delayed: list[tuple[float, int, K, bool]] = []  # due, order, key, counted
        self._waiting: dict[K, int] = {}  # key -> how many counted delayed entries it has
        self._wakeups: dict[K, float] = {}  # key -> when its earliest uncounted entry is due
        self._seq = itertools.count()
        self._failures: dict[K, int] = {}
        self._shut = False

    # -- adding ----------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Queue `key` unless it is queued already (or later, after its worker is done)."""
        with self._cond:
            if self._shut or key in self._dirty:
                return
            self._dirty.add(key)
            if key not in self._processing:
                self._queue.append(key)
                self._cond.notify()
        self._changed()

    def add_after(self, key: K, delay: float) -> None:
        """Queue `key` once `delay` seconds have passed."""
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            if self._shut:
                return
            heapq.heappush(self._delayed, (self.clock() + delay, next(self._seq), key, True))
            self._waiting[key] = self._waiting.get(key, 0) + 1
            self._cond.notify()
        self._changed()

    def add_later(self, key: K, delay: float) -> None:
        """Queue `key` once `delay` seconds have passed, without counting it as pending
        meanwhile; a wake-up already due sooner makes this one unneeded."""
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            due = self.clock() + delay
            if self._shut or self._wakeups.get(key, due + 1) <= due:
                return
            self._wakeups[key] = due
            heapq.heappush(self._delayed, (due, next(self._seq), key, False))
            self._cond.notify()

    def add_rate_limited(self, key: K) -> bool:
        """Retry `key` after its back-off; False (and dropped) after `max_retries` failures."""
        with self._cond:
            failures = self._failures.get(key, 0)
            if failures >= self.max_retries:
                self._failures.pop(key, None)
                return False
            self._failures[key] = failures + 1
        self.add_after(key, min(self.base_delay * 2**failures, self.max_delay))
        return True

    def forget(self, key: K) -> None:
        """The key synced: its next failure starts the back-off from the beginning."""
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    # -- taking ----------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> K | None:
        """The next key (the caller must call `done` with it); None on timeout or shut down."""
        deadline = None if timeout is None else self.clock() + timeout
        with self._cond:
            while True:
                self._promote()
                if self._queue:
                    key = self._queue.popleft()
                    self._processing.add(key)
                    self._dirty.discard(key)
                    return key
                if self._shut:
                    return None
                now = self.clock()
                wait = None if deadline is None else deadline - now
                if self._delayed:
                    due = self._delayed[0][0] - now
                    wait = due if wait is None else min(wait, due)
                if wait is not None and wait <= 0:
                    if deadline is not None and deadline <= now:
                        return None
                    continue
                self._cond.wait(wait)

    def done(self, key: K) -> None:
        """The worker finished `key`; if it was added meanwhile, it is queued again."""
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._cond.notify()
        self._changed()

    def _promote(self) -> None:
        """Move the delayed keys that are due into the queue (the lock is held)."""
        now = self.clock()
        while self._delayed and self._delayed[0][0] <= now:
            due, _, key, counted = heapq.heappop(self._delayed)
            if counted:
                left = self._waiting.pop(key) - 1
                if left:
                    self._waiting[key] = left
            elif self._wakeups.get(key) == due:
                del self._wakeups[key]
            if key not in self._dirty:
                self._dirty.add(key)
                if key not in self._processing:
                    self._queue.append(key)

    # -- state -----------------------------------------------------------------------------

    def pending(self) -> int:
        """Keys queued, waiting for their delay, or being processed."""
        with self._cond:
            return len(self._dirty | self._processing | self._waiting.keys())

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def shut_down(self) -> None:
        with self._cond:
            self._shut = True
            self._cond.notify_all()
        self._changed()

    @property
    def shutting_down(self) -> bool:
        with self._cond:
            return self._shut

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
