"""What a sandbox node publishes per running pod so that `kubectl exec` and `logs` reach it.

On a real cluster the kubelet serves exec and logs itself. In the sandbox every node agent runs
on this machine, so each writes, for every pod it runs, one small JSON file under its run
directory (`<run_dir>/pods/<namespace>/<name>.json`, 0600 in 0700 directories: it holds the
containers' environment): the pod's network namespace, hostname, and per container its image,
environment, log file, process (pid and start time) and, with stdin or a tty, the name of its
console relay (`consolerelay`) for `kubectl attach`. The API server's `SandboxPods` reads it
and starts the exec itself with `process.exec_in_pod`, as the kubelet would. This is the
sandbox's shortcut, and the only thing both sides share besides the API.

Writes are atomic (a staging file, then rename), so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podwall.runtime.procstat import start_stamp

PODS = "pods"
CONSOLES = "console"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedContainer:
    image: str
    env: dict[str, str] = field(default_factory=dict)
    log_path: str = ""
    pid: int = 0  # the container's process, and its start time (so a reused pid is not it)
    started: str = ""
    console: str = ""  # its console relay's name (`consolerelay`), "" without stdin or tty
    tty: bool = False
    stdin_once: bool = False

    def running(self) -> bool:
        """Whether the container's process still runs (a zombie does not)."""
        return self.pid > 0 and bool(self.started) and start_stamp(self.pid) == self.started


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedPod:
    netns: str
    hostname: str
    containers: dict[str, PublishedContainer]  # in the pod's order

    def as_json(self) -> dict[str, Any]:
        return {
            "netns": self.netns,
            "hostname": self.hostname,
            "containers": [
                {
                    "name": n,
                    "image": c.image,
                    "env": c.env,
                    "logPath": c.log_path,
                    "pid": c.pid,
                    "started": c.started,
                    "console": c.console,
                    "tty": c.tty,
                    "stdinOnce": c.stdin_once,
                }
                for n, c in self.containers.items()
            ],
        }

    @staticmethod
    def from_json(data: Any) -> PublishedPod:
        """Raises ValueError when `data` is not a published pod."""
        try:
            containers = {
                str(c["name"]): PublishedContainer(
                    image=str(c["image"]),
                    env={str(k): str(v) for k, v in (c.get("env") or {}).items()},
                    log_path=str(c.get("logPath") or ""),
                    pid=int(c.get("pid") or 0),
                    started=str(c.get("started") or ""),
                    console=str(c.get("console") or ""),
                    tty=c.get("tty") is True,
                    stdin_once=c.get("stdinOnce") is True,
                )
                for c in data["containers"]
            }
            return PublishedPod(
                netns=str(data["netns"]), hostname=str(data["hostname"]), containers=containers
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a published pod: {exc}") from exc


def console_dir(run_dir: Path) -> Path:
    """Where a node's console relays listen (short: a Unix socket's path is 107 bytes)."""
    return run_dir / CONSOLES


def console_name(namespace: str, name: str, container: str) -> str:
    return hashlib.sha256(f"{namespace}/{name}/{container}".encode()).hexdigest()[:16]


def path_of(run_dir: Path, namespace: str, name: str) -> Path:
    return run_dir / PODS / namespace / f"{name}.json"


def write(run_dir: Path, namespace: str, name: str, pod: PublishedPod) -> None:
    path = path_of(run_dir, namespace, name)
    run_dir.mkdir(parents=True, exist_ok=True)
    for directory in (run_dir / PODS, path.parent):
        directory.mkdir(mode=0o700, exist_ok=True)
    staging = path.with_name(f".{path.name}.new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(pod.as_json(), f)
    staging.replace(path)


def remove(run_dir: Path, namespace: str, name: str) -> None:
    path = path_of(run_dir, namespace, name)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty


def read(run_dir: Path, namespace: str, name: str) -> PublishedPod | None:
    """The pod as its node published it; None when the node runs no such pod."""
    try:
        text = path_of(run_dir, namespace, name).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return PublishedPod.from_json(json.loads(text))
    except ValueError:
        return None
