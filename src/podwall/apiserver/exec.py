"""`kubectl exec` over WebSocket `v5.channel.k8s.io` (kubectl-api.md §10).

kubectl upgrades `GET .../pods/NAME/exec?command=...&container=...&stdin=true...` to a
WebSocket. Every message is a binary frame whose first byte is a channel:

| channel | direction        | content                                                     |
|---------|------------------|-------------------------------------------------------------|
| 0       | client -> server | stdin bytes                                                 |
| 1, 2    | server -> client | stdout, stderr (with a TTY, the pty's output is all on 1)   |
| 3       | server -> client | one metav1.Status, last: Success or NonZeroExitCode + code  |
| 4       | client -> server | `{"Width":W,"Height":H}`: resize the pty (TIOCSWINSZ)       |
| 255     | client -> server | `[255, 0]`: the client's stdin ended (v5 only)              |

The command runs through `process.exec_in_pod` with the runtime's `ExecTarget`: the pod's
namespaces, uid 65534, no capabilities. After it exits, its output is flushed, then exactly one
Status goes on channel 3, then a close frame with code 1000. A client that goes away kills the
command's process group.

Errors found before the upgrade (no such pod, invalid container, no runtime attached) are
answered as an HTTP Status instead of 101 (the WebSocket denial response). kubectl then retries
over SPDY with a POST, which gets the same Status. kubectl before 1.30 (or with
KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) speaks only SPDY to exec: spdyexec.py serves it, with
the command, Status and resize logic here. Only an app run without spdyexec's HTTP protocol
(SpdyH11Protocol: it hands the connection over) answers SPDY with a 400 (SPDY_MESSAGE).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import pty
import shutil
import signal
import struct
import subprocess
import termios
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from podwall.apiserver import errors
from podwall.apiserver.errors import ApiError
from podwall.apiserver.handlers import status_response
from podwall.apiserver.podruntime import ExecTarget, PodLookupError, PodRuntime
from podwall.apiserver.store import Store
from podwall.runtime import images, process

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
READ_SIZE = 32 * 1024
DRAIN_SECONDS = 2.0  # output still arriving after the command exited (its children's)
FIRST_RESIZE_SECONDS = 0.5  # how long a TTY command waits for kubectl's first size
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
SPDY_MESSAGE = (
    "this server runs without podwall's HTTP protocol, so it serves exec over WebSocket "
    "(v5.channel.k8s.io) only, not SPDY: use kubectl 1.30 or newer"
)


@dataclass(frozen=True, slots=True)
class ExecOptions:
    """The query of an exec request (PodExecOptions)."""

    command: tuple[str, ...]
    container: str | None
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def runtime_missing() -> ApiError:
    return ApiError(
        503,
        "ServiceUnavailable",
        "pod runtime not attached: this API server runs no pods, so it cannot exec or read logs",
    )


def _flag(params: QueryParams, name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1")


def exec_options(params: QueryParams) -> ExecOptions:
    """PodExecOptions from the query, validated as the API server does (400 otherwise)."""
    command = tuple(params.getlist("command"))
    if not command:
        raise errors.bad_request("you must specify at least one command for the container")
    stdin, stdout, stderr = (_flag(params, name) for name in ("stdin", "stdout", "stderr"))
    if not (stdin or stdout or stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    tty = _flag(params, "tty")
    return ExecOptions(
        command=command,
        container=params.get("container") or None,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr and not tty,  # a TTY merges stderr into stdout
        tty=tty,
    )


def pod_container(store: Store, namespace: str, pod: str, container: str | None) -> str:
    """The container a pods/exec or pods/log request names, checked against the pod's spec.

    Raises 404 for a missing pod and 400 with the API server's wording for a bad container.
    """
    obj = store.get("pods", namespace, pod)
    spec = obj.get("spec") or {}
    names = [str(c.get("name")) for c in spec.get("containers") or []]
    init_names = [str(c.get("name")) for c in spec.get("initContainers") or []]
    if container:
        if container not in names and container not in init_names:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return container
    if len(names) == 1:
        return names[0]
    if not names:
        raise errors.bad_request(f"a container name must be specified for pod {pod}")
    message = (
        f"a container name must be specified for pod {pod}, choose one of: [{' '.join(names)}]"
    )
    if init_names:
        message += f" or one of the init containers: [{' '.join(init_names)}]"
    raise errors.bad_request(message)


def exec_target(
    store: Store, runtime: PodRuntime | None, namespace: str, pod: str, options: ExecOptions
) -> ExecTarget:
    """Everything checked before the upgrade; raises ApiError."""
    container = pod_container(store, namespace, pod, options.container)
    if runtime is None:
        raise runtime_missing()
    try:
        return runtime.exec_target(namespace, pod, container)
    except PodLookupError as exc:
        raise errors.bad_request(str(exc)) from exc


def choose_protocol(websocket: WebSocket) -> str:
    offered = [
        p.strip()
        for p in websocket.headers.get("sec-websocket-protocol", "").split(",")
        if p.strip()
    ]
    for protocol in PROTOCOLS:
        if protocol in offered:
            return protocol
    raise errors.bad_request(
        f"requested protocol(s) are not supported: {offered}; supports {list(PROTOCOLS)}"
    )


async def serve_websocket(websocket: WebSocket, store: Store, runtime: PodRuntime | None) -> None:
    """The pods/exec WebSocket endpoint: validate, upgrade, run, report."""
    params = websocket.path_params
    namespace, pod = str(params["namespace"]), str(params["name"])
    try:
        protocol = choose_protocol(websocket)
        options = exec_options(websocket.query_params)
        target = exec_target(store, runtime, namespace, pod, options)
    except ApiError as exc:
        await _deny(websocket, exc)
        return
    except Exception as exc:
        log.exception("exec %s/%s: before the upgrade", namespace, pod)
        await _deny(websocket, errors.internal(str(exc)))
        return
    await websocket.accept(subprotocol=protocol)
    session = ExecSession(websocket, options, target, protocol)
    try:
        await session.run()
    except Exception as exc:
        log.exception("exec %s/%s: %s", namespace, pod, options.command)
        await session.finish(internal_status(str(exc)))


async def _deny(websocket: WebSocket, error: ApiError) -> None:
    """Answer the upgrade with the error's Status instead of 101 (kubectl prints it)."""
    _quiet_uvicorn_denials()
    await websocket.send_denial_response(status_response(error))


class _DenialNoise(logging.Filter):
    """uvicorn 0.54's websockets-sansio protocol sends a denial response correctly but then
    logs "ASGI callable returned without completing handshake." (it never marks a denial as
    complete). Every exec WebSocket here completes its handshake (accept or deny), so the line
    is only that noise."""

    MESSAGE = "ASGI callable returned without completing handshake."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


_DENIAL_FILTER = _DenialNoise()


def _quiet_uvicorn_denials() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _DENIAL_FILTER not in logger.filters:
        logger.addFilter(_DENIAL_FILTER)


def serve_http(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> ApiError:
    """The error for an exec request that is neither WebSocket nor SPDY that can be served."""
    options = exec_options(request.query_params)
    exec_target(store, runtime, namespace, pod, options)
    upgrade = request.headers.get("upgrade", "").lower()
    if "spdy" in upgrade:
        return errors.bad_request(SPDY_MESSAGE)
    return errors.bad_request("Upgrade request required")


# Channel-3 Status bodies, as the kubelet writes them (no kind, no apiVersion).


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(command: tuple[str, ...], code: int) -> dict[str, Any]:
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


def internal_status(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: error executing command in container: {message}",
        "reason": "InternalError",
        "code": 500,
    }


def exit_code(returncode: int) -> int:
    """Popen's returncode as a container runtime reports it: 128 + signal when killed."""
    return 128 - returncode if returncode < 0 else returncode


def parse_resizes(data: bytes) -> list[tuple[int, int]]:
    """(columns, rows) of each `{"Width":W,"Height":H}` in a channel-4 message."""
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


def set_window_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


async def read_chunk(fd: int) -> bytes:
    """The next bytes from a non-blocking fd; b"" at end of file (EIO: a pty without writers)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            return os.read(fd, READ_SIZE)
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, _resolve, ready)
        try:
            await ready
        finally:
            loop.remove_reader(fd)


async def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to a non-blocking fd."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
            continue
        except BlockingIOError:
            pass
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_writer(fd, _resolve, ready)
        try:
            await ready
        finally:
            loop.remove_writer(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def wait_exit(popen: subprocess.Popen[bytes]) -> int:
    """Wait without a thread (pidfd), then reap; the exit code as runtimes report it."""
    loop = asyncio.get_running_loop()
    pidfd = os.pidfd_open(popen.pid)
    try:
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(pidfd, _resolve, ready)
        try:
            await ready
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)
    return exit_code(popen.wait())


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class Stdio:
    """The parent's ends of the command's stdio: where stdin goes, which fd feeds which channel."""

    stdin_fd: int | None = None
    outputs: list[tuple[int, int]] = field(default_factory=list)  # (fd, channel)
    pty_master: int | None = None
    owned: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in self.owned:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.owned.clear()


def start(
    options: ExecOptions, target: ExecTarget, size: tuple[int, int] | None
) -> tuple[subprocess.Popen[bytes], Stdio]:
    """Start the command with pipes, or under a pty with `size` (columns, rows)."""
    if options.tty:
        return _start_tty(options, target, size)
    return _start_pipes(options, target)


def _start_pipes(options: ExecOptions, target: ExecTarget) -> tuple[subprocess.Popen[bytes], Stdio]:
    def want(flag: bool) -> int:
        return subprocess.PIPE if flag else subprocess.DEVNULL

    popen = process.exec_in_pod(
        netns=target.netns, hostname=target.hostname, argv=options.command,
        env=target.env, image=target.image,
        stdin=want(options.stdin), stdout=want(options.stdout), stderr=want(options.stderr),
    )  # fmt: skip
    stdio = Stdio()
    for pipe, channel in ((popen.stdout, STDOUT), (popen.stderr, STDERR)):
        if pipe is not None:
            fd = os.dup(pipe.fileno())
            pipe.close()
            os.set_blocking(fd, False)
            stdio.outputs.append((fd, channel))
            stdio.owned.append(fd)
    if popen.stdin is not None:
        fd = os.dup(popen.stdin.fileno())
        popen.stdin.close()
        os.set_blocking(fd, False)
        stdio.stdin_fd = fd
        stdio.owned.append(fd)
    return popen, stdio


def tty_argv(target: ExecTarget, command: tuple[str, ...]) -> tuple[str, ...]:
    """`command` behind CTTY_PROGRAM, when it is a host command and a python3 is at hand for
    the pod's user (the stand-ins' interpreter may not be); else `command` as it is."""
    python = shutil.which("python3", path=images.DEFAULT_PATH)
    launch = images.resolve_exec(target.image, command, target.env)
    if python is None or not isinstance(launch, images.Launch) or launch.kind != images.KIND_HOST:
        return command
    return (python, "-I", "-S", "-c", CTTY_PROGRAM, *launch.argv)


def _start_tty(
    options: ExecOptions, target: ExecTarget, size: tuple[int, int] | None
) -> tuple[subprocess.Popen[bytes], Stdio]:
    master, slave = pty.openpty()
    try:
        if size is not None:
            set_window_size(master, *size)
        popen = process.exec_in_pod(
            netns=target.netns, hostname=target.hostname,
            argv=tty_argv(target, options.command),
            env=target.env, image=target.image, stdin=slave, stdout=slave, stderr=slave,
        )  # fmt: skip
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    stdio = Stdio(pty_master=master, owned=[master])
    if options.stdout:
        stdio.outputs.append((master, STDOUT))
    if options.stdin:
        stdio.stdin_fd = master
    return popen, stdio


class ExecSession:
    """One accepted exec WebSocket: the command's life, its streams, and the final Status."""

    def __init__(
        self, websocket: WebSocket, options: ExecOptions, target: ExecTarget, protocol: str
    ) -> None:
        self.websocket = websocket
        self.options = options
        self.target = target
        self.protocol = protocol
        self.stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.pending: list[bytes] = []  # frames read while waiting for the first resize
        self.stdio = Stdio()
        self.client_gone = False
        self.finished = False
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        size = await self._first_size() if self.options.tty else None
        if self.client_gone:
            return
        try:
            popen, self.stdio = start(self.options, self.target, size)
        except (process.ProcessError, OSError, ValueError) as exc:
            await self.finish(internal_status(str(exc)))
            return
        try:
            await self._supervise(popen)
        finally:
            kill_group(popen.pid)
            if popen.returncode is None:  # SIGKILLed just now: reap it, without hanging the loop
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=5)
            self.stdio.close()

    async def _first_size(self) -> tuple[int, int] | None:
        """kubectl sends the terminal's size first thing; start the command at that size."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FIRST_RESIZE_SECONDS
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), remaining)
            except TimeoutError:
                return None
            if message["type"] == "websocket.disconnect":
                self.client_gone = True
                return None
            data = message.get("bytes") or b""
            if data[:1] == bytes([RESIZE]) and (sizes := parse_resizes(data[1:])):
                return sizes[-1]
            self.pending.append(data)
        return None

    async def _supervise(self, popen: subprocess.Popen[bytes]) -> None:
        for data in self.pending:
            self._dispatch(data)
        pumps = [asyncio.create_task(self._pump(fd, ch)) for fd, ch in self.stdio.outputs]
        helpers = [asyncio.create_task(self._receive()), asyncio.create_task(self._feed_stdin())]
        exited = asyncio.create_task(wait_exit(popen))
        try:
            await asyncio.wait([exited, helpers[0]], return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():  # the client went away first
                kill_group(popen.pid)
                await exited
                return
            code = exited.result()
            kill_group(popen.pid)  # what the command left running in its group
            await self._drain(pumps)
            await self.finish(success_status() if code == 0 else self._failure(code))
        finally:
            for task in [*pumps, *helpers, exited]:
                task.cancel()
            await asyncio.gather(*pumps, *helpers, exited, return_exceptions=True)

    def _failure(self, code: int) -> dict[str, Any]:
        return exit_status(self.options.command, code)

    async def _drain(self, pumps: list[asyncio.Task[None]]) -> None:
        if pumps:
            await asyncio.wait(pumps, timeout=DRAIN_SECONDS)

    async def _pump(self, fd: int, channel: int) -> None:
        prefix = bytes([channel])
        while data := await read_chunk(fd):
            await self._send(prefix + data)

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.client_gone = True
                return
            data = message.get("bytes")
            if data:
                self._dispatch(data)

    def _dispatch(self, data: bytes) -> None:
        if not data:
            return
        channel, payload = data[0], data[1:]
        if channel == STDIN:
            if payload:
                self.stdin.put_nowait(payload)
        elif channel == RESIZE:
            master = self.stdio.pty_master
            for columns, rows in parse_resizes(payload):
                if master is not None:
                    with contextlib.suppress(OSError):
                        set_window_size(master, columns, rows)
        elif channel == CLOSE and self.protocol == V5 and payload[:1] == bytes([STDIN]):
            self.stdin.put_nowait(None)

    async def _feed_stdin(self) -> None:
        await feed_stdin(self.stdin, self.stdio)
        self.stdio.stdin_fd = None

    async def _send(self, frame: bytes) -> None:
        if self.client_gone:
            return
        async with self._send_lock:
            try:
                await self.websocket.send_bytes(frame)
            except (OSError, RuntimeError, WebSocketDisconnect):
                self.client_gone = True

    async def finish(self, status: dict[str, Any]) -> None:
        """Exactly one Status on channel 3, then a normal close."""
        if self.finished:
            return
        self.finished = True
        await self._send(bytes([ERROR]) + json.dumps(status, separators=(",", ":")).encode())
        if self.client_gone:
            return
        with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
            await self.websocket.close(1000)


async def feed_stdin(queue: asyncio.Queue[bytes | None], stdio: Stdio) -> None:
    """Copy what the client sends on stdin to the command until it says stdin ended (None);
    then close the command's input, or send ^D under a pty (closing the master would end the
    command's output too). Shared by the WebSocket and SPDY sessions."""
    fd = stdio.stdin_fd
    while (data := await queue.get()) is not None:
        if fd is not None:
            with contextlib.suppress(OSError):
                await write_all(fd, data)
    if fd is None:
        return
    if stdio.pty_master == fd:
        with contextlib.suppress(OSError):
            await write_all(fd, b"\x04")  # end of input, as a terminal's ^D
        return
    stdio.owned.remove(fd)
    stdio.stdin_fd = None
    with contextlib.suppress(OSError):
        os.close(fd)
