"""One `kubectl port-forward` connection: SPDY/3.1 streams `portforward.k8s.io`, whatever carries
them (the upgraded HTTP connection, or WebSocket binary messages when tunneled).

For every local connection kubectl accepts, it opens two streams (SYN_STREAM), both with the
headers `port` and `requestid`: `streamtype: error`, then `streamtype: data`. Once both of a
request have arrived the pod's port is connected (`connect`, off the event loop) and bytes are
copied both ways:

* data's DATA goes to the pod; its FIN half-closes the pod connection (shutdown SHUT_WR);
* what the pod sends goes as DATA on data; when the pod closes: FIN on data, then FIN on error
  (kubectl waits for both before it forgets the request);
* a port that cannot be connected: the kubelet's message on error, then FIN on both;
* RST_STREAM on either stream (kubectl's RemoveStreams) ends the request; PING is echoed.

When the connection ends every pod connection is closed. Nothing here knows HTTP or pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from podwall.apiserver import spdy
from podwall.apiserver.podruntime import PodLookupError, PortForwardError

log = logging.getLogger(__name__)

PROTOCOL = "portforward.k8s.io"
ERROR, DATA = "error", "data"
READ_SIZE = 32 * 1024

Connect = Callable[[int], socket.socket]


class Pipe(Protocol):
    """The bytes of the SPDY connection, in both directions."""

    async def read(self) -> bytes:
        """The next bytes; b"" once the client has gone."""
        ...

    async def write(self, data: bytes) -> None: ...


@dataclass
class _Request:
    """One forwarded local connection: kubectl's error and data streams for one requestid."""

    port: int
    streams: dict[str, int] = field(default_factory=dict)  # streamtype -> stream id
    inbound: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class PortForwardSession:
    """Serves kubectl's streams on `pipe` until it goes; `connect(port)` reaches the pod."""

    def __init__(self, pipe: Pipe, connect: Connect) -> None:
        self.pipe = pipe
        self.connect = connect
        self.reader = spdy.FrameReader()
        self.writer = spdy.FrameWriter()
        self.requests: dict[str, _Request] = {}
        self.by_stream: dict[int, tuple[str, str]] = {}  # stream id -> (requestid, streamtype)
        self.last_stream_id = 0
        self._lock = asyncio.Lock()  # frames leave in the order the compressor made them

    async def run(self) -> None:
        try:
            while data := await self.pipe.read():
                for frame in self.reader.feed(data):
                    await self._handle(frame)
        except spdy.SpdyError as exc:
            log.warning("port-forward: %s", exc)
            await self._send(lambda w: w.goaway(self.last_stream_id, spdy.GOAWAY_PROTOCOL_ERROR))
        finally:
            tasks = [r.task for r in self.requests.values() if r.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.SynStream):
            await self._open(frame)
        elif isinstance(frame, spdy.DataFrame):
            request = self._request_of(frame.stream_id, DATA)
            if request is not None:
                if frame.data:
                    request.inbound.put_nowait(frame.data)
                if frame.fin:
                    request.inbound.put_nowait(None)
        elif isinstance(frame, spdy.RstStream):
            key = self.by_stream.get(frame.stream_id)
            request = self.requests.pop(key[0], None) if key else None
            if request is not None and request.task is not None:
                request.task.cancel()
        elif isinstance(frame, spdy.Ping):
            await self._send(lambda w: w.ping(frame.ping_id))
        # GOAWAY, SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do.

    async def _open(self, frame: spdy.SynStream) -> None:
        stream_id = frame.stream_id
        if stream_id <= self.last_stream_id or stream_id % 2 == 0:
            await self._send(lambda w: w.rst_stream(stream_id, spdy.PROTOCOL_ERROR))
            return
        self.last_stream_id = stream_id
        kind, port, request_id = (
            _header(frame, name) for name in ("streamtype", "port", "requestid")
        )
        if kind not in (ERROR, DATA) or not port.isdigit() or not 0 < int(port) < 65536:
            await self._send(lambda w: w.rst_stream(stream_id, spdy.REFUSED_STREAM))
            return
        request = self.requests.setdefault(request_id, _Request(int(port)))
        if kind in request.streams:
            await self._send(lambda w: w.rst_stream(stream_id, spdy.REFUSED_STREAM))
            return
        request.streams[kind] = stream_id
        self.by_stream[stream_id] = (request_id, kind)
        await self._send(lambda w: w.syn_reply(stream_id))
        if frame.fin and kind == DATA:
            request.inbound.put_nowait(None)
        if len(request.streams) == 2 and request.task is None:
            request.task = asyncio.create_task(self._forward(request))

    def _request_of(self, stream_id: int, kind: str) -> _Request | None:
        key = self.by_stream.get(stream_id)
        if key is None or key[1] != kind:
            return None
        return self.requests.get(key[0])

    async def _forward(self, request: _Request) -> None:
        data, error = request.streams[DATA], request.streams[ERROR]
        try:
            sock = await asyncio.to_thread(self.connect, request.port)
        except (PodLookupError, PortForwardError, OSError) as exc:
            message = str(exc).encode()
            await self._send(lambda w: w.data(error, message, fin=True))
            await self._send(lambda w: w.data(data, fin=True))
            return
        try:
            reader, writer = await asyncio.open_connection(sock=sock)
        except OSError:
            sock.close()
            raise
        upstream = asyncio.create_task(_to_pod(request.inbound, writer))
        try:
            while chunk := await reader.read(READ_SIZE):
                await self._send(lambda w: w.data(data, chunk))
            await self._send(lambda w: w.data(data, fin=True))
            await self._send(lambda w: w.data(error, fin=True))
        finally:
            upstream.cancel()
            await asyncio.gather(upstream, return_exceptions=True)
            writer.close()

    async def _send(self, make: Callable[[spdy.FrameWriter], bytes]) -> None:
        async with self._lock:
            with contextlib.suppress(OSError, RuntimeError):
                await self.pipe.write(make(self.writer))


async def _to_pod(inbound: asyncio.Queue[bytes | None], writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        while (data := await inbound.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


def _header(frame: spdy.SynStream, name: str) -> str:
    return (frame.headers.get(name) or [""])[0]
