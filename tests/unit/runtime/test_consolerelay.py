"""A container's console reached from another process: input, detach, end of input."""

from __future__ import annotations

import os
import select
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.runtime.console import Console
from podwall.runtime.consolerelay import ConsoleRelay, RemoteConsole


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: a Unix socket's path is at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="pw-relay-", dir="/tmp") as name:
        yield Path(name)


def read_some(fd: int, timeout: float = 5.0) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    assert ready, "nothing arrived"
    return os.read(fd, 1024)


def test_input_reaches_the_container_and_a_detach_leaves_it_open(short_dir: Path) -> None:
    read_end, write_end = os.pipe()
    console = Console.for_pipe(write_end, stdin_once=False)
    relay = ConsoleRelay(short_dir, "c1", lambda: console)
    try:
        first = RemoteConsole(short_dir, "c1", tty=False, stdin_once=False)
        assert first.input_fd is not None
        os.write(first.input_fd, b"hello\n")
        assert read_some(read_end) == b"hello\n"
        first.close()  # a detach: the container keeps its stdin
        second = RemoteConsole(short_dir, "c1", tty=False, stdin_once=False)
        assert second.input_fd is not None
        os.write(second.input_fd, b"again\n")
        assert read_some(read_end) == b"again\n"
        second.close()
    finally:
        relay.close()
        console.close()
        os.close(read_end)
    assert list(short_dir.iterdir()) == []


def test_the_end_of_input_closes_a_stdin_once_containers_stdin(short_dir: Path) -> None:
    read_end, write_end = os.pipe()
    console = Console.for_pipe(write_end, stdin_once=True)
    relay = ConsoleRelay(short_dir, "c1", lambda: console)
    try:
        remote = RemoteConsole(short_dir, "c1", tty=False, stdin_once=True)
        remote.resize(120, 40)  # no terminal: nothing happens, nothing breaks
        remote.end_input()
        assert read_some(read_end) == b""  # end of file: the pipe's write end is closed
        remote.close()
    finally:
        relay.close()
        console.close()
        os.close(read_end)
