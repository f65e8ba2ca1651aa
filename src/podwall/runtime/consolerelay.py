"""A container's console reached from another process: `kubectl attach` in the sandbox.

The console (`runtime.console`) belongs to the node agent that started the container; the
API server, another process on this machine, serves `kubectl attach`. So the agent relays:
per container with a console, two Unix sockets in the node's run directory (0600, root's):

- `<name>.stdin` (stream): what an attach sends is written to the container's stdin or
  terminal. A connection's end is a detach, not the end of the container's input;
- `<name>.ctl` (datagrams): `size COLUMNS ROWS` resizes the terminal, `eof` ends the input
  (for a stdinOnce container), as the console's own `resize` and `end_input` do.

`RemoteConsole` is the API server's end, with the console's interface (`input_fd`,
`stdin_once`, `end_input`, `resize`), so an attach drives it as it drives a console in its own
process. The relay follows the container's current console (a restart makes a new one).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from podwall.runtime.console import Console

log = logging.getLogger(__name__)

READ_SIZE = 32 * 1024
WRITE_WAIT_SECONDS = 1.0


def paths(directory: Path, name: str) -> tuple[Path, Path]:
    """The stdin socket and the control socket of container `name`."""
    return directory / f"{name}.stdin", directory / f"{name}.ctl"


class ConsoleRelay:
    """The agent's end: serves a container's console on its two sockets until `close`."""

    def __init__(self, directory: Path, name: str, console: Callable[[], Console | None]) -> None:
        self.stdin_path, self.control_path = paths(directory, name)
        self._console = console
        self._closed = threading.Event()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in (self.stdin_path, self.control_path):
            path.unlink(missing_ok=True)
        self._stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stream.bind(str(self.stdin_path))
        self._stream.listen(4)
        self._control = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._control.bind(str(self.control_path))
        for path in (self.stdin_path, self.control_path):
            path.chmod(0o600)
        self._threads = [
            threading.Thread(target=self._accept, name=f"console-{name}", daemon=True),
            threading.Thread(target=self._controls, name=f"console-ctl-{name}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._closed.set()
        for sock in (self._stream, self._control):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for path in (self.stdin_path, self.control_path):
            path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._stream.accept()
            except OSError:
                return
            threading.Thread(
                target=self._pump, args=(connection,), name="console-in", daemon=True
            ).start()

    def _pump(self, connection: socket.socket) -> None:
        with connection:
            while not self._closed.is_set():
                try:
                    data = connection.recv(READ_SIZE)
                except OSError:
                    return
                if not data:
                    return  # a detach
                self._write(data)

    def _write(self, data: bytes) -> None:
        console = self._console()
        fd = console.input_fd if console is not None else None
        view = memoryview(data)
        while fd is not None and view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                select.select([], [fd], [], WRITE_WAIT_SECONDS)
            except OSError:
                return

    def _controls(self) -> None:
        while not self._closed.is_set():
            try:
                message = self._control.recv(256).decode(errors="replace").split()
            except OSError:
                return
            console = self._console()
            if console is None or not message:
                continue
            if message[0] == "eof":
                console.end_input()
            elif (
                message[0] == "size" and len(message) == 3 and all(m.isdigit() for m in message[1:])
            ):
                console.resize(int(message[1]), int(message[2]))


class RemoteConsole:
    """The API server's end of a relayed console; `close` when the attach ends."""

    def __init__(self, directory: Path, name: str, *, tty: bool, stdin_once: bool) -> None:
        self.stdin_path, self.control_path = paths(directory, name)
        self.tty = tty
        self.stdin_once = stdin_once
        self._stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stream.connect(str(self.stdin_path))
        self._stream.setblocking(False)
        self.input_fd: int | None = self._stream.fileno()

    def end_input(self) -> None:
        self._send("eof")

    def resize(self, columns: int, rows: int) -> None:
        self._send(f"size {columns} {rows}")

    def _send(self, message: str) -> None:
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
        ):
            sock.sendto(message.encode(), str(self.control_path))

    def close(self) -> None:
        self.input_fd = None
        self._stream.close()
