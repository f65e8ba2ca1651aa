"""What the API server needs from the node runtime to serve `exec` and `logs`.

The node runtime (the kubelet role: pod networks, processes, stand-ins) implements this; the
API server only asks where a pod's container lives. Keeping it a Protocol lets the HTTP side be
tested with a fake runtime and the node side without an HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from podwall.errors import PodwallError


class PodLookupError(PodwallError, LookupError):
    """The pod or container is not running here; the message is what kubectl should print."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecTarget:
    """Enough to run a command as `kubectl exec` does: `process.exec_in_pod(**...)`."""

    netns: str
    hostname: str
    image: str
    env: dict[str, str] = field(default_factory=dict)


class PodRuntime(Protocol):
    def exec_target(self, namespace: str, pod: str, container: str | None) -> ExecTarget:
        """Raises PodLookupError when the pod or container is not running."""
        ...

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        """The container's log file (stdout and stderr); raises PodLookupError."""
        ...
