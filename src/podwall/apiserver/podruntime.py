"""What the API server needs from the node runtime to serve `exec`, `logs` and `port-forward`.

The node runtime (the kubelet role: pod networks, processes, stand-ins) implements PodRuntime;
the API server never starts a process itself. `exec` hands back an ExecProcess, a handle on the
command's streams, so the HTTP side works the same whether the command runs in this process or
in a node agent elsewhere. `port_forward` (PortForwardRuntime: a separate Protocol, as
AttachRuntime is, since a runtime may lack it) hands back a socket connected inside the pod.
Keeping both Protocols lets the HTTP side be tested with a fake runtime and the node side
without an HTTP server.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from podwall.errors import PodwallError


class PodLookupError(PodwallError, LookupError):
    """The pod or container is not running here; the message is what kubectl should print."""


class ExecStartError(PodwallError):
    """The command could not be started in the container; the message says why."""


class PortForwardError(PodwallError):
    """A port of the pod could not be connected to; the message is what kubectl prints."""


class Output(StrEnum):
    """An output stream of an exec'd command (with a TTY, everything is on stdout)."""

    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecRequest:
    """A command to run as `kubectl exec` asks: which streams, a TTY, the TTY's first size."""

    command: tuple[str, ...]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    size: tuple[int, int] | None = None  # (columns, rows)


class ExecProcess(Protocol):
    """A command started by PodRuntime.exec, as the exec session drives it."""

    @property
    def outputs(self) -> tuple[Output, ...]:
        """The streams to read until they end."""
        ...

    async def read(self, output: Output) -> bytes:
        """The next bytes of `output`; b"" once it has ended."""
        ...

    async def write(self, data: bytes) -> None:
        """Give `data` to the command's stdin (nothing when it has none or closed it)."""
        ...

    async def close_stdin(self) -> None:
        """End the command's input (under a TTY: ^D, as a terminal does)."""
        ...

    def resize(self, columns: int, rows: int) -> None:
        """Set the TTY's size (nothing without a TTY)."""
        ...

    async def wait(self) -> int:
        """The exit code, as container runtimes report it (128 + signal when killed)."""
        ...

    def kill(self) -> None:
        """Kill the command and whatever it started (its process group)."""
        ...

    def close(self) -> None:
        """Kill, reap, and release the streams; the handle is done."""
        ...


class PodRuntime(Protocol):
    def check_container(self, namespace: str, pod: str, container: str) -> None:
        """Raises PodLookupError when the container is not running here."""
        ...

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> ExecProcess:
        """Start `request.command` in the container; raises PodLookupError, ExecStartError."""
        ...

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        """The container's log file (stdout and stderr); raises PodLookupError."""
        ...


@runtime_checkable
class PortForwardRuntime(Protocol):
    """A PodRuntime that can connect to a pod's ports (`kubectl port-forward`)."""

    def check_container(self, namespace: str, pod: str, container: str) -> None: ...

    def port_forward(self, namespace: str, pod: str, port: int) -> socket.socket:
        """A TCP connection to 127.0.0.1:`port` inside the pod's network namespace, connected
        and non-blocking; raises PodLookupError, PortForwardError. It blocks while connecting:
        call it off the event loop."""
        ...
