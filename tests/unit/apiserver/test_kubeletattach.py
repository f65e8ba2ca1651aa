"""An attachment to a running container: its log from now on, its stdin, detaching."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import cast

from podwall.apiserver.kubeletattach import AttachProcess
from podwall.apiserver.podruntime import ExecRequest, Output
from podwall.runtime.console import Console
from podwall.runtime.process import PodProcess

REQUEST = ExecRequest(command=(), stdin=True, stdout=True, stderr=True, tty=False)


class FakeContainer:
    """A PodProcess's surface: a log, a console, running until told otherwise."""

    def __init__(self, log_path: Path, console: Console | None) -> None:
        self.log_path = log_path
        self.console = console
        self.alive = True

    def running(self) -> bool:
        return self.alive


def attach(container: FakeContainer, request: ExecRequest = REQUEST) -> AttachProcess:
    return AttachProcess(cast(PodProcess, container), request)


def test_output_is_the_log_from_the_attach_on_until_the_container_exits(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_bytes(b"before\n")
    container = FakeContainer(log, None)

    async def scenario() -> list[bytes]:
        process = attach(container)
        with log.open("ab") as out:
            out.write(b"after\n")
        first = await process.read(Output.STDOUT)
        container.alive = False
        return [first, await process.read(Output.STDOUT), bytes([await process.wait()])]

    assert asyncio.run(scenario()) == [b"after\n", b"", b"\x00"]


def test_stdin_reaches_the_container_and_stdin_once_ends_it(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    container = FakeContainer(tmp_path / "c.log", Console.for_pipe(write_end, stdin_once=True))

    async def scenario() -> None:
        process = attach(container)
        await process.write(b"wget -qO- web\n")
        await process.close_stdin()

    asyncio.run(scenario())
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.read() == b"wget -qO- web\n"  # then end of file: the write end is closed


def test_without_stdin_once_a_detach_keeps_the_containers_stdin_open(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    console = Console.for_pipe(write_end, stdin_once=False)
    container = FakeContainer(tmp_path / "c.log", console)

    async def scenario() -> int:
        process = attach(container)
        await process.close_stdin()
        process.kill()  # the client went away: detach
        return await process.wait()

    assert asyncio.run(scenario()) == 0
    assert console.input_fd is not None
    console.close()
    os.close(read_end)
