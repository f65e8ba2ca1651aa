"""The exec session's lifecycle over a fake transport and a fake process (no server, no root),
and the Status bodies and resize messages both transports share."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from podwall.apiserver.execsession import (
    ExecSession,
    Inbound,
    Status,
    exit_status,
    parse_resizes,
    success_status,
)
from podwall.apiserver.podruntime import ExecRequest, ExecStartError, Output


class FakeTransport:
    """Records what the session sends; the test speaks for the client through `inbound`."""

    def __init__(self, *, opens: bool = True) -> None:
        self.opens = opens
        self.resizes = True
        self.inbound: Inbound | None = None
        self.receiving = asyncio.Event()
        self.disconnect = asyncio.Event()
        self.sent: list[tuple[Output, bytes]] = []
        self.statuses: list[Status] = []
        self.closed = False

    async def receive(self, inbound: Inbound) -> None:
        self.inbound = inbound
        self.receiving.set()
        await self.disconnect.wait()

    async def opened(self) -> bool:
        return self.opens

    async def send(self, output: Output, data: bytes) -> None:
        self.sent.append((output, data))

    async def finish(self, status: Status) -> None:
        self.statuses.append(status)

    async def close(self) -> None:
        self.closed = True

    async def client(self) -> Inbound:
        await self.receiving.wait()
        assert self.inbound is not None
        return self.inbound


class FakeProcess:
    """A command whose output, input and exit the test controls."""

    def __init__(self, request: ExecRequest) -> None:
        self.request = request
        self.output: asyncio.Queue[bytes] = asyncio.Queue()
        self.stdin: list[bytes] = []
        self.stdin_closed = asyncio.Event()
        self.sizes: list[tuple[int, int]] = []
        self.exit: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.killed = 0
        self.closed = False

    @property
    def outputs(self) -> tuple[Output, ...]:
        return (Output.STDOUT,)

    async def read(self, output: Output) -> bytes:
        return await self.output.get()

    async def write(self, data: bytes) -> None:
        self.stdin.append(data)

    async def close_stdin(self) -> None:
        self.stdin_closed.set()

    def resize(self, columns: int, rows: int) -> None:
        self.sizes.append((columns, rows))

    async def wait(self) -> int:
        return await self.exit

    def kill(self) -> None:
        self.killed += 1
        if not self.exit.done():
            self.exit.set_result(137)

    def close(self) -> None:
        self.closed = True


class Launcher:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.started: list[FakeProcess] = []
        self.launched = asyncio.Event()

    def __call__(self, request: ExecRequest) -> FakeProcess:
        if self.error is not None:
            raise self.error
        process = FakeProcess(request)
        self.started.append(process)
        self.launched.set()
        return process

    async def process(self) -> FakeProcess:
        await self.launched.wait()
        return self.started[0]


def request(*, tty: bool = False) -> ExecRequest:
    return ExecRequest(command=("sh", "-c", "x"), stdin=True, stdout=True, stderr=not tty, tty=tty)


def in_a_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(asyncio.wait_for(test(), 10))

    return run


def start(transport: FakeTransport, launcher: Launcher, *, tty: bool = False) -> asyncio.Task[None]:
    return asyncio.create_task(ExecSession(transport, request(tty=tty), launcher).run())


@in_a_loop
async def test_output_then_success_then_close() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher)
    process = await launcher.process()
    process.output.put_nowait(b"hi\n")
    await asyncio.sleep(0.01)
    process.exit.set_result(0)
    process.output.put_nowait(b"late\n")  # what its children wrote: drained before the Status
    process.output.put_nowait(b"")
    await session
    assert transport.sent == [(Output.STDOUT, b"hi\n"), (Output.STDOUT, b"late\n")]
    assert transport.statuses == [success_status()]
    assert transport.closed
    assert process.killed == 1  # its process group, after it exited
    assert process.closed


@in_a_loop
async def test_a_non_zero_exit_is_the_code_in_the_status() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher)
    process = await launcher.process()
    process.exit.set_result(3)
    process.output.put_nowait(b"")
    await session
    assert transport.statuses == [exit_status(("sh", "-c", "x"), 3)]


@in_a_loop
async def test_stdin_goes_to_the_command_until_the_client_ends_it() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher)
    client = await transport.client()
    client.stdin(b"a")
    client.stdin(b"")  # nothing: not passed on
    client.stdin(b"b")
    client.stdin_end()
    process = await launcher.process()
    await process.stdin_closed.wait()
    assert process.stdin == [b"a", b"b"]
    process.exit.set_result(0)
    process.output.put_nowait(b"")
    await session


@in_a_loop
async def test_a_tty_starts_at_the_client_s_first_size_and_follows_resizes() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher, tty=True)
    client = await transport.client()
    await asyncio.sleep(0.01)
    assert not launcher.started  # waiting for the size
    client.resize(100, 30)
    process = await launcher.process()
    assert process.request.size == (100, 30)
    client.resize(120, 40)
    assert process.sizes == [(120, 40)]
    process.exit.set_result(0)
    process.output.put_nowait(b"")
    await session


@in_a_loop
async def test_a_tty_without_a_size_starts_anyway() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher, tty=True)
    process = await launcher.process()
    assert process.request.size is None
    process.exit.set_result(0)
    process.output.put_nowait(b"")
    await session


@in_a_loop
async def test_a_client_that_goes_away_gets_nothing_and_the_command_is_killed() -> None:
    transport, launcher = FakeTransport(), Launcher()
    session = start(transport, launcher)
    process = await launcher.process()
    transport.disconnect.set()
    await session
    assert process.killed >= 1
    assert process.closed
    assert (transport.statuses, transport.closed) == ([], False)


@in_a_loop
async def test_a_command_that_cannot_start_is_an_internal_error() -> None:
    transport = FakeTransport()
    launcher = Launcher(ExecStartError("no-such-command: not found"))
    await start(transport, launcher)
    (status,) = transport.statuses
    assert (status["reason"], status["code"]) == ("InternalError", 500)
    assert status["message"] == (
        "Internal error occurred: error executing command in container: no-such-command: not found"
    )
    assert transport.closed


@in_a_loop
async def test_a_transport_that_never_opens_starts_nothing() -> None:
    transport, launcher = FakeTransport(opens=False), Launcher()
    await start(transport, launcher)
    assert (launcher.started, transport.statuses, transport.closed) == ([], [], False)


@in_a_loop
async def test_fail_sends_one_internal_error_unless_a_status_went() -> None:
    transport = FakeTransport()
    session = ExecSession(transport, request(), Launcher())
    await session.finish(success_status())
    await session.fail("boom")
    assert transport.statuses == [success_status()]
    assert transport.closed


def test_exit_status_carries_the_code_as_kubectl_reads_it() -> None:
    assert exit_status(("curl", "-I", "backend:8080"), 28) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command "
        "[curl -I backend:8080], exit code 28",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "28"}]},
    }
    assert success_status() == {"metadata": {}, "status": "Success"}


RESIZES = [
    ("one size", b'{"Width":100,"Height":30}\n', [(100, 30)]),
    ("several in one message", b'{"Width":1,"Height":2}{"Width":3,"Height":4}', [(1, 2), (3, 4)]),
    ("garbage is no size", b"garbage", []),
    ("nonsense dimensions are 0", b'{"Width":-5,"Height":"x"}', [(0, 0)]),
    ("dimensions are capped to 16 bits", b'{"Width":70000,"Height":1.5}', [(0xFFFF, 1)]),
]


@pytest.mark.parametrize(("data", "sizes"), [c[1:] for c in RESIZES], ids=[c[0] for c in RESIZES])
def test_resize_messages(data: bytes, sizes: list[tuple[int, int]]) -> None:
    assert parse_resizes(data) == sizes
