"""The rng's and hasher's listener: one request at a time, reachable over IPv4 and IPv6."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.coinrng import answerer
from podwall.runtime.standins.coinserving import SerialServer
from podwall.runtime.standins.webserving import handler


@pytest.fixture
def rng() -> Iterator[int]:
    loopback = "::ffff:127.0.0.1" if SerialServer.address_family == socket.AF_INET6 else "127.0.0.1"
    server = SerialServer((loopback, 0), handler(answerer("rng"), logging.getLogger("test")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_it_serves_requests_in_turn(rng: int) -> None:
    bodies = []
    for _ in range(3):
        connection = http.client.HTTPConnection("127.0.0.1", rng, timeout=5)
        connection.request("GET", "/4")
        bodies.append(connection.getresponse().read())
        connection.close()
    assert [len(body) for body in bodies] == [4, 4, 4]
    assert len(set(bodies)) > 1  # random: three equal 4-byte draws have odds of 2**-64
