"""The stand-ins' shared serving: a plain-text answer with its length, every listener served."""

from __future__ import annotations

import http.client
import http.server
import socketserver
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.serving import send_text


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        send_text(self, 418, "héllo\n".encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[socketserver.TCPServer]:
    made = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=made.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        made.shutdown()
        made.server_close()
        thread.join(timeout=10)


def test_send_text_answers_status_type_length_and_body(server: socketserver.TCPServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.request("GET", "/")
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 418
    assert reply.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert reply.getheader("Content-Length") == str(len("héllo\n".encode()))
    assert body == "héllo\n".encode()
