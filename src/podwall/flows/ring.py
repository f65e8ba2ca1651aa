"""Bounded rings of recent flows: one in memory, one on disk that other processes read.

`FlowRing` keeps the last `capacity` entries in memory; `since` returns what came after a
position, and waits for it, for a follower in the same process (`podwall probe --flows`).

`RingFile` is how a node hands its flows to `podwall observe`, a different process: JSON
lines appended to `<node>.jsonl`; when it holds `capacity // 2` lines it is renamed to
`<node>.jsonl.1` (replacing the older half) and a new file begins, so the pair never holds more
than `capacity` lines and a reader sees the newest `capacity // 2` at least. The writer is the
only one to rename; a reader that follows keeps its open file across a rename and drains it
before it opens the new one (`Tail`), so no line is skipped. Files, not a socket: the node
runs inside `podwall up` today and as its own agent process later, and a file in the cluster's
run directory outlives both arrangements without a port to find or a server to keep up.

Each line is a flow (`Flow.to_json`) or a Service hop (`{"serviceHop": {...}}`), which the
merge in `podwall observe` joins to flows decided on other nodes.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from podwall.flows.attribution import ServiceHop
from podwall.flows.flow import Flow

T = TypeVar("T")
Entry = Flow | ServiceHop
SUFFIX = ".jsonl"


class FlowRing(Generic[T]):
    """The last `capacity` items, numbered from 0 as they came; thread-safe."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a ring holds at least one item, not {capacity}")
        self._items: deque[T] = deque(maxlen=capacity)
        self._next = 0  # the number the next item gets
        self._changed = threading.Condition()

    def extend(self, items: Iterable[T]) -> None:
        with self._changed:
            for item in items:
                self._items.append(item)
                self._next += 1
            self._changed.notify_all()

    @property
    def next(self) -> int:
        """The number the next item will get."""
        return self._next

    def snapshot(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def since(self, position: int, timeout: float = 0.0) -> tuple[list[T], int]:
        """Items numbered `position` on (those still held), and the next position; waits up
        to `timeout` when there are none yet."""
        with self._changed:
            if self._next <= position and timeout > 0:
                self._changed.wait_for(lambda: self._next > position, timeout)
            first = self._next - len(self._items)
            start = max(position, first) - first
            return list(self._items)[start:], self._next


def entry_json(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, Flow):
        return entry.to_json()
    hop = {
        "time": entry.time,
        "node": entry.node,
        "service": entry.service,
        "source": entry.source,
        "sourcePort": entry.source_port,
        "protocol": entry.protocol,
        "clusterIP": entry.cluster_ip,
        "port": entry.port,
    }
    return {"serviceHop": hop}


def entry_from_json(data: dict[str, Any]) -> Entry:
    hop = data.get("serviceHop")
    if hop is None:
        return Flow.from_json(data)
    return ServiceHop(
        time=float(hop["time"]),
        node=str(hop["node"]),
        service=str(hop["service"]),
        source=str(hop["source"]),
        source_port=hop.get("sourcePort"),
        protocol=str(hop["protocol"]),
        cluster_ip=str(hop["clusterIP"]),
        port=hop.get("port"),
    )


class RingFile:
    """The on-disk ring of one node; one writer (the node's collector).

    Each file starts with a header line `{"ring": N}`, N counting the files this path has had,
    so a follower can tell whether it missed a whole file between two reads.
    """

    def __init__(self, path: Path, capacity: int) -> None:
        if capacity < 2:
            raise ValueError(f"a ring file holds at least two lines, not {capacity}")
        self.path = path
        self.half = capacity // 2
        path.parent.mkdir(parents=True, exist_ok=True)
        self._number = file_number(path)
        self._lines = _count_lines(path)
        self._file = path.open("a", encoding="utf-8")
        if self._number is None:
            self._number = 0
            self._header()

    def _header(self) -> None:
        self._file.write(json.dumps({"ring": self._number}) + "\n")
        self._file.flush()

    def append(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if self._lines >= self.half:
                self._rotate()
            self._file.write(json.dumps(entry_json(entry), separators=(",", ":")) + "\n")
            self._lines += 1
        self._file.flush()

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self.path, older(self.path))
        self._file = self.path.open("a", encoding="utf-8")
        self._number = (self._number or 0) + 1
        self._header()
        self._lines = 0

    def close(self) -> None:
        self._file.close()


def older(path: Path) -> Path:
    return path.with_name(path.name + ".1")


def file_number(path: Path) -> int | None:
    """The number in a ring file's header; None when there is no such file."""
    try:
        with path.open(encoding="utf-8") as f:
            return _header_number(f.readline())
    except FileNotFoundError:
        return None


def _header_number(line: str) -> int | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    number = data.get("ring") if isinstance(data, dict) else None
    return number if isinstance(number, int) else None


def _count_lines(path: Path) -> int:
    """Entry lines in a ring file (its header not counted)."""
    try:
        with path.open("rb") as f:
            return max(0, sum(1 for _ in f) - 1)
    except FileNotFoundError:
        return 0


def read_ring(path: Path) -> Iterator[Entry]:
    """Every entry of a node's ring, oldest first; lines that do not parse are skipped (a
    writer may be half-way through the last one)."""
    for part in (older(path), path):
        try:
            with part.open(encoding="utf-8") as f:
                yield from _parse(f)
        except FileNotFoundError:
            continue


def _parse(lines: Iterable[str]) -> Iterator[Entry]:
    for line in lines:
        if not line.endswith("\n"):
            return
        try:
            data = json.loads(line)
            if "ring" not in data:
                yield entry_from_json(data)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue


class Tail:
    """Follows a node's ring file from its current end (or all it holds, `from_start`),
    across the writer's renames.

    Polled at least once per half ring, it sees every line; slower, `missed_files` counts the
    files that were renamed away and replaced between two polls (their lines are gone).
    """

    def __init__(self, path: Path, *, from_start: bool = False) -> None:
        self.path = path
        self.missed_files = 0
        self._number: int | None = None
        self._partial = ""
        self._backlog: list[Entry] = []
        self._file = self._open(path)
        if self._file is None:
            return  # not written yet: the first poll reads it from its beginning
        if not from_start:
            self._file.seek(0, os.SEEK_END)
            return
        before = file_number(older(path))
        if before is not None and self._number is not None and before < self._number:
            self._backlog = list(read_ring_part(older(path)))

    def _open(self, path: Path) -> TextIO | None:
        """Open a ring file after its header, taking its number."""
        try:
            f = path.open(encoding="utf-8")
        except FileNotFoundError:
            return None
        self._number, self._partial = _header_number(f.readline()), ""
        return f

    def poll(self) -> list[Entry]:
        """Entries appended since the last poll."""
        if self._file is None:
            self._file = self._open(self.path)
        out, self._backlog = self._backlog, []
        while self._file is not None:
            out += self._drain(self._file)
            if self._same_file(self._file):
                break
            self._file.close()  # renamed away and drained: the writer began a new one
            self._file = None
            out += self._newer(older(self.path))
            self._file = self._next(self.path)
        return out

    def _newer(self, path: Path) -> list[Entry]:
        """All of the previous file, when it came after the one just drained."""
        last, f = self._number, self._open(path)
        if f is None:
            return []
        with f:
            if last is not None and self._number is not None and self._number > last:
                self.missed_files += self._number - last - 1
                return self._drain(f)
        self._number = last
        return []

    def _next(self, path: Path) -> TextIO | None:
        last, f = self._number, self._open(path)
        if f is not None and last is not None and self._number is not None:
            self.missed_files += max(0, self._number - last - 1)
        return f

    def _drain(self, f: TextIO) -> list[Entry]:
        text = self._partial + f.read()
        complete, _, self._partial = text.rpartition("\n")
        if not complete:
            return []
        return list(_parse(line + "\n" for line in complete.split("\n") if line))

    def _same_file(self, f: TextIO) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            return True  # not re-created yet: keep reading the old one

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def read_ring_part(path: Path) -> Iterator[Entry]:
    try:
        with path.open(encoding="utf-8") as f:
            yield from _parse(f)
    except FileNotFoundError:
        return
