"""The server's HTTP protocols, httptools and h11 alike: SPDY upgrades are the app's to make.

Each scenario feeds raw request bytes to a protocol over a recording transport, as uvicorn
would, and reads what was written back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from podwall.apiserver.spdyexec import EXTENSION, RawConnection, SpdyH11Protocol
from podwall.apiserver.spdyhttptools import SpdyHttpToolsProtocol

UPGRADE = (
    b"POST /exec HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
    b"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
)
PROTOCOLS = [
    pytest.param(SpdyHttpToolsProtocol, id="httptools"),
    pytest.param(SpdyH11Protocol, id="h11"),
]


class Wire(asyncio.Transport):
    """A connection's server end: what was written, and which protocol reads it now."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.protocol: asyncio.BaseProtocol | None = None

    def write(self, data: Any) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 2), "sockname": ("127.0.0.1", 1)}.get(name, default)


App = Callable[[Any, Any, Any], Any]


async def _served(protocol_class: type[asyncio.Protocol], app: App, *chunks: bytes) -> Wire:
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    protocol = protocol_class(  # type: ignore[call-arg]
        config=config, server_state=ServerState(), app_state={}
    )
    wire = Wire()
    wire.set_protocol(protocol)
    protocol.connection_made(wire)
    for chunk in chunks:
        wire.get_protocol().data_received(chunk)
    for _ in range(20):
        await asyncio.sleep(0)
    return wire


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_an_upgrade_hands_the_connection_over_with_what_followed(
    protocol_class: type[asyncio.Protocol],
) -> None:
    raws: list[RawConnection] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raws.append(scope["extensions"][EXTENSION]["upgrade"]([(b"Upgrade", b"SPDY/3.1")]))

    async def scenario() -> tuple[Wire, bytes]:
        wire = await _served(protocol_class, app, UPGRADE + b"\x80\x03", b"\x00\x01")
        return wire, await raws[0].read()

    wire, first = asyncio.run(scenario())
    assert bytes(wire.written) == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n"
    assert wire.protocol is raws[0]
    assert first == b"\x80\x03\x00\x01"  # the frames sent with and after the request


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_an_upgrade_request_the_app_answers_is_an_ordinary_response(
    protocol_class: type[asyncio.Protocol],
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert EXTENSION in scope["extensions"]
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    wire = asyncio.run(_served(protocol_class, app, UPGRADE))
    assert bytes(wire.written).startswith(b"HTTP/1.1 404 ")
    assert bytes(wire.written).endswith(b"\r\n\r\n{}")


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_requests_without_an_upgrade_are_not_offered_one(
    protocol_class: type[asyncio.Protocol],
) -> None:
    seen: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(EXTENSION in scope.get("extensions", {}))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    request = b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    wire = asyncio.run(_served(protocol_class, app, request, request))
    assert seen == [False, False]  # keep-alive: both requests answered on one connection
    assert bytes(wire.written).count(b"HTTP/1.1 200 ") == 2
