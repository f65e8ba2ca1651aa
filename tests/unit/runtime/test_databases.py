"""The database listeners: the ports, and the few protocol words each says."""

from __future__ import annotations

import io
import socket
import struct
import threading

import pytest

from podwall.runtime.standins.databases import (
    Handler,
    memcached_reply,
    mysql_access_denied,
    mysql_greeting,
    port_of,
    postgres_error,
    startup_user,
)


@pytest.mark.parametrize(
    ("kind", "args", "port"),
    [("postgres", (), 5432), ("postgres", ("-p", "5433"), 5433),
     ("postgres", ("postgres", "-c", "port=5434"), 5434), ("mysql", (), 3306),
     ("mysql", ("--port=3307", "--default-authentication-plugin=x"), 3307),
     ("mariadb", ("-P", "3308"), 3308), ("mongo", ("--bind_ip_all",), 27017),
     ("mongo", ("--port", "27018"), 27018), ("memcached", ("-m", "64"), 11211),
     ("memcached", ("-p", "11212"), 11212)],
    ids=["postgres", "postgres -p", "postgres -c port=", "mysql", "mysql --port=",
         "mariadb -P", "mongo", "mongo --port", "memcached", "memcached -p"],
)  # fmt: skip
def test_ports(kind: str, args: tuple[str, ...], port: int) -> None:
    assert port_of(kind, args) == port


def test_mysql_greeting_is_a_protocol_10_packet() -> None:
    packet = mysql_greeting("8.0.40", 7)
    size = struct.unpack("<I", packet[:3] + b"\x00")[0]
    assert (size, packet[3], packet[4]) == (len(packet) - 4, 0, 10)
    assert packet[5:12] == b"8.0.40\x00"
    assert packet.endswith(b"mysql_native_password\x00")


def test_mysql_access_denied_is_error_1045() -> None:
    packet = mysql_access_denied("root", "198.18.0.7", 2)
    assert packet[3] == 2
    assert packet[4:7] == b"\xff\x15\x04"
    assert b"Access denied for user 'root'@'198.18.0.7'" in packet


def test_postgres_error_message() -> None:
    message = postgres_error("28P01", "no")
    assert message[:1] == b"E"
    assert struct.unpack("!I", message[1:5])[0] == len(message) - 1
    assert b"C28P01\x00Mno\x00\x00" in message


def test_startup_user() -> None:
    body = struct.pack("!I", 196608) + b"user\x00app\x00database\x00db\x00\x00"
    assert startup_user(body) == "app"


@pytest.mark.parametrize(
    ("line", "expected"),
    [("version\r\n", (b"VERSION 1.6.32\r\n", False)), ("get k\r\n", (b"END\r\n", False)),
     ("set k 0 0 1\r\n", (b"ERROR\r\n", False)), ("quit\r\n", (b"", True))],
    ids=["version", "get misses", "anything else", "quit"],
)  # fmt: skip
def test_memcached(line: str, expected: tuple[bytes, bool]) -> None:
    assert memcached_reply(line) == expected


def _talk(kind: str, sent: bytes) -> bytes:
    server, client = socket.socketpair()
    with server, client:
        handler = type("H", (Handler,), {"kind": kind})

        def serve() -> None:
            handler(server, ("198.18.0.7", 1), None)
            server.shutdown(socket.SHUT_RDWR)

        thread = threading.Thread(target=serve)
        thread.start()
        client.sendall(sent)
        client.shutdown(socket.SHUT_WR)
        received = io.BytesIO()
        while chunk := client.recv(4096):
            received.write(chunk)
        thread.join(5)
        return received.getvalue()


def test_postgres_refuses_ssl_then_asks_a_password_then_refuses_it() -> None:
    ssl = struct.pack("!II", 8, 80877103)
    body = struct.pack("!I", 196608) + b"user\x00postgres\x00\x00"
    startup = struct.pack("!I", len(body) + 4) + body
    password = b"p" + struct.pack("!I", 6) + b"x\x00"
    answer = _talk("postgres", ssl + startup + password)
    assert answer[:1] == b"N"
    assert answer[1:10] == b"R" + struct.pack("!II", 8, 3)
    assert b'password authentication failed for user "postgres"' in answer


def test_mongo_says_nothing() -> None:
    assert _talk("mongo", b"\x3a\x00\x00\x00hello") == b""
