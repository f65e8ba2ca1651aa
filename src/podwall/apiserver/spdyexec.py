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
  on error (v4: the metav1.Status of execsession.py, as the kubelet writes it; v2/v3: the
  message text, failures only), FIN on every stream, then GOAWAY; the connection closes when
  kubectl closes it.
* PING is echoed. A client that goes away kills the command's process group.

uvicorn's HTTP protocols do not hand over the connection for other upgrades than WebSocket:
`SpdyH11Protocol` (H11Protocol, given to uvicorn as its `http` class) offers the app a
`podwall.spdy` extension on such requests, which answers 101 and gives the connection over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from podwall.apiserver import spdy
from podwall.apiserver.errors import ApiError
from podwall.apiserver.exec import ExecOptions, exec_launch, exec_options
from podwall.apiserver.execsession import (
    ExecSession,
    Inbound,
    Launch,
    Status,
    first_of,
    resize_all,
    status_json,
)
from podwall.apiserver.podruntime import Output, PodRuntime
from podwall.apiserver.store import Store

log = logging.getLogger(__name__)

EXTENSION = "podwall.spdy"
V4, V3, V2 = "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"
PROTOCOLS = (V4, V3, V2)  # the kubelet's order of preference (it also has v1: not served)
ERROR, STDIN, STDOUT, STDERR, RESIZE = "error", "stdin", "stdout", "stderr", "resize"
STREAMS_SECONDS = 30.0  # how long kubectl has to open its streams (the kubelet's default)
CLOSE_SECONDS = 5.0  # after GOAWAY, how long kubectl has to close the connection
READ_LIMIT = 1 << 20  # bytes buffered from the client before reading pauses

Upgrade = Callable[[list[tuple[bytes, bytes]]], "RawConnection"]


# The connection, taken over from uvicorn.


def upgrade_spdy(scope: Scope, protocol: str) -> RawConnection:
    """Send the 101 that switches the connection to SPDY/3.1 speaking `protocol` (the
    X-Stream-Protocol-Version), and take the connection over from uvicorn."""
    upgrade = cast("Upgrade", scope["extensions"][EXTENSION]["upgrade"])
    return upgrade(
        [
            (b"Connection", b"Upgrade"),
            (b"Upgrade", b"SPDY/3.1"),
            (b"X-Stream-Protocol-Version", protocol.encode()),
        ]
    )


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
        trailing, _closed = self.conn.trailing_data
        return switch_to_raw(self, headers, bytes(trailing))


def switch_to_raw(
    protocol: Any, headers: list[tuple[bytes, bytes]], trailing: bytes
) -> RawConnection:
    """Answer 101 with `headers` on a uvicorn HTTP protocol's connection and hand the connection
    to a RawConnection, with `trailing`: what the client sent after its request."""
    protocol.cycle.disconnected = True  # the app sends no HTTP response after this
    protocol.connections.discard(protocol)
    protocol._unset_keepalive_if_required()
    raw = RawConnection()
    raw.connection_made(protocol.transport)
    protocol.transport.set_protocol(raw)
    head = [b"HTTP/1.1 101 Switching Protocols\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in headers]
    protocol.transport.write(b"".join([*head, b"\r\n"]))
    if trailing:
        raw.data_received(trailing)
    protocol.transport.resume_reading()
    return raw


# The request.


def wants_spdy(request: Request) -> bool:
    """An exec (attach, port-forward) request that asks for SPDY on a server that can give
    it."""
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
    return upgrade_to(request, options, exec_launch(store, runtime, namespace, pod, options))


def upgrade_to(request: Request, options: ExecOptions, launch: Launch) -> Response:
    """The response that upgrades `request` and runs `launch` over SPDY (exec, attach)."""
    return SpdyUpgradeResponse(options, launch, choose_protocol(request))


class SpdyUpgradeResponse(Response):
    """Sends 101, then runs the exec session on the connection."""

    def __init__(self, options: ExecOptions, launch: Launch, protocol: str) -> None:
        super().__init__(status_code=101)
        self.options = options
        self.launch = launch
        self.protocol = protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = upgrade_spdy(scope, self.protocol)
        transport = SpdyTransport(connection, self.options, self.protocol)
        session = ExecSession(transport, self.options.request, self.launch)
        try:
            await session.run()
        except Exception as exc:
            log.exception("exec over SPDY: %s", self.options.command)
            await session.fail(str(exc))
        finally:
            connection.close()


# The streams.


class SpdyTransport:
    """One upgraded exec connection: kubectl's streams, one per role, as an exec Transport."""

    def __init__(self, connection: RawConnection, options: ExecOptions, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol
        self.reader = spdy.FrameReader()
        self.writer = spdy.FrameWriter()
        self.streams: dict[str, int] = {}  # streamtype -> stream id
        self.kinds: dict[int, str] = {}  # stream id -> streamtype
        self.last_stream_id = 0
        self.expected = _expected_streams(options, protocol)
        self.all_streams = asyncio.Event()
        self.gone = asyncio.Event()  # the client closed the connection, or broke the protocol

    @property
    def resizes(self) -> bool:
        return RESIZE in self.expected

    async def opened(self) -> bool:
        if not await first_of(self.all_streams, self.gone, STREAMS_SECONDS):
            if not self.gone.is_set():
                log.warning("exec over SPDY: kubectl opened only %s", sorted(self.streams))
            return False
        return True

    async def close(self) -> None:
        """After GOAWAY: let kubectl read everything and close the connection itself."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), CLOSE_SECONDS)

    # Frames from kubectl.

    async def receive(self, inbound: Inbound) -> None:
        try:
            while data := await self.connection.read():
                for frame in self.reader.feed(data):
                    self._handle(frame, inbound)
        except spdy.SpdyError as exc:
            log.warning("exec over SPDY: %s", exc)
            self._write(self.writer.goaway(self.last_stream_id, spdy.GOAWAY_PROTOCOL_ERROR))
        finally:
            self.gone.set()

    def _handle(self, frame: spdy.Frame, inbound: Inbound) -> None:
        if isinstance(frame, spdy.SynStream):
            self._open(frame, inbound)
        elif isinstance(frame, spdy.DataFrame):
            self._data(self.kinds.get(frame.stream_id), frame.data, frame.fin, inbound)
        elif isinstance(frame, spdy.Ping):
            self._write(self.writer.ping(frame.ping_id))
        elif isinstance(frame, spdy.RstStream) and self.kinds.get(frame.stream_id) == STDIN:
            inbound.stdin_end()
        # GOAWAY: kubectl is done opening streams; SETTINGS, WINDOW_UPDATE: ignored.

    def _open(self, frame: spdy.SynStream, inbound: Inbound) -> None:
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
            self._data(kind, b"", True, inbound)
        if self.expected <= self.streams.keys():
            self.all_streams.set()

    def _data(self, kind: str | None, data: bytes, fin: bool, inbound: Inbound) -> None:
        if kind == STDIN:
            inbound.stdin(data)
            if fin:
                inbound.stdin_end()
        elif kind == RESIZE:
            resize_all(inbound, data)

    # Frames to kubectl.

    async def send(self, output: Output, data: bytes) -> None:
        stream_id = self.streams.get(STDERR if output is Output.STDERR else STDOUT)
        if stream_id is not None:
            self._write(self.writer.data(stream_id, data))
            await self.connection.drain()

    async def finish(self, status: Status) -> None:
        """Output streams ended, the Status on the error stream, every stream ended, GOAWAY."""
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
        await self.connection.drain()

    def _status_body(self, status: Status) -> bytes:
        if self.protocol == V4:
            return status_json(status)
        if status.get("status") == "Success":  # v2, v3: only an error's text
            return b""
        return str(status.get("message", "")).encode()

    def _write(self, frame: bytes) -> None:
        self.connection.write(frame)


def _expected_streams(options: ExecOptions, protocol: str) -> set[str]:
    """The streams kubectl opens for `options`: error, each stream asked for, resize (v3+)."""
    wanted = {
        STDIN: options.stdin,
        STDOUT: options.stdout,
        STDERR: options.stderr,
        RESIZE: options.tty and protocol != V2,
    }
    return {ERROR, *(kind for kind, want in wanted.items() if want)}
