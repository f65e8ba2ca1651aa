"""Muschko's nodejs-hello-world: `Hello World` for every method and path, as node's server."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.nodehello import ANSWER, handler


@pytest.fixture
def port() -> Iterator[int]:
    server = Server(("", 0), handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/", ANSWER), ("GET", "/any/path?x=1", ANSWER), ("POST", "/", ANSWER),
     ("HEAD", "/", b"")],
    ids=["the root", "any path", "any method", "HEAD: the headers alone"],
)  # fmt: skip
def test_every_request_gets_hello_world(port: int, method: str, path: str, body: bytes) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, body)
        assert response.getheader("Content-Length") == str(len(ANSWER))
    finally:
        connection.close()


def test_the_answer_is_the_apps_line() -> None:
    assert ANSWER == b"Hello World\n"
