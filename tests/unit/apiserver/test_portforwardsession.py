"""The port-forward session over a fake pipe, speaking for kubectl with spdy.py's own frames,
to a loopback server standing in for the pod's port (no root, no cluster)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from podwall.apiserver import spdy
from podwall.apiserver.podruntime import PortForwardError
from podwall.apiserver.portforwardsession import PortForwardSession

BOUND = 10.0  # seconds any one wait may take before the test fails


class Client:
    """kubectl's side of the pipe: frames in, frames out."""

    def __init__(self) -> None:
        self.writer = spdy.FrameWriter()
        self.reader = spdy.FrameReader()
        self.to_server: asyncio.Queue[bytes] = asyncio.Queue()
        self.from_server: asyncio.Queue[spdy.Frame] = asyncio.Queue()

    # The Pipe, as the session sees it.
    async def read(self) -> bytes:
        return await self.to_server.get()

    async def write(self, data: bytes) -> None:
        for frame in self.reader.feed(data):
            self.from_server.put_nowait(frame)

    def send(self, frame: bytes) -> None:
        self.to_server.put_nowait(frame)

    def open(self, stream_id: int, kind: str, port: int, request_id: str = "0") -> None:
        headers = {"streamtype": [kind], "port": [str(port)], "requestid": [request_id]}
        self.send(self.writer.syn_stream(stream_id, headers))

    async def next(self) -> spdy.Frame:
        return await asyncio.wait_for(self.from_server.get(), BOUND)

    async def until_fin(self, stream_id: int) -> bytes:
        """Everything sent on `stream_id` up to its FIN (other frames are skipped)."""
        data = b""
        while True:
            frame = await self.next()
            if isinstance(frame, spdy.DataFrame) and frame.stream_id == stream_id:
                data += frame.data
                if frame.fin:
                    return data


@asynccontextmanager
async def session(connect: Callable[[int], socket.socket]) -> AsyncIterator[Client]:
    client = Client()
    task = asyncio.create_task(PortForwardSession(client, connect).run())
    try:
        yield client
    finally:
        client.send(b"")  # the client goes away
        await asyncio.wait_for(task, BOUND)


@asynccontextmanager
async def upper_case_server() -> AsyncIterator[int]:
    """A port that answers what it was sent, upper-cased, once the sender has half-closed."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.read()).upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def loopback(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def test_bytes_go_both_ways_and_both_streams_end_when_the_pod_closes() -> None:
    async def run() -> None:
        async with upper_case_server() as port, session(loopback) as client:
            client.open(1, "error", port)
            client.open(3, "data", port)
            client.send(client.writer.data(3, b"hello "))
            client.send(client.writer.data(3, b"pod", fin=True))
            assert await client.until_fin(3) == b"HELLO POD"
            assert await client.until_fin(1) == b""

    asyncio.run(run())


def test_a_port_that_cannot_be_reached_gets_the_runtimes_message_on_error() -> None:
    def refused(port: int) -> socket.socket:
        raise PortForwardError(f"error forwarding port {port} to pod x: connection refused")

    async def run() -> None:
        async with session(refused) as client:
            client.open(1, "error", 81)
            client.open(3, "data", 81)
            message = await client.until_fin(1)
            assert message == b"error forwarding port 81 to pod x: connection refused"

    asyncio.run(run())


def test_streams_are_answered_and_pings_echoed() -> None:
    async def run() -> None:
        async with session(loopback) as client:
            client.open(1, "error", 80)
            assert await client.next() == spdy.SynReply(1)
            client.send(client.writer.ping(7))
            assert await client.next() == spdy.Ping(7)
            client.open(3, "metrics", 80)
            assert await client.next() == spdy.RstStream(3, spdy.REFUSED_STREAM)
            client.open(5, "data", 0)
            assert await client.next() == spdy.RstStream(5, spdy.REFUSED_STREAM)

    asyncio.run(run())
