"""`kubectl exec` over SPDY/3.1: what kubectl 1.27-1.29 speak (kubectl-api.md §10.5).

kubectl POSTs `.../pods/NAME/exec?command=...` with `Connection: Upgrade`, `Upgrade: SPDY/3.1`
and one `X-Stream-Protocol-Version` per protocol it knows. Errors found first (auth, no such pod,
bad container, no runtime) are answered as a Status, as for WebSocket. Otherwise the answer is
`101 Switching Protocols` with the chosen protocol, and SPDY frames (spdy.py) follow on the raw
TLS connection:

* kubectl opens one stream per role, a SYN_STREAM whose header `streamtype` says which: `error`,
  then `stdin`, `stdout`, `stderr` (as asked for; none with a TTY) and `resize` (with a TTY,
  v3 and later). Each gets a SYN_REPLY at once; the command starts once all have arrived.
* stdin's DATA goes to the command; its FIN ends the command's input. resize carries
  `{"Width":W,"Height":H}` documents. With a TTY the command starts at the first size sent.
* The command's output goes as DATA on stdout/stderr. When it has exited: FIN on both, the Status
  on error (v4: the metav1.Status of exec.py, as the kubelet writes it; v2/v3: the message text,
  failures only), FIN on every stream, then GOAWAY; the connection closes when kubectl closes it.
* PING is echoed. A client that goes away kills the command's process group.

uvicorn's HTTP protocols do not hand over the connection for other upgrades than WebSocket:
`SpdyH11Protocol` (H11Protocol, given to uvicorn as its `http` class) offers the app a
`podwall.spdy` extension on such requests, which answers 101 and gives the connection over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
from collections.abc import Callable
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from podwall.apiserver import spdy
from podwall.apiserver.errors import ApiError
from podwall.apiserver.exec import (
    FIRST_RESIZE_SECONDS,
    ExecOptions,
    Stdio,
    exec_options,
    exec_target,
    exit_status,
    feed_stdin,
    internal_status,
    kill_group,
    parse_resizes,
    read_chunk,
    set_window_size,
    start,
    success_status,
    wait_exit,
)
from podwall.apiserver.exec import STDERR as STDERR_CHANNEL
from podwall.apiserver.podruntime import ExecTarget, PodRuntime
from podwall.apiserver.store import Store
from podwall.runtime import process

log = logging.getLogger(__name__)

EXTENSION = "podwall.spdy"
V4, V3, V2 = "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"
PROTOCOLS = (V4, V3, V2)  # the kubelet's order of preference (it also has v1: not served)
ERROR, STDIN, STDOUT, STDERR, RESIZE = "error", "stdin", "stdout", "stderr", "resize"
STREAMS_SECONDS = 30.0  # how long kubectl has to open its streams (the kubelet's default)
DRAIN_SECONDS = 2.0
CLOSE_SECONDS = 5.0  # after GOAWAY, how long kubectl has to close the connection
READ_LIMIT = 1 << 20  # bytes buffered from the client before reading pauses

Upgrade = Callable[[list[tuple[bytes, bytes]]], "RawConnection"]


# The connection, taken over from uvicorn.


class RawConnection(asyncio.Protocol):
    """The upgraded connection's bytes: `read()` what came, `write()` what goes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport = cast("asyncio.Transport", None)
        self._buffer = bytearray()
        self._eof = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._readable.set()
        if len(self._buffer) > READ_LIMIT and not self._paused:
            self._paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._readable.set()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._readable.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def read(self) -> bytes:
        """The next bytes; b"" once the client has closed the connection."""
        while not self._buffer and not self._eof:
            self._readable.clear()
            await self._readable.wait()
        data = bytes(self._buffer)
        self._buffer.clear()
        if self._paused:
            self._paused = False
            with contextlib.suppress(RuntimeError):
                self.transport.resume_reading()
        return data

    def write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    async def drain(self) -> None:
        await self._writable.wait()

    def close(self) -> None:
        self._eof = True
        self._readable.set()
        self.transport.close()


class SpdyH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus the `podwall.spdy` extension on `Upgrade: SPDY/3.1`."""

    def _should_upgrade(self) -> bool:
        if self._get_upgrade() == b"spdy/3.1":
            scope = cast("dict[str, Any]", self.scope)
            scope.setdefault("extensions", {})[EXTENSION] = {"upgrade": self._upgrade_spdy}
            return False  # an HTTP request to the app, which may answer it or upgrade
        return super()._should_upgrade()

    def _upgrade_spdy(self, headers: list[tuple[bytes, bytes]]) -> RawConnection:
        """Answer 101 with `headers` and hand the connection to a RawConnection."""
        self.cycle.disconnected = True  # the app sends no HTTP response after this
        self.connections.discard(self)
        self._unset_keepalive_if_required()
        trailing, _closed = self.conn.trailing_data
        raw = RawConnection()
        raw.connection_made(self.transport)
        self.transport.set_protocol(raw)
        head = [b"HTTP/1.1 101 Switching Protocols\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        self.transport.write(b"".join([*head, b"\r\n"]))
        if trailing:
            raw.data_received(bytes(trailing))
        self.transport.resume_reading()
        return raw


# The request.


def wants_spdy(request: Request) -> bool:
    """An exec POST that asks for SPDY on a server that can give it."""
    upgrade = request.headers.get("upgrade", "").lower()
    return upgrade == "spdy/3.1" and EXTENSION in request.scope.get("extensions", {})


def choose_protocol(request: Request) -> str:
    offered = [
        token.strip()
        for value in request.headers.getlist("x-stream-protocol-version")
        for token in value.split(",")
        if token.strip()
    ]
    for protocol in PROTOCOLS:
        if protocol in offered:
            return protocol
    raise ApiError(
        403,
        "Forbidden",
        f"unable to upgrade: unable to negotiate protocol: client supports {offered}, "
        f"server supports {list(PROTOCOLS)}",
    )


def upgrade_response(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> Response:
    """Check everything the upgrade needs (ApiError otherwise); the response upgrades."""
    options = exec_options(request.query_params)
    target = exec_target(store, runtime, namespace, pod, options)
    return SpdyUpgradeResponse(options, target, choose_protocol(request))


class SpdyUpgradeResponse(Response):
    """Sends 101, then runs the exec session on the connection."""

    def __init__(self, options: ExecOptions, target: ExecTarget, protocol: str) -> None:
        super().__init__(status_code=101)
        self.options = options
        self.target = target
        self.protocol = protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upgrade = cast("Upgrade", scope["extensions"][EXTENSION]["upgrade"])
        connection = upgrade(
            [
                (b"Connection", b"Upgrade"),
                (b"Upgrade", b"SPDY/3.1"),
                (b"X-Stream-Protocol-Version", self.protocol.encode()),
            ]
        )
        session = SpdyExecSession(connection, self.options, self.target, self.protocol)
        try:
            await session.run()
        except Exception as exc:
            log.exception("exec over SPDY: %s", self.options.command)
            session.finish(internal_status(str(exc)))
        finally:
            connection.close()


# The session.


class SpdyExecSession:
    """One upgraded exec connection: kubectl's streams, the command, the final Status."""

    def __init__(
        self, connection: RawConnection, options: ExecOptions, target: ExecTarget, protocol: str
    ) -> None:
        self.connection = connection
        self.options = options
        self.target = target
        self.protocol = protocol
        self.reader = spdy.FrameReader()
        self.writer = spdy.FrameWriter()
        self.streams: dict[str, int] = {}  # streamtype -> stream id
        self.kinds: dict[int, str] = {}  # stream id -> streamtype
        self.last_stream_id = 0
        self.expected = self._expected_streams()
        self.all_streams = asyncio.Event()
        self.sized = asyncio.Event()
        self.size: tuple[int, int] | None = None
        self.gone = asyncio.Event()  # the client closed the connection, or broke the protocol
        self.stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.stdio = Stdio()
        self.finished = False

    def _expected_streams(self) -> set[str]:
        expected = {ERROR}
        if self.options.stdin:
            expected.add(STDIN)
        if self.options.stdout:
            expected.add(STDOUT)
        if self.options.stderr:
            expected.add(STDERR)
        if self.options.tty and self.protocol != V2:
            expected.add(RESIZE)
        return expected

    async def run(self) -> None:
        reading = asyncio.create_task(self._read_frames())
        try:
            if not await self._wait(self.all_streams, STREAMS_SECONDS):
                if not self.gone.is_set():
                    log.warning("exec over SPDY: kubectl opened only %s", sorted(self.streams))
                return
            size = None
            if RESIZE in self.expected and await self._wait(self.sized, FIRST_RESIZE_SECONDS):
                size = self.size
            if self.gone.is_set():
                return
            try:
                popen, self.stdio = start(self.options, self.target, size)
            except (process.ProcessError, OSError, ValueError) as exc:
                self.finish(internal_status(str(exc)))
                await self._linger()
                return
            try:
                await self._supervise(popen)
            finally:
                kill_group(popen.pid)
                if popen.returncode is None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        popen.wait(timeout=5)
                self.stdio.close()
            await self._linger()
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)

    async def _wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait for `event` (True), or for the client to go or `seconds` to pass (False)."""
        waiters = [asyncio.create_task(event.wait()), asyncio.create_task(self.gone.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        return event.is_set()

    async def _linger(self) -> None:
        """After GOAWAY: let kubectl read everything and close the connection itself."""
        await self._wait(asyncio.Event(), CLOSE_SECONDS)

    # Frames from kubectl.

    async def _read_frames(self) -> None:
        try:
            while data := await self.connection.read():
                for frame in self.reader.feed(data):
                    self._handle(frame)
        except spdy.SpdyError as exc:
            log.warning("exec over SPDY: %s", exc)
            self._write(self.writer.goaway(self.last_stream_id, spdy.GOAWAY_PROTOCOL_ERROR))
        finally:
            self.gone.set()

    def _handle(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.SynStream):
            self._open(frame)
        elif isinstance(frame, spdy.DataFrame):
            self._data(self.kinds.get(frame.stream_id), frame.data, frame.fin)
        elif isinstance(frame, spdy.Ping):
            self._write(self.writer.ping(frame.ping_id))
        elif isinstance(frame, spdy.RstStream) and self.kinds.get(frame.stream_id) == STDIN:
            self.stdin.put_nowait(None)
        # GOAWAY: kubectl is done opening streams; SETTINGS, WINDOW_UPDATE: ignored.

    def _open(self, frame: spdy.SynStream) -> None:
        kind = (frame.headers.get("streamtype") or [""])[0]
        if frame.stream_id <= self.last_stream_id or frame.stream_id % 2 == 0:
            self._write(self.writer.rst_stream(frame.stream_id, spdy.PROTOCOL_ERROR))
            return
        self.last_stream_id = frame.stream_id
        if kind not in self.expected or kind in self.streams:
            self._write(self.writer.rst_stream(frame.stream_id, spdy.REFUSED_STREAM))
            return
        self.streams[kind] = frame.stream_id
        self.kinds[frame.stream_id] = kind
        self._write(self.writer.syn_reply(frame.stream_id))
        if frame.fin:
            self._data(kind, b"", fin=True)
        if self.expected <= self.streams.keys():
            self.all_streams.set()

    def _data(self, kind: str | None, data: bytes, fin: bool) -> None:
        if kind == STDIN:
            if data:
                self.stdin.put_nowait(data)
            if fin:
                self.stdin.put_nowait(None)
        elif kind == RESIZE and data:
            sizes = parse_resizes(data)
            if sizes:
                self.size = sizes[-1]
                self.sized.set()
                master = self.stdio.pty_master
                if master is not None:
                    with contextlib.suppress(OSError):
                        set_window_size(master, *self.size)

    # The command.

    async def _supervise(self, popen: subprocess.Popen[bytes]) -> None:
        pumps = [asyncio.create_task(self._pump(fd, ch)) for fd, ch in self.stdio.outputs]
        feeder = asyncio.create_task(self._feed_stdin())
        exited = asyncio.create_task(wait_exit(popen))
        gone = asyncio.create_task(self.gone.wait())
        try:
            await asyncio.wait([exited, gone], return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():  # the client went away first
                kill_group(popen.pid)
                await exited
                return
            code = exited.result()
            kill_group(popen.pid)  # what the command left running in its group
            if pumps:
                await asyncio.wait(pumps, timeout=DRAIN_SECONDS)
            self.finish(success_status() if code == 0 else exit_status(self.options.command, code))
            await self.connection.drain()
        finally:
            for task in [*pumps, feeder, exited, gone]:
                task.cancel()
            await asyncio.gather(*pumps, feeder, exited, gone, return_exceptions=True)

    async def _pump(self, fd: int, channel: int) -> None:
        stream_id = self.streams.get(STDERR if channel == STDERR_CHANNEL else STDOUT)
        while data := await read_chunk(fd):
            if stream_id is not None:
                self._write(self.writer.data(stream_id, data))
                await self.connection.drain()

    async def _feed_stdin(self) -> None:
        await feed_stdin(self.stdin, self.stdio)

    # Frames to kubectl.

    def _write(self, frame: bytes) -> None:
        self.connection.write(frame)

    def finish(self, status: dict[str, Any]) -> None:
        """Output streams ended, the Status on the error stream, every stream ended, GOAWAY."""
        if self.finished:
            return
        self.finished = True
        for kind in (STDOUT, STDERR):
            if kind in self.streams:
                self._write(self.writer.data(self.streams[kind], fin=True))
        error = self.streams.get(ERROR)
        if error is not None:
            self._write(self.writer.data(error, self._status_body(status), fin=True))
        for kind in (STDIN, RESIZE):
            if kind in self.streams:
                self._write(self.writer.data(self.streams[kind], fin=True))
        self._write(self.writer.goaway(self.last_stream_id))

    def _status_body(self, status: dict[str, Any]) -> bytes:
        if self.protocol == V4:
            return json.dumps(status, separators=(",", ":")).encode()
        if status.get("status") == "Success":  # v2, v3: only an error's text
            return b""
        return str(status.get("message", "")).encode()
