"""One function over several parts of a large input, on every core: forked children compute
all parts but the first, the calling process computes the first, and only results travel.

Written by hand because the standard pools cost more than they save here.
`multiprocessing.pool` (and `concurrent.futures.process`) imports ~80 modules (`-X importtime`),
pickles each argument to send it, and with its default start method on Python 3.14
(forkserver) re-imports podwall in each worker.
A bare `fork` lets each child read the parent's objects in place (the text already read, the
objects already parsed) and send back only its answer, `marshal`led when it holds plain data
(several times cheaper to write than pickle) and pickled otherwise.

The answer is always the serial one. When the process cannot fork safely (not Linux, more
than one thread: a child holds only the forking thread, and a lock another thread held would
never be released), when one core is all there is, or when a child fails in any way (an
exception, a signal, an answer that does not decode), the calling process computes that part
itself, so an error is raised exactly as the serial code raises it.

Must not: be used where a part's function has side effects the parent needs (a child's
writes to memory are lost), or hold a child past the call (each is waited for, or killed and
waited for when the caller is interrupted).
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")

_MARSHAL, _PICKLE = b"m", b"p"
_FAILED = object()  # a child's answer that did not come: its part is computed here


def cores() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # A process that never imported threading started no thread with it; not importing it
    # here keeps every command's start ~1.4 ms shorter (as pickle and signal, imported when
    # they are needed).
    threading = sys.modules.get("threading")
    alone = threading is None or threading.active_count() == 1
    # Linux only: elsewhere (macOS) system libraries are not safe to use after a bare fork.
    return sys.platform == "linux" and alone and cores() > 1


def map_parts(work: Callable[[P], R], parts: Sequence[P]) -> list[R]:
    """`[work(part) for part in parts]`, the parts after the first in forked children."""
    if len(parts) < 2 or not can_fork():
        return [work(part) for part in parts]
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for part in parts[1:]:
            children.append(_start(work, part))
        results = [work(parts[0])]
        for part in parts[1:]:
            answer = _collect(*children[0])
            children.pop(0)
            results.append(work(part) if answer is _FAILED else answer)  # type: ignore[arg-type]
        return results
    finally:
        for pid, fd in children:  # the caller was interrupted: nothing of ours outlives it
            _stop(pid, fd)


def _start(work: Callable[[P], R], part: P) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, and leave without running the parent's exits
        status = 1
        try:
            os.close(read_end)
            gc.disable()  # a collection would touch, and so copy, every page shared with the parent
            _write_all(write_end, _encode(work(part)))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _encode(answer: Any) -> bytes:
    try:
        return _MARSHAL + marshal.dumps(answer)
    except ValueError:  # a type marshal does not write (a datetime, a class instance)
        import pickle

        return _PICKLE + pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def _collect(pid: int, fd: int) -> object:
    """The child's answer, or `_FAILED`. Interrupted, it leaves the child to `_stop`."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if status != 0 or not data:
        return _FAILED
    try:
        if data[:1] == _MARSHAL:
            return marshal.loads(data[1:])
        import pickle

        return pickle.loads(data[1:])
    except Exception:
        return _FAILED


def _stop(pid: int, fd: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):  # already closed when the wait was interrupted
        os.close(fd)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
