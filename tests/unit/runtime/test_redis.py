"""The Redis-like listener answers what a client checks it with, in Redis's words."""

from __future__ import annotations

import io
import socket
import threading

import pytest

from podwall.runtime.standins.redis import Handler, reply


@pytest.mark.parametrize(
    ("words", "answer", "last"),
    [
        (["PING"], b"+PONG\r\n", False),
        (["ping", "hi"], b"$2\r\nhi\r\n", False),
        (["QUIT"], b"+OK\r\n", True),
        (["GET", "k"], b"-ERR unknown command 'GET', with args beginning with: 'k'\r\n", False),
        ([], b"", False),
    ],
    ids=["ping", "ping with a message", "quit ends", "anything else", "an empty line"],
)
def test_replies(words: list[str], answer: bytes, last: bool) -> None:
    assert reply(words) == (answer, last)


def _talk(sent: bytes) -> bytes:
    server, client = socket.socketpair()
    with server, client:

        def serve() -> None:
            Handler(server, ("198.18.0.2", 1), None)  # type: ignore[arg-type]
            server.shutdown(socket.SHUT_RDWR)  # as the server does with a finished request

        thread = threading.Thread(target=serve)
        thread.start()
        client.sendall(sent)
        client.shutdown(socket.SHUT_WR)
        received = io.BytesIO()
        while chunk := client.recv(4096):
            received.write(chunk)
        thread.join(5)
        return received.getvalue()


def test_inline_and_resp_commands_on_one_connection() -> None:
    assert _talk(b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\nPING\r\n") == (
        b"+PONG\r\n+PONG\r\n+OK\r\n"
    )
