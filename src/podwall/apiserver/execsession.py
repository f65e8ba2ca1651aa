"""One `kubectl exec` session, whatever carries it: the command's life, its streams, its Status.

A Transport is the client's connection, WebSocket channels (exec.py) or SPDY streams
(spdyexec.py). It reads the client and hands the session stdin, the end of stdin and terminal
sizes; it sends output and, last, the one Status. The session:

1. waits until the transport is open (SPDY: every stream kubectl announced) and, with a TTY,
   for the client's first terminal size (at most FIRST_RESIZE_SECONDS), so the command starts
   at that size;
2. starts the command through the PodRuntime (`launch`), an ExecProcess;
3. copies stdin to it until the client ends stdin, follows resizes, and sends its output;
4. once it exits: kills what it left in its process group, lets the output drain (at most
   DRAIN_SECONDS), sends Success or NonZeroExitCode with the code, and closes.

A client that goes away first gets nothing more: the command's process group is killed. A
command that cannot start is an InternalError Status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from podwall.apiserver.podruntime import (
    ExecProcess,
    ExecRequest,
    ExecStartError,
    Output,
    PodLookupError,
)

DRAIN_SECONDS = 2.0  # output still arriving after the command exited (its children's)
FIRST_RESIZE_SECONDS = 0.5  # how long a TTY command waits for kubectl's first size

Status = dict[str, Any]
Launch = Callable[[ExecRequest], ExecProcess]


class Inbound(Protocol):
    """What a transport hands on from the client."""

    def stdin(self, data: bytes) -> None: ...

    def stdin_end(self) -> None: ...

    def resize(self, columns: int, rows: int) -> None: ...


class Transport(Protocol):
    """The client's connection, as the session uses it."""

    @property
    def resizes(self) -> bool:
        """Whether the client can send terminal sizes (the session waits for the first)."""
        ...

    async def receive(self, inbound: Inbound) -> None:
        """Read the client until it goes, handing what it sends to `inbound`."""
        ...

    async def opened(self) -> bool:
        """Wait until the client is ready for the command; False if it never will be."""
        ...

    async def send(self, output: Output, data: bytes) -> None: ...

    async def finish(self, status: Status) -> None:
        """End every output, then send `status`, the last thing the client gets."""
        ...

    async def close(self) -> None:
        """After the Status: close, once the client has had the chance to read it."""
        ...


class ExecSession:
    """One exec: `run()` it once; on an unexpected error, `fail()` it."""

    def __init__(self, transport: Transport, request: ExecRequest, launch: Launch) -> None:
        self.transport = transport
        self.request = request
        self.launch = launch
        self.process: ExecProcess | None = None
        self.size: tuple[int, int] | None = None
        self.sized = asyncio.Event()
        self.gone = asyncio.Event()  # the client closed the connection
        self._stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._finished = False

    # Inbound: called by the transport.

    def stdin(self, data: bytes) -> None:
        if data:
            self._stdin.put_nowait(data)

    def stdin_end(self) -> None:
        self._stdin.put_nowait(None)

    def resize(self, columns: int, rows: int) -> None:
        self.size = (columns, rows)
        self.sized.set()
        if self.process is not None:
            self.process.resize(columns, rows)

    # The session.

    async def run(self) -> None:
        receiving = asyncio.create_task(self._receive())
        try:
            if not await self.transport.opened() or not await self._first_size():
                return
            try:
                self.process = self.launch(dataclasses.replace(self.request, size=self.size))
            except (PodLookupError, ExecStartError) as exc:
                await self.finish(internal_status(str(exc)))
            else:
                try:
                    await self._supervise(self.process)
                finally:
                    self.process.close()
            if not self.gone.is_set():
                await self.transport.close()
        finally:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)

    async def fail(self, message: str) -> None:
        """An InternalError Status (unless one was sent), then close."""
        await self.finish(internal_status(message))
        await self.transport.close()

    async def finish(self, status: Status) -> None:
        """Exactly one Status."""
        if not self._finished:
            self._finished = True
            await self.transport.finish(status)

    async def _receive(self) -> None:
        try:
            await self.transport.receive(self)
        finally:
            self.gone.set()

    async def _first_size(self) -> bool:
        """With a TTY, wait a moment for the client's size; False if the client went away."""
        if self.request.tty and self.transport.resizes:
            await first_of(self.sized, self.gone, FIRST_RESIZE_SECONDS)
        return not self.gone.is_set()

    async def _supervise(self, process: ExecProcess) -> None:
        pumps = [asyncio.create_task(self._pump(process, out)) for out in process.outputs]
        feeder = asyncio.create_task(self._feed(process))
        exited = asyncio.create_task(process.wait())
        gone = asyncio.create_task(self.gone.wait())
        try:
            await asyncio.wait([exited, gone], return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():  # the client went away first
                process.kill()
                await exited
                return
            process.kill()  # what the command left running in its group
            if pumps:
                await asyncio.wait(pumps, timeout=DRAIN_SECONDS)
            code = exited.result()
            command = self.request.command
            await self.finish(success_status() if code == 0 else exit_status(command, code))
        finally:
            for task in [*pumps, feeder, exited, gone]:
                task.cancel()
            await asyncio.gather(*pumps, feeder, exited, gone, return_exceptions=True)

    async def _pump(self, process: ExecProcess, output: Output) -> None:
        while data := await process.read(output):
            await self.transport.send(output, data)

    async def _feed(self, process: ExecProcess) -> None:
        while (data := await self._stdin.get()) is not None:
            await process.write(data)
        await process.close_stdin()


async def first_of(event: asyncio.Event, other: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` (True), or for `other` or `seconds` (False)."""
    waiters = [asyncio.create_task(event.wait()), asyncio.create_task(other.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return event.is_set()


# The Status bodies, as the kubelet writes them (no kind, no apiVersion).


def success_status() -> Status:
    return {"metadata": {}, "status": "Success"}


def exit_status(command: tuple[str, ...], code: int) -> Status:
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"[{' '.join(command)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_status(message: str) -> Status:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: error executing command in container: {message}",
        "reason": "InternalError",
        "code": 500,
    }


def status_json(status: Status) -> bytes:
    return json.dumps(status, separators=(",", ":")).encode()


# Terminal sizes, as both transports carry them.


def parse_resizes(data: bytes) -> list[tuple[int, int]]:
    """(columns, rows) of each `{"Width":W,"Height":H}` in one resize message."""
    decoder = json.JSONDecoder()
    text = data.decode("utf-8", "replace")
    sizes: list[tuple[int, int]] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return sizes
        try:
            value, index = decoder.raw_decode(text, index)
        except ValueError:
            return sizes
        if isinstance(value, dict):
            sizes.append((_dimension(value, "Width"), _dimension(value, "Height")))


def _dimension(value: Mapping[str, Any], key: str) -> int:
    number = value.get(key, 0)
    return max(0, min(int(number), 0xFFFF)) if isinstance(number, int | float) else 0


def resize_all(inbound: Inbound, data: bytes) -> None:
    """Hand every size of a resize message on, in order."""
    for columns, rows in parse_resizes(data):
        inbound.resize(columns, rows)
