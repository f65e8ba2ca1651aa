"""The `podwall up` daemon's files: where its state lives, whether it runs, how to stop it.

The running cluster holds an exclusive `flock` on `<state>/podwall.pid` for its whole life, so
"is it running" never trusts a stale pid file: a lock that can be taken means nothing runs, even
after `kill -9`. `<state>/ready` (JSON: pid, url, kubeconfig, cluster id) appears once the
cluster serves and its node is up, and goes when it stops. The daemon logs to
`<state>/podwall.log`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import ssl
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

PID_FILE = "podwall.pid"
READY_FILE = "ready"
LOG_FILE = "podwall.log"
ENV_STATE_DIR = "PODWALL_STATE_DIR"


def default_state_dir() -> Path:
    """PODWALL_STATE_DIR, else /var/lib/podwall for root, else $XDG_STATE_HOME/podwall."""
    if os.environ.get(ENV_STATE_DIR):
        return Path(os.environ[ENV_STATE_DIR])
    if os.geteuid() == 0:
        return Path("/var/lib/podwall")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "podwall"


@dataclass(frozen=True, slots=True)
class Running:
    pid: int
    url: str
    kubeconfig: str
    cluster_id: str


class PidLock:
    """The exclusive lock a running cluster holds; `acquire()` fails if one runs."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / PID_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._file.close()
        self._file = None


def locked_pid(state_dir: Path) -> int | None:
    """The pid of the cluster running on `state_dir`, or None when none holds the lock."""
    path = state_dir / PID_FILE
    if not path.exists():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def write_ready(state_dir: Path, running: Running) -> None:
    path = state_dir / READY_FILE
    staging = path.with_name(".ready.new")
    staging.write_text(json.dumps(_as_dict(running)))
    staging.replace(path)


def _as_dict(running: Running) -> dict[str, Any]:
    return {
        "pid": running.pid,
        "url": running.url,
        "kubeconfig": running.kubeconfig,
        "cluster_id": running.cluster_id,
    }


def read_ready(state_dir: Path) -> Running | None:
    try:
        data = json.loads((state_dir / READY_FILE).read_text())
        return Running(
            int(data["pid"]), str(data["url"]), str(data["kubeconfig"]), str(data["cluster_id"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_ready(state_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (state_dir / READY_FILE).unlink()


def readyz(url: str, ca: Path, timeout: float = 2.0) -> bool:
    """GET /readyz over HTTPS, trusting only the cluster's own CA."""
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=timeout, context=context) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def api_get(running: Running, state_dir: Path, path: str) -> Any:
    """GET an API path with the cluster's token; the decoded JSON."""
    context = ssl.create_default_context(cafile=str(state_dir / "ca.crt"))
    token = (state_dir / "token").read_text().strip()
    request = urllib.request.Request(
        f"{running.url}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5, context=context) as reply:
        return json.loads(reply.read())


def terminate(pid: int, state_dir: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the cluster and wait until it released its lock; SIGKILL after `timeout`.

    True when it stopped by itself (and so cleaned up), False when it had to be killed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if locked_pid(state_dir) is None and _gone(pid, 5.0):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while locked_pid(state_dir) is not None or not _gone(pid, 0.05):
        time.sleep(0.05)
    return False


def _gone(pid: int, timeout: float) -> bool:
    """Wait until process `pid` has exited (a zombie counts); whether it has."""
    from podwall.runtime.node import exited

    deadline = time.monotonic() + timeout
    while not exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
