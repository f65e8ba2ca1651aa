"""The kubelet's exec processes: pipes and ptys on the event loop, here with a local `sh`
(kubeletexec.start with a spawn of this host), and the errors of start_in_pod."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest

from podwall.apiserver import kubeletexec
from podwall.apiserver.kubeletexec import ExecTarget, LocalProcess
from podwall.apiserver.podruntime import ExecRequest, ExecStartError, Output


def spawn(argv: Sequence[str], stdin: int, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, start_new_session=True)


def sh(script: str, **streams: Any) -> LocalProcess:
    request = ExecRequest(command=("sh", "-c", script), **{
        "stdin": False, "stdout": True, "stderr": True, "tty": False, **streams,
    })  # fmt: skip
    return kubeletexec.start(spawn, request, request.command)


async def read_all(process: LocalProcess, output: Output) -> bytes:
    out = b""
    while data := await process.read(output):
        out += data
    return out


def in_a_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(asyncio.wait_for(test(), 10))

    return run


@in_a_loop
async def test_pipes_carry_stdin_stdout_stderr_and_the_exit_code() -> None:
    process = sh("cat; echo err >&2; exit 3", stdin=True)
    try:
        assert process.outputs == (Output.STDOUT, Output.STDERR)
        await process.write(b"hello\n")
        await process.close_stdin()
        await process.write(b"ignored once stdin is closed")
        out, err = await asyncio.gather(
            read_all(process, Output.STDOUT), read_all(process, Output.STDERR)
        )
        assert (out, err, await process.wait()) == (b"hello\n", b"err\n", 3)
    finally:
        process.close()


@in_a_loop
async def test_a_stream_not_asked_for_is_not_there() -> None:
    process = sh("echo out; echo err >&2", stderr=False)
    try:
        assert process.outputs == (Output.STDOUT,)
        assert await process.read(Output.STDERR) == b""
        assert await read_all(process, Output.STDOUT) == b"out\n"
    finally:
        process.close()


@in_a_loop
async def test_a_tty_starts_at_its_size_follows_resizes_and_ends_input_with_ctrl_d() -> None:
    process = kubeletexec.start(
        spawn,
        ExecRequest(
            command=("sh", "-c", "stty size; read line; stty size; cat"),
            stdin=True, stdout=True, stderr=False, tty=True, size=(100, 30),
        ),
        ("sh", "-c", "stty size; read line; stty size; cat"),
    )  # fmt: skip
    try:
        assert process.outputs == (Output.STDOUT,)
        first = b""
        while not first.endswith(b"\n"):
            first += await process.read(Output.STDOUT)
        assert first == b"30 100\r\n"
        process.resize(120, 40)
        await process.write(b"go\n")
        await process.close_stdin()  # ^D: cat ends, the pty stays readable
        rest = await read_all(process, Output.STDOUT)
        assert rest.startswith(b"go\r\n40 120\r\n")
        assert await process.wait() == 0
    finally:
        process.close()


@in_a_loop
async def test_kill_ends_the_whole_process_group() -> None:
    process = sh("sleep 30 & sleep 30; wait")
    try:
        process.kill()
        assert await process.wait() == 137
        for _ in range(6000):  # the background sleep is reaped by whoever inherits it
            if not _group_alive(process.popen.pid):
                break
            await asyncio.sleep(0.01)
        assert not _group_alive(process.popen.pid)
    finally:
        process.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_signals_become_128_plus_the_signal() -> None:
    assert kubeletexec.exit_code(-9) == 137
    assert kubeletexec.exit_code(3) == 3


START_ERRORS = [
    ("a command the image cannot run", ExecTarget(netns="pw-none", hostname="web", image="alpine"),
     ("no-such-command-here",), "no-such-command-here"),
    ("a hostname no pod can have", ExecTarget(netns="pw-none", hostname="-web", image="alpine"),
     ("true",), "hostname"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "command", "named"), [c[1:] for c in START_ERRORS], ids=[c[0] for c in START_ERRORS]
)
def test_what_cannot_start_is_an_exec_start_error(
    target: ExecTarget, command: tuple[str, ...], named: str
) -> None:
    request = ExecRequest(command=command, stdin=False, stdout=True, stderr=True, tty=False)
    with pytest.raises(ExecStartError, match=named):
        kubeletexec.start_in_pod(target, request)
