"""A lean HTTPS client for the API benchmark: one keep-alive connection per thread.

`http.client` costs far less per request than httpx, so the figures are mostly the server's.
`Api` is one connection (not thread-safe: one per thread); `Watcher` reads one watch stream in
a thread of its own and keeps, per event, its arrival time, type, name and resourceVersion.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
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


class Api:
    """One keep-alive HTTPS connection."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.endpoint = endpoint
        self.conn = http.client.HTTPSConnection(
            "127.0.0.1", endpoint.port, context=endpoint.context(), timeout=timeout
        )
        self.headers = {"Authorization": f"Bearer {endpoint.token}"}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        all_headers = {**self.headers, **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        return response.status, response.read()

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
