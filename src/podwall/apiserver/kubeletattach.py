"""The kubelet's half of `kubectl attach` (and `kubectl run -i`): a running container's streams.

An AttachProcess is the ExecProcess the exec session drives for an attach (execsession.py):

- output: the container's log from where it stood when the attach began (stdout and stderr
  together, as the log holds them; under a TTY, the terminal's output), until the container
  exits and the log is read to its end;
- input: the container's console (`runtime.console`): bytes go to its stdin or terminal; the
  end of the client's input ends the container's only for a stdinOnce container, as the kubelet
  does; otherwise the container keeps its stdin for the next attach;
- `kill()` detaches: the client went away, the container runs on. `wait()` answers 0 when the
  container has exited or the client detached: an attach that ends is a success, and the
  container's own exit code is in the pod's status, where kubectl run reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Protocol

from podwall.apiserver.kubeletexec import write_all
from podwall.apiserver.podruntime import ExecRequest, Output


class AttachableConsole(Protocol):
    """What an attach uses of a console (`runtime.console`, or its relay's remote end)."""

    input_fd: int | None
    stdin_once: bool

    def end_input(self) -> None: ...

    def resize(self, columns: int, rows: int) -> None: ...


class AttachableContainer(Protocol):
    """What an attach uses of a container (`runtime.process.PodProcess`, or what a sandbox
    node publishes of one)."""

    @property
    def log_path(self) -> Path: ...

    @property
    def console(self) -> AttachableConsole | None: ...

    def running(self) -> bool: ...


POLL_SECONDS = 0.05  # how often the log and the container are looked at
READ_SIZE = 32 * 1024


class AttachProcess:
    """An attachment to `container`'s process, following `log_path` from its current end."""

    def __init__(self, container: AttachableContainer, request: ExecRequest) -> None:
        self.container = container
        self.request = request
        self._offset = _size(container.log_path)
        self._detached = asyncio.Event()

    @property
    def outputs(self) -> tuple[Output, ...]:
        return (Output.STDOUT,) if self.request.stdout or self.request.stderr else ()

    async def read(self, output: Output) -> bytes:
        while True:
            data = self._read_log()
            if data:
                return data
            if self._detached.is_set() or not self.container.running():
                await asyncio.sleep(POLL_SECONDS)  # a TTY's last output is still being copied
                return self._read_log()
            await asyncio.sleep(POLL_SECONDS)

    async def write(self, data: bytes) -> None:
        console = self.container.console
        fd = console.input_fd if console is not None and self.request.stdin else None
        if fd is not None:
            with contextlib.suppress(OSError):
                await write_all(fd, data)

    async def close_stdin(self) -> None:
        console = self.container.console
        if console is not None and console.stdin_once and self.request.stdin:
            console.end_input()

    def resize(self, columns: int, rows: int) -> None:
        if self.container.console is not None:
            self.container.console.resize(columns, rows)

    async def wait(self) -> int:
        while self.container.running() and not self._detached.is_set():
            await asyncio.sleep(POLL_SECONDS)
        return 0

    def kill(self) -> None:
        if self.container.running():
            self._detached.set()

    def close(self) -> None:
        self._detached.set()

    def _read_log(self) -> bytes:
        try:
            with self.container.log_path.open("rb") as log:
                log.seek(self._offset)
                data = log.read(READ_SIZE)
        except OSError:
            return b""
        self._offset += len(data)
        return data


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
