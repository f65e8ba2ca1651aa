"""Group commit: the thread that writes the Store's changes to SQLite.

Writers hand their changes over as a `Ticket`, under the Store's lock, so tickets queue in
resourceVersion order. The committer thread takes everything queued, writes it in one
transaction with one fsync (WAL, synchronous=FULL), then reports the batch durable
(`on_durable`) or failed (`on_failed`), in order. Concurrent writers so share one commit, and
no write is acknowledged before it would survive kill -9. The thread runs no code of the
Store's users: it never waits on a listener or on a request, so nothing a listener does can
hold a commit back.

A lone writer may commit its own ticket in its own thread (`submit(here=True)`, then
`commit_here()`), when nothing else is queued or being committed: the same transaction and
fsync, reported the same way, without waking the committer thread and being woken by it (two
thread hand-offs, ~10 % of a lone create on 2 shared cores). Commits never overlap: what is
queued meanwhile goes to the thread once that commit is done.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from podwall.apiserver.ack import Ack
from podwall.apiserver.drainer import Drainer
from podwall.apiserver.history import DELETED, Change
from podwall.apiserver.objectindex import OpCounts

log = logging.getLogger(__name__)

# A COMMIT slower than this (this disk's fsync: p50 0.2 ms, p99 2.3 ms, max 11 ms over 10 s;
# plus at most one 5 ms switch interval waiting for the interpreter lock) turns commits in a
# caller's thread off for HERE_AFTER_SLOW seconds: while the disk stalls, the event loop is
# kept out of it.
SLOW_COMMIT = 0.01
HERE_AFTER_SLOW = 1.0
# A batch that only stores (no delete), of at most this many changes, is one INSERT of all its
# rows, a transaction of its own (autocommit, the same fsync): one statement instead of BEGIN,
# an INSERT per change and COMMIT. Each statement lets go of the interpreter lock and must take
# it back while the event loop holds it: with 8 writers this thread blocked 1.85 times per
# create, 1.5 with one statement, and the server's CPU per create fell ~2.5 % (median of 20
# paired runs). Bigger batches, and any that deletes, take the explicit transaction (SQLite's
# limit on bound parameters, 250,000 here, 4 a row, is far above).
ONE_STATEMENT_ROWS = 64
_INSERT = "INSERT OR REPLACE INTO objects VALUES "
_ROW = "(?, ?, ?, ?)"


@dataclass(eq=False, slots=True)
class Ticket:
    """Changes to commit together (one write); `done` resolves when the write is acknowledged.

    `after_listeners`: `done` waits until the on_commit listeners have seen the changes too
    (every write but those a listener makes, which only wait until they are durable).
    """

    changes: list[Change]
    after_listeners: bool
    done: Ack = field(default_factory=Ack)

    @property
    def resource_version(self) -> int:
        return self.changes[-1].resource_version


class Committer(Drainer[Ticket]):
    """The writer thread over one SQLite connection (started on the first ticket)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        on_durable: Callable[[list[Ticket]], None],
        on_failed: Callable[[list[Ticket], BaseException], None],
        counts: OpCounts | None = None,
    ) -> None:
        super().__init__("podwall-store-commit", batch=True)
        self._db = db
        self._on_durable = on_durable
        self._on_failed = on_failed
        # Counted here, not by a SQLite trace callback: that one takes the interpreter lock
        # inside every statement, while the event loop holds it (concurrent writers waited
        # for it statement by statement).
        self._counts = counts or OpCounts()
        self._here_from = 0.0  # no commit in a caller's thread before (time.monotonic())

    def submit(self, ticket: Ticket, *, here: bool = False) -> None:
        """Queue a ticket (the caller holds the Store's lock: tickets arrive in RV order).
        After `stop` (which commits what is queued), RuntimeError.

        `here`: the caller will call `commit_here()` next, once it holds no lock: if nothing
        else is queued or being committed, the ticket is then committed in its thread. Not for
        a while after a slow commit: a disk that stalls then holds up the thread, not the
        caller (an event loop)."""
        here = here and time.monotonic() >= self._here_from
        if not self._put(ticket, here=here):
            raise RuntimeError("the store is closed")

    def commit_here(self) -> None:
        """Commit, in the calling thread, the ticket `submit(here=True)` left to it; nothing if
        the committer thread took it (with others queued meanwhile)."""
        self._drain_here()

    def take_queued(self) -> list[Ticket]:
        """Everything still queued, no longer to be committed (after a failed batch)."""
        return self._take_all()

    def _drain(self, items: list[Ticket]) -> None:
        try:
            self._write(items)
        except Exception as exc:
            log.exception("store commit failed tickets=%d", len(items))
            self._on_failed(items, exc)
            return
        self._on_durable(items)

    def _write(self, batch: list[Ticket]) -> None:
        changes = [change for ticket in batch for change in ticket.changes]
        if len(changes) <= ONE_STATEMENT_ROWS and all(c.type != DELETED for c in changes):
            self._store_rows(changes)
        else:
            self._transaction(batch)

    def _store_rows(self, changes: list[Change]) -> None:
        """Stores only: one INSERT of every row, committed (and fsynced) as it ends. Rows of
        one key are replaced in order, as the statements one by one would."""
        rows: list[str] = []
        for change in changes:
            rows += (change.resource, change.namespace, change.name, change.stored.text)
        start = time.monotonic()
        try:
            self._db.execute(_INSERT + ", ".join([_ROW] * len(changes)), rows)
        except BaseException:
            if self._db.in_transaction:  # SQLite rolls a failed autocommit statement back
                self._db.execute("ROLLBACK")
            raise
        self._timed(start)
        self._counts.statements += 1
        self._counts.commits += 1

    def _timed(self, start: float) -> None:
        """After a commit begun at `start`: a slow one keeps commits off callers' threads."""
        if (end := time.monotonic()) - start > SLOW_COMMIT:
            self._here_from = end + HERE_AFTER_SLOW

    def _transaction(self, batch: list[Ticket]) -> None:
        """BEGIN, a statement per change (and the meta row after a delete), COMMIT."""
        db, counts = self._db, self._counts
        db.execute("BEGIN IMMEDIATE")
        counts.statements += 1
        try:
            deleted = False
            for ticket in batch:
                counts.statements += len(ticket.changes)
                for change in ticket.changes:
                    if change.type == DELETED:
                        deleted = True
                        db.execute(
                            "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                            (change.resource, change.namespace, change.name),
                        )
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                            (change.resource, change.namespace, change.name, change.stored.text),
                        )
            if deleted:
                # A batch that stores objects leaves its last resourceVersion in the newest of
                # them (the Store opens at the greater of this row and its objects' RVs); one
                # that deletes must leave it here, or a restart could hand it out again. One
                # page less to write and fsync on every other commit.
                last = str(batch[-1].resource_version)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('resourceVersion', ?)", (last,))
                counts.statements += 1
            start = time.monotonic()
            db.execute("COMMIT")  # the fsync (and, under load, a wait for the interpreter lock)
            self._timed(start)
            counts.statements += 1
            counts.commits += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise
