"""A lean HTTPS client for the API benchmark: one keep-alive connection per thread.

The load generator shares the machine's cores with the server it measures, so it must cost
little: `Connection` frames HTTP/1.1 by hand (see its docstring; httpx or `http.client` would
cost several times more per request). `Api` is one connection (not thread-safe: one per
thread); `Watcher` reads one watch stream in a thread of its own and keeps, per event, its
arrival time, type, name and resourceVersion.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a server listens and how to talk to it."""

    port: int
    token: str
    ca: str

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)


class ApiError(Exception):
    """A response that was not the status the benchmark expected."""


class Connection:
    """One keep-alive HTTP/1.1 connection over TLS, written for the load it generates.

    `http.client` parses each response's headers with the email package: about 0.15 ms of the
    client's CPU per request, on the same two cores as the server it measures. Here a request
    is one `sendall` and a response is read with a status line, `Content-Length` or chunked
    framing, and nothing else: the figures are the server's, not the load generator's.
    """

    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        raw = socket.create_connection(("127.0.0.1", endpoint.port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = endpoint.context().wrap_socket(raw, server_hostname="127.0.0.1")
        self.buffer = b""

    def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.sock.sendall(head + body)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        header, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = dict(_field(line) for line in lines[1:])
        if b"content-length" in fields:
            return status, self._exactly(int(fields[b"content-length"]))
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            return status, self._chunked()
        raise ApiError(f"a response with neither Content-Length nor chunked: {header[:300]!r}")

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ApiError("the server closed the connection")
        self.buffer += data

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill()
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        return line

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while size := int(self._line().split(b";")[0], 16):
            parts.append(self._exactly(size))
            self._exactly(2)
        while self._line():  # trailers, up to the empty line
            pass
        return b"".join(parts)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _field(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()


class Api:
    """One keep-alive HTTPS connection (a `Connection`)."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.endpoint = endpoint
        self.conn = Connection(endpoint, timeout)
        self.auth = f"Authorization: Bearer {endpoint.token}\r\n"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n", self.auth]
        lines += [f"{name}: {value}\r\n" for name, value in (headers or {}).items()]
        if body is not None:
            lines.append(f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
        lines.append("\r\n")
        return self.conn.request("".join(lines).encode(), body or b"")

    def get(self, path: str, accept: str = "application/json") -> bytes:
        status, data = self.request("GET", path, headers={"Accept": accept})
        if status != 200:
            raise ApiError(f"GET {path}: {status} {data[:300]!r}")
        return data

    def create(self, path: str, obj: dict[str, Any]) -> bytes:
        status, data = self.request("POST", path, json.dumps(obj).encode())
        if status != 201:
            raise ApiError(f"POST {path}: {status} {data[:300]!r}")
        return data

    def close(self) -> None:
        self.conn.close()


_RV = re.compile(rb'"resourceVersion":"(\d+)"')
_NAME = re.compile(rb'"name":"([^"]*)"')
_TYPE = re.compile(rb'^\{"type":"([A-Z]+)"')


@dataclass(slots=True)
class Seen:
    """One watch event as the benchmark keeps it."""

    at: float
    type: str
    name: str
    resource_version: int


@dataclass
class Watcher:
    """A watch stream read in its own thread until `stop()` or the stream ends."""

    endpoint: Endpoint
    path: str
    events: list[Seen] = field(default_factory=list)
    error: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._conn = http.client.HTTPSConnection(
            "127.0.0.1", self.endpoint.port, context=self.endpoint.context(), timeout=600
        )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self.ready.wait(30):
            raise ApiError(f"watch {self.path} did not start")

    def _run(self) -> None:
        try:
            self._conn.request(
                "GET", self.path, headers={"Authorization": f"Bearer {self.endpoint.token}"}
            )
            response = self._conn.getresponse()
            self.ready.set()
            if response.status != 200:
                self.error = f"watch {self.path}: {response.status}"
                return
            while True:
                line = response.readline()
                if not line:
                    return
                self._keep(line, time.monotonic())
        except (OSError, http.client.HTTPException) as exc:
            if not getattr(self, "_stopping", False):
                self.error = f"watch {self.path}: {exc}"
        finally:
            self.ready.set()

    def _keep(self, line: bytes, at: float) -> None:
        kind = _TYPE.search(line)
        rv = _RV.search(line)
        name = _NAME.search(line)
        if kind is None or rv is None:
            self.error = f"watch {self.path}: unexpected line {line[:200]!r}"
            return
        self.events.append(
            Seen(
                at,
                kind.group(1).decode(),
                name.group(1).decode() if name else "",
                int(rv.group(1)),
            )
        )

    def stop(self) -> None:
        self._stopping = True
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(2)
        self._thread.join(10)
        self._conn.close()
