"""The demo servers' shared HTTP handler: every method answered, the image's Server header, no
body to HEAD, IPv4 clients shown as IPv4."""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.webserving import Reply, Request, handler, host_port, peer

seen: list[Request] = []


def _answer(request: Request) -> Reply:
    seen.append(request)
    return Reply(201, b"body\n", "text/plain", (("X-Extra", "1"),))


@pytest.fixture
def port() -> Iterator[int]:
    server = Server(("", 0), handler(_answer, logging.getLogger("test"), "demo/1.0"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", b"body\n"), ("POST", b"body\n"), ("DELETE", b"body\n"), ("HEAD", b"")],
    ids=["GET", "POST", "DELETE", "HEAD: headers alone"],
)
def test_every_method_gets_the_answer(port: int, method: str, body: bytes) -> None:
    seen.clear()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, "/a/b?c=d", body=b"xy" if method == "POST" else None)
        response = connection.getresponse()
        assert (response.status, response.read()) == (201, body)
        assert response.getheader("Server") == "demo/1.0"
        assert response.getheader("X-Extra") == "1"
        assert response.getheader("Content-Length") == "5"
    finally:
        connection.close()
    request = seen[0]
    assert (request.method, request.path, request.query) == (method, "/a/b", "c=d")
    assert request.client[0] == "127.0.0.1"
    assert request.body == (b"xy" if method == "POST" else b"")


def test_a_go_server_sends_no_server_header() -> None:
    server = Server(("", 0), handler(_answer, logging.getLogger("test")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
        connection.request("GET", "/")
        assert connection.getresponse().getheader("Server") is None
        connection.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("address", "expected"),
    [(("::ffff:198.18.0.5", 4000, 0, 0), ("198.18.0.5", 4000)),
     (("fd00::5", 80, 0, 0), ("fd00::5", 80)), (("198.18.0.5", 1), ("198.18.0.5", 1))],
    ids=["mapped IPv4", "IPv6", "plain IPv4"],
)  # fmt: skip
def test_peer(address: tuple[object, ...], expected: tuple[str, int]) -> None:
    assert peer(address) == expected


def test_host_port_brackets_ipv6() -> None:
    assert (host_port(("fd00::5", 80)), host_port(("198.18.0.5", 80))) == (
        "[fd00::5]:80",
        "198.18.0.5:80",
    )


def test_request_header_lookup_ignores_case() -> None:
    request = Request("GET", "/", "HTTP/1.1", (("Host", "x"),), ("a", 1), ("b", 2))
    assert (request.header("host"), request.header("accept")) == ("x", None)
