"""A container's console: the stdin (and terminal) that `kubectl attach` reaches.

A container whose spec asks for `stdin` starts with a pipe as its stdin; its write end is held
here, open, so the container waits for input until an attach delivers it. With `tty` it runs
under a pty instead (the pty is its controlling terminal; `process` makes it so): a thread
copies what the terminal prints to the container's log file, where `kubectl logs` and attach
read it, and the master is the container's input. With `stdinOnce`, the end of the first
attach's input ends the container's (a closed pipe; under a pty, ^D, as a terminal's end of
input), as the kubelet closes a stdinOnce container's stdin after the first attach.

The input fd is non-blocking, for the API server's event loop. Nothing here starts a process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import termios
import threading
from pathlib import Path

READ_SIZE = 32 * 1024
DEFAULT_SIZE = (80, 24)  # columns, rows until an attach says otherwise
EOF_CHAR = b"\x04"


class Console:
    """The container's input end (`input_fd`), and for a TTY the copy of its output."""

    def __init__(self, input_fd: int, *, tty: bool, stdin_once: bool) -> None:
        os.set_blocking(input_fd, False)
        self.input_fd: int | None = input_fd
        self.tty = tty
        self.stdin_once = stdin_once
        self._master = input_fd if tty else None
        self._copier: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_pipe(cls, write_end: int, *, stdin_once: bool) -> Console:
        return cls(write_end, tty=False, stdin_once=stdin_once)

    @classmethod
    def open_pty(cls, *, stdin_once: bool) -> tuple[Console, int]:
        """A console over a new pty, and the pty's slave end for the container (the caller
        closes it once the container has it)."""
        master, slave = pty.openpty()
        set_window_size(master, *DEFAULT_SIZE)
        return cls(master, tty=True, stdin_once=stdin_once), slave

    def copy_output_to(self, log_path: Path) -> None:
        """Start the thread that appends the terminal's output to `log_path` until the
        container (every holder of the slave end) is gone."""
        if self._master is None:
            return
        self._copier = threading.Thread(
            target=_copy, args=(self._master, log_path), name="podwall-console", daemon=True
        )
        self._copier.start()

    def end_input(self) -> None:
        """The container's input ends: the pipe is closed; under a pty, ^D is typed."""
        with self._lock:
            fd = self.input_fd
            if fd is None:
                return
            if self.tty:
                with contextlib.suppress(OSError):
                    os.write(fd, EOF_CHAR)
                return
            self.input_fd = None
        with contextlib.suppress(OSError):
            os.close(fd)

    def resize(self, columns: int, rows: int) -> None:
        resize_pty(self._master, columns, rows)

    def close(self) -> None:
        """Release the input end (after the container has stopped)."""
        with self._lock:
            fd, self.input_fd = self.input_fd, None
        if self._copier is not None:
            self._copier.join(timeout=2.0)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def set_window_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def resize_pty(master: int | None, columns: int, rows: int) -> None:
    """A terminal's new size, for the pty whose master is `master`: nothing without one, or
    once it is closed."""
    if master is not None:
        with contextlib.suppress(OSError):
            set_window_size(master, columns, rows)


def _copy(master: int, log_path: Path) -> None:
    with log_path.open("ab", buffering=0) as log:
        while True:
            try:
                readable, _, _ = select.select([master], [], [], 1.0)
                if not readable:
                    continue
                data = os.read(master, READ_SIZE)
            except BlockingIOError:
                continue
            except (OSError, ValueError):  # EIO: the container and its children are gone
                return
            if not data:
                return
            log.write(data)
