"""Group commit: the one thread that writes the Store's changes to SQLite.

Writers hand their changes over as a `Ticket`, under the Store's lock, so tickets queue in
resourceVersion order. The committer thread takes everything queued, writes it in one
transaction with one fsync (WAL, synchronous=FULL), then reports the batch durable
(`on_durable`) or failed (`on_failed`), in order. Concurrent writers so share one commit, and
no write is acknowledged before it would survive kill -9. The thread runs no code of the
Store's users: it never waits on a listener or on a request, so nothing a listener does can
hold a commit back.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from podwall.apiserver.history import DELETED, Change

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Ticket:
    """Changes to commit together (one write); `done` resolves when the write is acknowledged.

    `after_listeners`: `done` waits until the on_commit listeners have seen the changes too
    (every write but those a listener makes, which only wait until they are durable).
    """

    changes: list[Change]
    after_listeners: bool
    done: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)

    @property
    def resource_version(self) -> int:
        return self.changes[-1].resource_version


def resolve(futures: list[concurrent.futures.Future[None]]) -> None:
    for future in futures:
        # A cancelled future: its waiter went away; the write stands all the same.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            future.set_result(None)


def fail(futures: list[concurrent.futures.Future[None]], exc: BaseException) -> None:
    for future in futures:
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            future.set_exception(exc)


class Committer:
    """The writer thread over one SQLite connection (started on the first ticket)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        on_durable: Callable[[list[Ticket]], None],
        on_failed: Callable[[list[Ticket], BaseException], None],
    ) -> None:
        self._db = db
        self._on_durable = on_durable
        self._on_failed = on_failed
        self._queue: list[Ticket] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def submit(self, ticket: Ticket) -> None:
        """Queue a ticket (the caller holds the Store's lock: tickets arrive in RV order)."""
        with self._cond:
            if self._stopped:
                raise RuntimeError("the store is closed")
            self._queue.append(ticket)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="podwall-store-commit", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def take_queued(self) -> list[Ticket]:
        """Everything still queued, no longer to be committed (after a failed batch)."""
        with self._cond:
            queued, self._queue = self._queue, []
        return queued

    def stop(self) -> None:
        """Commit what is queued, then end the thread. Later submits raise RuntimeError."""
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
                batch, self._queue = self._queue, []
            try:
                self._write(batch)
            except Exception as exc:
                log.exception("store commit failed tickets=%d", len(batch))
                self._on_failed(batch, exc)
                continue
            self._on_durable(batch)

    def _write(self, batch: list[Ticket]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for ticket in batch:
                for change in ticket.changes:
                    if change.type == DELETED:
                        db.execute(
                            "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                            (change.resource, change.namespace, change.name),
                        )
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                            (change.resource, change.namespace, change.name, change.stored.text),
                        )
            last = str(batch[-1].resource_version)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('resourceVersion', ?)", (last,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
