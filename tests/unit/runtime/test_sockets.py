"""The stand-ins' UDP answering protocol, over loopback: the reply goes back, None sends
nothing."""

from __future__ import annotations

import asyncio
import socket

from podwall.runtime.standins.sockets import UdpReplier


def _exchange(reply: bytes | None) -> bytes | None:
    # An answer that comes is waited for with a bound a loaded machine keeps; the absence of
    # one is looked for briefly (nothing would come later either).
    wait = 30.0 if reply is not None else 0.5

    async def run() -> bytes | None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: UdpReplier(lambda data, addr: reply if data == b"ping" else b"?"),
            local_addr=("127.0.0.1", 0),
        )
        port = transport.get_extra_info("sockname")[1]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.setblocking(False)
        try:
            client.sendto(b"ping", ("127.0.0.1", port))
            try:
                return await asyncio.wait_for(loop.sock_recv(client, 100), timeout=wait)
            except TimeoutError:
                return None
        finally:
            client.close()
            transport.close()

    return asyncio.run(run())


def test_the_reply_goes_back_to_the_sender() -> None:
    assert _exchange(b"pong") == b"pong"


def test_none_sends_nothing() -> None:
    assert _exchange(None) is None
