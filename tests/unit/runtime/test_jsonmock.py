"""json-mock stand-in: the tutorial's headers, a 2109-byte page, json-server's JSON answers."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from podwall.runtime.standins.jsonmock import (
    INDEX,
    Handler,
    Server,
    json_answer,
    port_from_env,
    weak_etag,
)

TUTORIAL_HEADERS = [
    ("X-Powered-By", "Express"),
    ("Vary", "Origin, Accept-Encoding"),
    ("Access-Control-Allow-Credentials", "true"),
    ("Accept-Ranges", "bytes"),
    ("Cache-Control", "public, max-age=0"),
    ("Last-Modified", "Sat, 26 Oct 1985 08:15:00 GMT"),
    ("ETag", 'W/"83d-7438674ba0"'),
    ("Content-Type", "text/html; charset=UTF-8"),
    ("Content-Length", "2109"),
]


class LoopbackServer(Server):
    address_family = socket.AF_INET


@pytest.fixture
def port() -> Iterator[int]:
    """A json-mock server on 127.0.0.1 in this process (loopback only), for one test."""
    server = LoopbackServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Reply:
    status: int
    version: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return dict(self.headers).get(name)


def request(port: int, method: str, path: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return Reply(response.status, response.version, response.getheaders(), response.read())
    finally:
        connection.close()


def test_the_page_is_2109_bytes_as_the_etag_says() -> None:
    assert len(INDEX) == 0x83D


def test_head_shows_the_tutorials_headers_in_order(port: int) -> None:
    reply = request(port, "HEAD", "/")
    assert (reply.status, reply.version) == (200, 11)
    assert reply.headers[: len(TUTORIAL_HEADERS)] == TUTORIAL_HEADERS
    assert [name for name, _ in reply.headers[len(TUTORIAL_HEADERS) :]] == ["Date", "Connection"]
    assert reply.header("Connection") == "keep-alive"
    assert reply.body == b""


def test_get_returns_the_page(port: int) -> None:
    assert request(port, "GET", "/").body == INDEX


def test_get_public_returns_json(port: int) -> None:
    reply = request(port, "GET", "/public")
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert b'"public information"' in reply.body


def test_an_unknown_path_is_404_with_an_empty_object(port: int) -> None:
    reply = request(port, "GET", "/nope")
    assert (reply.status, reply.body) == (404, b"{}")


@pytest.mark.parametrize(
    ("path", "status", "value"),
    [
        pytest.param("/public", 200, [{"id": 1, "body": "public information"}],
                     id="a collection lists its items"),
        pytest.param("/private/1", 200, {"id": 1, "body": "secret information"},
                     id="an item by id"),
        pytest.param("/public/2", 404, {}, id="a missing id is 404"),
        pytest.param("/db?x=1", 200, None, id="db returns the whole database"),
        pytest.param("/client-ip", 200, {"client-ip": "10.0.0.9"}, id="client-ip echoes the peer"),
        pytest.param("/hostname", 200, {"hostname": "backend-1"}, id="hostname names the pod"),
    ],
)  # fmt: skip
def test_json_answers(path: str, status: int, value: object) -> None:
    got_status, got = json_answer(path, "10.0.0.9", "backend-1")
    assert got_status == status
    if value is not None:
        assert got == value


def test_etag_is_expresss_weak_etag() -> None:
    assert weak_etag(b"{}") == 'W/"2-vyGp6PvFo4RvsFtPoIWeCReyIC8"'


@pytest.mark.parametrize(
    ("env", "port"),
    [({"PORT": "8080"}, 8080), ({}, 80), ({"PORT": ""}, 80)],
    ids=["PORT sets the port", "no PORT means 80 as run.sh", "an empty PORT means 80"],
)
def test_port_from_env(env: dict[str, str], port: int) -> None:
    assert port_from_env(env) == port
