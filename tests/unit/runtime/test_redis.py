"""The Redis stand-in's listener: commands on one connection, inline or RESP, answered in
Redis's words; the keyspace shared by every connection; a client that speaks to it."""

from __future__ import annotations

import io
import socket
import threading
import types
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.redis import Handler, Server
from podwall.runtime.standins.redisclient import RedisClient
from podwall.runtime.standins.rediscommands import Keyspace
from podwall.runtime.standins.resp import ReplyError


def _talk(sent: bytes) -> bytes:
    owner = types.SimpleNamespace(keyspace=Keyspace())  # what the handler uses of its server
    left, right = socket.socketpair()
    with left, right:

        def serve() -> None:
            Handler(left, ("198.18.0.2", 1), owner)  # type: ignore[arg-type]
            left.shutdown(socket.SHUT_RDWR)  # as the server does with a finished request

        thread = threading.Thread(target=serve)
        thread.start()
        right.sendall(sent)
        right.shutdown(socket.SHUT_WR)
        received = io.BytesIO()
        while chunk := right.recv(4096):
            received.write(chunk)
        thread.join(5)
        return received.getvalue()


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        (b"PING\r\n", b"+PONG\r\n"),
        (b"ping hi\r\n", b"$2\r\nhi\r\n"),
        (b"QUIT\r\nPING\r\n", b"+OK\r\n"),
        (b"FOO k\r\n", b"-ERR unknown command 'FOO', with args beginning with: 'k' \r\n"),
        (b"\r\nPING\r\n", b"+PONG\r\n"),
        (b"*x\r\nPING\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ],
    ids=["ping", "ping with a message", "quit ends the connection", "an unknown command",
         "an empty line is ignored", "a protocol error ends the connection"],
)  # fmt: skip
def test_answers(sent: bytes, answer: bytes) -> None:
    assert _talk(sent) == answer


def test_inline_and_resp_commands_on_one_connection() -> None:
    assert _talk(b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\nPING\r\n") == (
        b"+PONG\r\n+PONG\r\n+OK\r\n"
    )


def test_a_worker_s_commands_as_redis_py_sends_them() -> None:
    sent = (b"*3\r\n$6\r\nINCRBY\r\n$6\r\nhashes\r\n$1\r\n7\r\n"
            b"*4\r\n$4\r\nHSET\r\n$6\r\nwallet\r\n$2\r\n0a\r\n$2\r\n\xff\x00\r\n"
            b"*3\r\n$4\r\nHGET\r\n$6\r\nwallet\r\n$2\r\n0a\r\n")  # fmt: skip
    assert _talk(sent) == b":7\r\n:1\r\n$2\r\n\xff\x00\r\n"


@pytest.fixture
def server() -> Iterator[Server]:
    listener = Server(("127.0.0.1", 0))
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        listener.shutdown()
        listener.server_close()
        thread.join(5)


def test_connections_share_one_keyspace(server: Server) -> None:
    port = server.server_address[1]
    first, second = RedisClient("127.0.0.1", port), RedisClient("127.0.0.1", port)
    try:
        assert first.call("INCRBY", "hashes", 5) == 5
        assert second.call("GET", "hashes") == b"5"
        assert second.call("SELECT", 1) == b"OK"
        assert second.call("GET", "hashes") is None
        assert first.call("GET", "hashes") == b"5"
    finally:
        first.close()
        second.close()


def test_the_client_raises_error_replies_and_keeps_its_connection(server: Server) -> None:
    client = RedisClient("127.0.0.1", server.server_address[1])
    try:
        client.call("HSET", "wallet", "0a", "x")
        with pytest.raises(ReplyError, match=r"^WRONGTYPE"):
            client.call("GET", "wallet")
        assert client.call("PING") == b"PONG"
    finally:
        client.close()


def test_the_client_reconnects_after_the_server_closed_its_connection(server: Server) -> None:
    client = RedisClient("127.0.0.1", server.server_address[1])
    try:
        assert client.call("QUIT") == b"OK"
        with pytest.raises(ConnectionError):
            client.call("PING")
        assert client.call("PING") == b"PONG"
    finally:
        client.close()


def test_the_client_cannot_reach_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RedisClient("127.0.0.1", port, timeout=1)
    with pytest.raises(ConnectionRefusedError):
        client.call("PING")
