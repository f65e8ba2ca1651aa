"""forkmap: the serial answer, from forked children when it can fork, and always the serial one
when a child fails; no child outlives the call."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from podwall.manifests import forkmap

needs_fork = pytest.mark.skipif(not forkmap.can_fork(), reason="one core, or no os.fork")


@pytest.fixture(autouse=True)
def no_child_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every child the call forked was waited for (other tests' children are not ours)."""
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    yield
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


# In a process of its own: a thread another test of the suite left running would make this
# process compute every part itself, as it must (`test_with_a_second_thread_it_does_not_fork`).
ALONE = """
import json, os
from podwall.manifests import forkmap

def work(n):
    return os.getpid(), n * n

answers = forkmap.map_parts(work, list(range(5)))
try:
    os.waitpid(-1, os.WNOHANG)
    left = True
except ChildProcessError:
    left = False
print(json.dumps({"parent": os.getpid(), "answers": answers, "child_left": left}))
"""


@needs_fork
def test_parts_after_the_first_run_in_children_and_come_back_in_order() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ALONE], capture_output=True, text=True, check=True, timeout=120
    )
    out = json.loads(done.stdout)
    answers = out["answers"]
    assert [square for _, square in answers] == [0, 1, 4, 9, 16]
    pids = [pid for pid, _ in answers]
    assert pids[0] == out["parent"]
    assert out["parent"] not in pids[1:]
    assert len(set(pids[1:])) == 4
    assert out["child_left"] is False


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"a": [1, 2.5, None, True, "é"], "b": {}}, id="plain-data-marshal"),
        pytest.param([datetime.date(2026, 12, 7)], id="a-date-pickle"),
        pytest.param(None, id="none"),
    ],
)
def test_any_answer_comes_back_equal(answer: object) -> None:
    assert forkmap.map_parts(lambda _: answer, [0, 1]) == [answer, answer]


@needs_fork
def test_a_failing_child_part_is_computed_again_here_and_raises_here() -> None:
    parent = os.getpid()

    def work(n: int) -> int:
        if n == 1:
            raise ValueError(f"part {n} in {'the parent' if os.getpid() == parent else 'a child'}")
        return n

    with pytest.raises(ValueError, match="part 1 in the parent"):
        forkmap.map_parts(work, [0, 1, 2])


@needs_fork
def test_a_child_killed_by_a_signal_is_replaced_by_the_serial_answer() -> None:
    parent = os.getpid()

    def work(n: int) -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return n * 10

    assert forkmap.map_parts(work, [1, 2, 3]) == [10, 20, 30]


@needs_fork
def test_an_error_in_the_parents_part_stops_the_children() -> None:
    def work(n: int) -> int:
        if n == 0:
            raise KeyError("first part")
        threading.Event().wait(60)  # the children would wait a minute: they are killed
        return n

    with pytest.raises(KeyError):
        forkmap.map_parts(work, [0, 1, 2])


def test_with_a_second_thread_it_does_not_fork() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forkmap.can_fork()
        answers = forkmap.map_parts(_pid_and_square, [1, 2, 3])
        assert {pid for pid, _ in answers} == {os.getpid()}
    finally:
        stop.set()
        thread.join()


def test_fewer_than_two_parts_run_here() -> None:
    assert forkmap.map_parts(_pid_and_square, [3]) == [(os.getpid(), 9)]
    assert forkmap.map_parts(_pid_and_square, []) == []
