"""A small Redis client for the stand-ins that use one (DockerCoins' worker and web UI): one
connection, opened on first use and again after it breaks, as redis-py and node-redis keep
theirs; every connect and read bounded by `timeout` seconds.

I/O: a TCP connection to the server.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from podwall.runtime.standins import resp

PORT = 6379
TIMEOUT = 5.0


class RedisClient:
    """Commands to `host:port`, one at a time (thread-safe); ConnectionError (OSError) when
    the server cannot be reached or the connection breaks, resp.ReplyError for an error reply."""

    def __init__(self, host: str, port: int = PORT, timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._reader: resp.Readable | None = None

    def call(self, *words: bytes | str | int) -> resp.Value:
        """Send one command, return its reply."""
        encoded = [w if isinstance(w, bytes) else str(w).encode() for w in words]
        with self._lock:
            sock, reader = self._connected()
            try:
                sock.sendall(resp.command(encoded))
                return resp.read_reply(reader)
            except (OSError, resp.ProtocolError):
                self._close()
                raise

    def connect(self) -> None:
        """Open the connection now (node-redis' `connect()`), if it is not open."""
        with self._lock:
            self._connected()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _connected(self) -> tuple[socket.socket, resp.Readable]:
        if self._sock is None or self._reader is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._reader = self._sock.makefile("rb")
        return self._sock, self._reader

    def _close(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(OSError):
                self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock, self._reader = None, None
