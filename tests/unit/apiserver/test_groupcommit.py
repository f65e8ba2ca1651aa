"""The committer thread: queued tickets share a transaction; failures and stops."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from podwall.apiserver import groupcommit
from podwall.apiserver.groupcommit import Committer, Ticket
from podwall.apiserver.history import ADDED, DELETED, Change
from podwall.apiserver.objectindex import OpCounts, stored

SCHEMA = """
CREATE TABLE objects (resource TEXT, namespace TEXT, name TEXT, body TEXT,
                      PRIMARY KEY (resource, namespace, name));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _ticket(rv: int, name: str, kind: str = ADDED) -> Ticket:
    obj = {"metadata": {"name": name, "resourceVersion": str(rv)}}
    change = Change(rv, kind, "configmaps", "default", name, stored(obj, OpCounts()), None)
    return Ticket([change], after_listeners=False)


def _db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.executescript(SCHEMA)
    return db


def test_tickets_queued_during_a_commit_share_the_next(tmp_path: Path) -> None:
    db = _db(tmp_path / "s.db")
    batches: list[list[int]] = []
    done = threading.Event()

    def durable(batch: list[Ticket]) -> None:
        batches.append([t.resource_version for t in batch])
        if sum(map(len, batches)) == 5:
            done.set()

    counts = OpCounts()
    committer = Committer(db, durable, lambda batch, exc: None, counts)
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    committer.submit(_ticket(1, "a"))
    for rv in range(2, 6):
        committer.submit(_ticket(rv, f"n{rv}"))
    blocker.execute("COMMIT")
    assert done.wait(10)
    committer.stop()
    assert [rv for batch in batches for rv in batch] == [1, 2, 3, 4, 5]
    assert len(batches) <= 2
    rows = db.execute("SELECT name FROM objects ORDER BY name").fetchall()
    assert [r[0] for r in rows] == ["a", "n2", "n3", "n4", "n5"]
    # The newest object holds the last resourceVersion: no meta row to write besides.
    assert db.execute("SELECT value FROM meta").fetchone() is None
    # One transaction per batch, and a batch that only stores is one statement.
    assert (counts.commits, counts.statements) == (len(batches), len(batches))


@pytest.mark.parametrize(
    ("kinds", "meta"),
    [
        pytest.param([ADDED, ADDED], None, id="stores-only-leave-it-to-the-objects"),
        pytest.param([ADDED, DELETED], "2", id="a-delete-writes-the-last-rv"),
        pytest.param([DELETED, ADDED], "2", id="a-delete-earlier-in-the-batch-too"),
    ],
)
def test_the_meta_row_holds_the_last_rv_of_a_batch_that_deletes(
    tmp_path: Path, kinds: list[str], meta: str | None
) -> None:
    db = _db(tmp_path / "s.db")
    counts = OpCounts()
    committer = Committer(db, lambda batch: None, lambda batch, exc: None, counts)
    tickets = [_ticket(rv, "a", kind) for rv, kind in enumerate(kinds, start=1)]
    committer.submit(Ticket([c for t in tickets for c in t.changes], after_listeners=False))
    committer.stop()
    row = db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
    assert (row[0] if row else None) == meta
    # Stores alone: one INSERT; with a delete: BEGIN, a statement each, the meta row, COMMIT.
    assert counts.statements == (1 if meta is None else 2 + len(kinds) + 1)


def test_a_failed_batch_is_reported_and_rolled_back(tmp_path: Path) -> None:
    db = _db(tmp_path / "s.db")
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.name = 'bad' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    failed: list[tuple[list[int], str]] = []
    reported = threading.Event()

    def on_failed(batch: list[Ticket], exc: BaseException) -> None:
        failed.append(([t.resource_version for t in batch], str(exc)))
        reported.set()

    committer = Committer(db, lambda batch: None, on_failed)
    committer.submit(_ticket(1, "bad"))
    assert reported.wait(10)
    committer.stop()
    assert failed == [([1], "refused")]
    assert db.execute("SELECT count(*) FROM objects").fetchone() == (0,)


def test_nothing_is_accepted_after_stop(tmp_path: Path) -> None:
    committer = Committer(_db(tmp_path / "s.db"), lambda batch: None, lambda b, e: None)
    committer.stop()
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(_ticket(1, "late"))


def test_a_ticket_committed_here_is_durable_in_the_callers_thread(tmp_path: Path) -> None:
    db = _db(tmp_path / "s.db")
    reported: list[tuple[list[int], str]] = []

    def durable(batch: list[Ticket]) -> None:
        reported.append(([t.resource_version for t in batch], threading.current_thread().name))

    committer = Committer(db, durable, lambda batch, exc: None)
    committer.submit(_ticket(1, "a"), here=True)
    committer.commit_here()
    assert reported == [([1], threading.current_thread().name)]
    committer.submit(_ticket(2, "b"))  # an ordinary ticket: the committer thread's
    committer.stop()
    assert [rvs for rvs, _ in reported] == [[1], [2]]
    assert reported[1][1] != threading.current_thread().name
    rows = db.execute("SELECT name FROM objects ORDER BY name").fetchall()
    assert [r[0] for r in rows] == ["a", "b"]


def test_after_a_slow_commit_the_committer_thread_commits_what_was_left_to_a_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groupcommit, "HERE_AFTER_SLOW", 3600.0)  # however slow the machine
    db = _db(tmp_path / "s.db")
    threads: list[str] = []
    committer = Committer(db, lambda batch: threads.append(threading.current_thread().name),
                          lambda batch, exc: None)  # fmt: skip
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None, check_same_thread=False)
    # A reader (rollback journal: a SHARED lock) makes the first COMMIT wait: a slow disk.
    blocker.execute("BEGIN")
    blocker.execute("SELECT count(*) FROM objects").fetchall()
    release = threading.Timer(2 * groupcommit.SLOW_COMMIT, blocker.execute, ["COMMIT"])
    release.start()
    committer.submit(_ticket(1, "slow"), here=True)
    committer.commit_here()
    release.join()
    committer.submit(_ticket(2, "after"), here=True)
    committer.commit_here()  # nothing left to it: the thread commits
    committer.stop()
    blocker.close()
    me = threading.current_thread().name
    assert threads[0] == me
    assert threads[1] != me
    assert [r[0] for r in db.execute("SELECT name FROM objects ORDER BY name")] == ["after", "slow"]


def _stored_rows(db: sqlite3.Connection) -> list[tuple[str, int]]:
    rows = db.execute("SELECT name, body FROM objects ORDER BY name").fetchall()
    return [(name, int(json.loads(body)["metadata"]["resourceVersion"])) for name, body in rows]


@pytest.mark.parametrize(
    "count", [1, 3, groupcommit.ONE_STATEMENT_ROWS, 2 * groupcommit.ONE_STATEMENT_ROWS + 1]
)
def test_a_batch_of_stores_keeps_the_last_write_of_each_key(tmp_path: Path, count: int) -> None:
    """One INSERT of many rows (or, past its size, a transaction of one INSERT each) leaves
    what the writes one by one would: a key written twice in a batch holds its later write."""
    db = _db(tmp_path / "s.db")
    counts = OpCounts()
    committer = Committer(db, lambda batch: None, lambda batch, exc: None, counts)
    changes = [c for rv in range(1, count + 1) for c in _ticket(rv, f"n{rv % 7}").changes]
    committer.submit(Ticket(changes, after_listeners=False))
    committer.stop()
    last = {f"n{rv % 7}": rv for rv in range(1, count + 1)}
    assert _stored_rows(db) == sorted(last.items())
    one = count <= groupcommit.ONE_STATEMENT_ROWS
    assert (counts.commits, counts.statements) == (1, 1 if one else count + 2)
    assert not db.in_transaction


def test_a_failed_batch_of_stores_leaves_nothing_and_the_next_commits(tmp_path: Path) -> None:
    db = _db(tmp_path / "s.db")
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.name = 'bad' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    failed: list[list[int]] = []
    committer = Committer(
        db, lambda batch: None, lambda b, e: failed.append([t.resource_version for t in b])
    )
    good, bad = _ticket(1, "good"), _ticket(2, "bad")
    committer.submit(Ticket(good.changes + bad.changes, after_listeners=False))
    committer.stop()
    assert failed == [[2]]
    assert _stored_rows(db) == []  # the good row went with the bad one: one transaction
    assert not db.in_transaction
    later = Committer(db, lambda batch: None, lambda b, e: failed.append([0]))
    later.submit(_ticket(3, "after"))
    later.stop()
    assert _stored_rows(db) == [("after", 3)]
