"""Stand-ins for database and cache images that labs only connect to: a listener on the
image's port that takes connections and says no more than a client needs to know it reached
the server. They store nothing and run no query.

| image             | port  | what a client gets                                          |
|-------------------|-------|-------------------------------------------------------------|
| postgres          | 5432  | `N` to an SSLRequest; a password request to the startup     |
|                   |       | message (so `pg_isready` says "accepting connections"),     |
|                   |       | then FATAL 28P01 `password authentication failed`           |
| mysql, mariadb    | 3306  | the server's protocol-10 greeting at connect, then          |
|                   |       | ERROR 1045 `Access denied` to any login (`mysqladmin ping`  |
|                   |       | counts that as alive)                                       |
| mongo             | 27017 | nothing: accepts connections and speaks no protocol        |
| memcached         | 11211 | `VERSION 1.6.x` to `version`, `END` to `get` (every key     |
|                   |       | misses), `ERROR` to anything else; `quit` closes            |

The port follows the images' own flags where a lab may set one (postgres `-p N` or
`-c port=N`, mysql `--port=N`/`-P N`, mongod `--port N`, memcached `-p N`); other args are
ignored.

Run as `python -m podwall.runtime.standins.databases KIND ARGS...`; it drops to the pod's uid.
"""

from __future__ import annotations

import logging
import os
import socketserver
import struct
import sys
from collections.abc import Mapping, Sequence

from podwall.runtime.standins.serving import serve, start

log = logging.getLogger("database")

PORTS: Mapping[str, int] = {
    "postgres": 5432, "mysql": 3306, "mariadb": 3306, "mongo": 27017, "memcached": 11211,
}  # fmt: skip
PORT_FLAGS: Mapping[str, tuple[str, ...]] = {
    "postgres": ("-p",), "mysql": ("--port", "-P"), "mariadb": ("--port", "-P"),
    "mongo": ("--port",), "memcached": ("-p", "--port"),
}  # fmt: skip
READY: Mapping[str, str] = {
    "postgres": "database system is ready to accept connections",
    "mysql": "mysqld: ready for connections.",
    "mariadb": "mariadbd: ready for connections.",
    "mongo": "Waiting for connections",
    "memcached": "memcached listening",
}
VERSIONS: Mapping[str, str] = {
    "mysql": "8.0.40", "mariadb": "11.4.4-MariaDB", "memcached": "1.6.32",
}  # fmt: skip
SSL_REQUEST = 80877103
MAX_MESSAGE = 64 * 1024


def port_of(kind: str, args: Sequence[str]) -> int:
    port = PORTS[kind]
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, sep, value = arg.partition("=")
        if kind == "postgres" and arg == "-c" and rest and rest[0].startswith("port="):
            value, name, sep = rest.pop(0).partition("=")[2], "-p", "="
        if name in PORT_FLAGS[kind]:
            value = value if sep else (rest.pop(0) if rest else "")
            port = int(value) if value.isdigit() else port
    return port


def mysql_greeting(version: str, connection_id: int) -> bytes:
    """The server's Protocol::HandshakeV10 packet (sequence 0), mysql_native_password."""
    salt = b"podwall-salt-0123456"  # 20 bytes, as the protocol wants
    payload = (
        b"\x0a" + version.encode() + b"\x00" + struct.pack("<I", connection_id) + salt[:8]
        + b"\x00" + struct.pack("<H", 0xF7FF) + b"\x21" + struct.pack("<H", 0x0002)
        + struct.pack("<H", 0x81FF) + bytes([21]) + b"\x00" * 10 + salt[8:] + b"\x00"
        + b"mysql_native_password\x00"
    )  # fmt: skip
    return _mysql_packet(payload, 0)


def mysql_access_denied(user: str, client: str, sequence: int) -> bytes:
    message = f"Access denied for user '{user}'@'{client}' (using password: YES)"
    return _mysql_packet(b"\xff" + struct.pack("<H", 1045) + b"#28000" + message.encode(), sequence)


def _mysql_packet(payload: bytes, sequence: int) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([sequence & 0xFF]) + payload


def postgres_error(code: str, message: str) -> bytes:
    fields = b"SFATAL\x00VFATAL\x00C" + code.encode() + b"\x00M" + message.encode() + b"\x00\x00"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


def startup_user(body: bytes) -> str:
    """The `user` of a PostgreSQL startup message's key/value pairs (after the version)."""
    words = body[4:].split(b"\x00")
    pairs = dict(zip(words[::2], words[1::2], strict=False))
    return pairs.get(b"user", b"").decode(errors="replace")


def memcached_reply(line: str) -> tuple[bytes, bool]:
    """The reply to one text-protocol command line, and whether the connection ends."""
    words = line.split()
    if not words:
        return b"ERROR\r\n", False
    command = words[0].lower()
    if command == "version":
        return f"VERSION {VERSIONS['memcached']}\r\n".encode(), False
    if command in ("get", "gets"):
        return b"END\r\n", False
    if command == "quit":
        return b"", True
    return b"ERROR\r\n", False


class Handler(socketserver.StreamRequestHandler):
    kind = "mongo"

    def handle(self) -> None:
        {"postgres": self._postgres, "mysql": self._mysql, "mariadb": self._mysql,
         "memcached": self._memcached}.get(self.kind, self._silent)()  # fmt: skip

    def _silent(self) -> None:
        while self.rfile.read1(MAX_MESSAGE):  # hold the connection until the client closes it
            pass

    def _postgres(self) -> None:
        while True:
            head = self.rfile.read(4)
            if len(head) < 4:
                return
            body = self.rfile.read(min(struct.unpack("!I", head)[0] - 4, MAX_MESSAGE))
            if body[:4] == struct.pack("!I", SSL_REQUEST) or body[:4] == b"\x04\xd2\x16\x30":
                self.wfile.write(b"N")  # no SSL (nor GSSAPI): go on in plain text
                continue
            user = startup_user(body)
            self.wfile.write(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            if not self.rfile.read(1):
                return
            self.wfile.write(
                postgres_error("28P01", f'password authentication failed for user "{user}"')
            )
            return

    def _mysql(self) -> None:
        version = VERSIONS[self.kind]
        self.wfile.write(mysql_greeting(version, threading_id()))
        head = self.rfile.read(4)
        if len(head) < 4:
            return
        size = struct.unpack("<I", head[:3] + b"\x00")[0]
        body = self.rfile.read(min(size, MAX_MESSAGE))
        user = body[32:].split(b"\x00", 1)[0].decode(errors="replace")
        self.wfile.write(mysql_access_denied(user, self.client_address[0], head[3] + 1))

    def _memcached(self) -> None:
        while line := self.rfile.readline(MAX_MESSAGE):
            answer, last = memcached_reply(line.decode(errors="replace"))
            self.wfile.write(answer)
            if last:
                return


def threading_id() -> int:
    return os.getpid() & 0xFFFF


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kind = args[0] if args else ""
    if kind not in PORTS:
        print(f"unknown database {kind!r}: one of {', '.join(PORTS)}", file=sys.stderr)
        return 2
    port = port_of(kind, args[1:])
    start()
    handler = type("Handler", (Handler,), {"kind": kind})
    serve([Server(("", port), handler)], log, f"{READY[kind]} (port {port})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
