"""The kubelet's half of `kubectl exec`: a command in a pod's namespaces, under pipes or a pty.

`start_in_pod` runs the command through `process.exec_in_pod` (the pod's network and UTS
namespaces, uid 65534, no capabilities) and returns a LocalProcess, the ExecProcess the API
server's exec session drives. With a TTY the command runs under a pty opened at the client's
first size; the pty becomes its controlling terminal, so ^C, ^Z and job control reach it. Every
fd is non-blocking and awaited on the event loop; the exit is awaited on a pidfd (no thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import pty
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from podwall.apiserver.podruntime import ExecRequest, ExecStartError, Output
from podwall.runtime import images, process
from podwall.runtime.console import resize_pty, set_window_size

READ_SIZE = 32 * 1024
REAP_SECONDS = 5.0  # a command SIGKILLed at the end is reaped within this
# Run first under a pty: the session leader (exec_in_pod starts a new session) takes the pty as
# its controlling terminal, as runc does for a TTY exec, so ^C, ^Z and job control reach the
# command; then it becomes the command (same pid, same exit status).
CTTY_PROGRAM = """\
import fcntl, os, sys, termios
try:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
except OSError:
    pass
os.execvp(sys.argv[1], sys.argv[1:])
"""

# Starts argv with these stdin, stdout, stderr (fds, or subprocess.PIPE / DEVNULL).
Spawn = Callable[[Sequence[str], int, int, int], subprocess.Popen[bytes]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecTarget:
    """Where a container's exec runs: `process.exec_in_pod(**...)`."""

    netns: str
    hostname: str
    image: str
    env: dict[str, str] = field(default_factory=dict)


def start_in_pod(target: ExecTarget, request: ExecRequest) -> LocalProcess:
    """Start `request.command` in the pod of `target`; ExecStartError when it cannot start."""

    def spawn(argv: Sequence[str], stdin: int, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
        return process.exec_in_pod(
            netns=target.netns, hostname=target.hostname, argv=argv, env=target.env,
            image=target.image, stdin=stdin, stdout=stdout, stderr=stderr,
        )  # fmt: skip

    try:
        argv = tty_argv(target, request.command) if request.tty else request.command
        return start(spawn, request, argv)
    except (process.ProcessError, OSError, ValueError) as exc:
        raise ExecStartError(str(exc)) from exc


def tty_argv(target: ExecTarget, command: tuple[str, ...]) -> tuple[str, ...]:
    """`command` behind CTTY_PROGRAM, when it is a host command and a python3 is at hand for
    the pod's user (the stand-ins' interpreter may not be); else `command` as it is."""
    python = shutil.which("python3", path=images.DEFAULT_PATH)
    launch = images.resolve_exec(target.image, command, target.env)
    if python is None or not isinstance(launch, images.Launch) or launch.kind != images.KIND_HOST:
        return command
    return (python, "-I", "-S", "-c", CTTY_PROGRAM, *launch.argv)


def start(spawn: Spawn, request: ExecRequest, argv: Sequence[str]) -> LocalProcess:
    """Start `argv` with pipes, or under a pty at `request.size` when a TTY is asked for."""
    if request.tty:
        return _start_tty(spawn, request, argv)
    return _start_pipes(spawn, request, argv)


def _start_pipes(spawn: Spawn, request: ExecRequest, argv: Sequence[str]) -> LocalProcess:
    def want(flag: bool) -> int:
        return subprocess.PIPE if flag else subprocess.DEVNULL

    popen = spawn(argv, want(request.stdin), want(request.stdout), want(request.stderr))
    outputs = {
        output: _own(pipe)
        for pipe, output in ((popen.stdout, Output.STDOUT), (popen.stderr, Output.STDERR))
        if pipe is not None
    }
    stdin = _own(popen.stdin) if popen.stdin is not None else None
    owned = [*outputs.values(), *([stdin] if stdin is not None else [])]
    return LocalProcess(popen, outputs=outputs, stdin=stdin, owned=owned)


def _own(pipe: IO[bytes]) -> int:
    """The pipe as a non-blocking fd of our own (the file object is closed)."""
    fd = os.dup(pipe.fileno())
    pipe.close()
    os.set_blocking(fd, False)
    return fd


def _start_tty(spawn: Spawn, request: ExecRequest, argv: Sequence[str]) -> LocalProcess:
    master, slave = pty.openpty()
    try:
        if request.size is not None:
            set_window_size(master, *request.size)
        popen = spawn(argv, slave, slave, slave)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    outputs = {Output.STDOUT: master} if request.stdout else {}
    stdin = master if request.stdin else None
    return LocalProcess(popen, outputs=outputs, stdin=stdin, owned=[master], pty_master=master)


class LocalProcess:
    """An exec'd command of this host: its Popen and the parent's ends of its stdio."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        *,
        outputs: dict[Output, int],
        stdin: int | None,
        owned: list[int],
        pty_master: int | None = None,
    ) -> None:
        self.popen = popen
        self._outputs = outputs
        self._stdin = stdin
        self._owned = owned
        self._pty = pty_master

    @property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(self._outputs)

    async def read(self, output: Output) -> bytes:
        fd = self._outputs.get(output)
        return b"" if fd is None else await read_chunk(fd)

    async def write(self, data: bytes) -> None:
        if self._stdin is not None:
            with contextlib.suppress(OSError):
                await write_all(self._stdin, data)

    async def close_stdin(self) -> None:
        """Close the command's input; under a pty send ^D instead (closing the master would
        end the command's output too)."""
        fd, self._stdin = self._stdin, None
        if fd is None:
            return
        if fd == self._pty:
            with contextlib.suppress(OSError):
                await write_all(fd, b"\x04")
            return
        self._owned.remove(fd)
        with contextlib.suppress(OSError):
            os.close(fd)

    def resize(self, columns: int, rows: int) -> None:
        resize_pty(self._pty, columns, rows)

    async def wait(self) -> int:
        return await wait_exit(self.popen)

    def kill(self) -> None:
        kill_group(self.popen.pid)

    def close(self) -> None:
        self.kill()
        if self.popen.returncode is None:  # SIGKILLed just now: reap it, without hanging
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=REAP_SECONDS)
        for fd in self._owned:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._owned.clear()


# Non-blocking fds and pidfds on the event loop.


async def read_chunk(fd: int) -> bytes:
    """The next bytes from a non-blocking fd; b"" at end of file (EIO: a pty without writers)."""
    while True:
        try:
            return os.read(fd, READ_SIZE)
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise
        await _ready(fd, writing=False)


async def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to a non-blocking fd."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await _ready(fd, writing=True)


async def _ready(fd: int, *, writing: bool) -> None:
    """Until `fd` is readable (or writable)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    add, remove = (
        (loop.add_writer, loop.remove_writer) if writing else (loop.add_reader, loop.remove_reader)
    )
    add(fd, _resolve, ready)
    try:
        await ready
    finally:
        remove(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def wait_exit(popen: subprocess.Popen[bytes]) -> int:
    """Wait without a thread (pidfd), then reap; the exit code as runtimes report it."""
    pidfd = os.pidfd_open(popen.pid)
    try:
        await _ready(pidfd, writing=False)
    finally:
        os.close(pidfd)
    return exit_code(popen.wait())


def exit_code(returncode: int) -> int:
    """Popen's returncode as a container runtime reports it: 128 + signal when killed."""
    return 128 - returncode if returncode < 0 else returncode


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
