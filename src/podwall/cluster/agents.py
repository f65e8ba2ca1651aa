"""The node agents of a local cluster: one `podwall agent --sandbox` process per node.

`Agents.start` spawns every agent from one supervisor thread, which then watches them and
restarts one that died (after a back-off; its replacement clears what it left and converges).
Each child gets `PR_SET_PDEATHSIG`: when the thread that spawned it ends, `podwall up`
included after `kill -9`, the kernel sends it SIGTERM, and it removes its node. Each agent's
pid and start time are kept in `<state>/nodes/<node>/agent.pid`, so a later `up` or `down`
finds an agent left behind and stops it by pid (checked against its start time, so a reused
pid is never signalled), never by name. Its output goes to `<state>/nodes/<node>/agent.log`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

NODES_DIR = "nodes"
PID_FILE = "agent.pid"
LOG_FILE = "agent.log"
PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2
STOP_SECONDS = 30.0
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 30.0


def node_dir(state_dir: Path, node: str) -> Path:
    return state_dir / NODES_DIR / node


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the spawning thread ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None if it is gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] in ("Z", "X") else fields[19]


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """How to start node `node`'s agent: its argv (the supervisor adds nothing)."""

    node: str
    argv: tuple[str, ...]


class Agents:
    """The node agents of one cluster; `start` once, `stop` at the end."""

    def __init__(
        self,
        state_dir: Path,
        specs: Sequence[AgentSpec],
        *,
        on_restart: Callable[[str], None] = lambda node: None,
    ) -> None:
        self.state_dir = state_dir
        self.specs = {s.node: s for s in specs}
        self.on_restart = on_restart
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = dict.fromkeys(self.specs, 0)
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}
        self._delay: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Spawn every agent (in the supervisor thread, which then keeps them running)."""
        self._thread = threading.Thread(target=self._run, name="agents", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error

    def alive(self, node: str) -> bool:
        with self._lock:
            process = self.processes.get(node)
        return process is not None and process.poll() is None

    def pid(self, node: str) -> int | None:
        with self._lock:
            process = self.processes.get(node)
        return process.pid if process is not None else None

    def log_path(self, node: str) -> Path:
        return node_dir(self.state_dir, node) / LOG_FILE

    def stop(self) -> None:
        """SIGTERM every agent (they remove their nodes), wait, SIGKILL what outlives that."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_SECONDS + 10)
            self._thread = None
        with self._lock:
            processes = dict(self.processes)
        terminate([p.pid for p in processes.values()], STOP_SECONDS)
        for node, process in processes.items():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
            with contextlib.suppress(FileNotFoundError):
                (node_dir(self.state_dir, node) / PID_FILE).unlink()

    def _run(self) -> None:
        try:
            for spec in self.specs.values():
                self._spawn(spec)
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        while not self._stopping.wait(POLL_SECONDS):
            self._supervise()

    def _supervise(self) -> None:
        now = time.monotonic()
        for node, spec in self.specs.items():
            with self._lock:
                process = self.processes.get(node)
            if process is None or process.poll() is None:
                continue
            due = self._due.get(node)
            if due is None:
                delay = self._delay.get(node, FIRST_RESTART_SECONDS / 2) * 2
                self._delay[node] = min(delay, MAX_RESTART_SECONDS)
                self._due[node] = now + self._delay[node]
                log.error(
                    "agent of %s exited with status %s; restarting in %.0fs (log: %s)",
                    node, process.returncode, self._delay[node], self.log_path(node),
                )  # fmt: skip
            elif now >= due:
                del self._due[node]
                self.restarts[node] += 1
                try:
                    self._spawn(spec)
                except OSError as exc:
                    log.error("cannot restart the agent of %s: %s", node, exc)
                    continue
                self.on_restart(node)

    def _spawn(self, spec: AgentSpec) -> None:
        directory = node_dir(self.state_dir, spec.node)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (directory / LOG_FILE).open("ab") as out:
            process = subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                close_fds=True,
                cwd="/",
                preexec_fn=_die_with_parent,
            )
        with self._lock:
            self.processes[spec.node] = process
        started = start_time(process.pid) or ""
        (directory / PID_FILE).write_text(f"{process.pid} {started}\n")
        log.info("started the agent of %s pid=%d", spec.node, process.pid)


def terminate(pids: Sequence[int], timeout: float) -> None:
    """SIGTERM each process, wait until all are gone, SIGKILL those left after `timeout`."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if start_time(p) is not None]
        if left:
            time.sleep(0.02)
    for pid in left:
        log.warning("agent pid=%d outlived SIGTERM; killing", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_leftovers(state_dir: Path) -> list[int]:
    """Stop agents an earlier `podwall up` of `state_dir` left running; their pids.

    Only a process whose pid and start time both match its pid file is signalled."""
    found = []
    for pid_file in sorted((state_dir / NODES_DIR).glob(f"*/{PID_FILE}")):
        try:
            pid_text, _, started = pid_file.read_text().strip().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if started and start_time(pid) == started:
            found.append(pid)
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
    if found:
        terminate(found, STOP_SECONDS)
    return found


def python_argv() -> list[str]:
    """How this Python runs podwall (`python -m podwall`)."""
    return [sys.executable, "-m", "podwall"]
