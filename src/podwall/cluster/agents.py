"""The node agents of a local cluster: one process per node, each what `podwall agent
--sandbox` runs (`podwall.agent.sandbox.serve`).

The processes are forked from a fork server (multiprocessing's `forkserver`) that imported
the agent once: importing it (the Kubernetes client above all) takes longer than everything
the agent then does before its node is Ready, and N agents importing at once on a busy
machine would multiply that. Each child is still its own process with its own connection and
credentials; the fork server is single-threaded, so forking there is safe, and restarts are
as quick as the first start. `prewarm()` starts the fork server early, while `podwall up`
imports the API server.

`Agents.start` starts every agent, then a supervisor thread watches them and restarts one
that died (after a back-off; its replacement clears what it left and converges); `on_exit`
hears of the death first. Each agent follows `podwall up`'s process through a pidfd: when it
ends, `kill -9` included, the agent stops and removes its node. Each agent's pid and start
time are kept in `<state>/nodes/<node>/agent.pid`, so a later `up` or `down` finds an agent
left behind and stops it by pid (checked against its start time, so a reused pid is never
signalled), never by name. Its output goes to `<state>/nodes/<node>/agent.log`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.context
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from podwall.runtime.procstat import start_stamp, start_time

log = logging.getLogger(__name__)

NODES_DIR = "nodes"
PID_FILE = "agent.pid"
LOG_FILE = "agent.log"
PR_SET_NAME = 15
POLL_SECONDS = 0.2
STOP_SECONDS = 30.0
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 30.0


def node_dir(state_dir: Path, node: str) -> Path:
    return state_dir / NODES_DIR / node


PRELOAD = ["podwall.agent.sandbox", "podwall.cluster.agents"]
_CONTEXT = multiprocessing.get_context("forkserver")
Process = multiprocessing.context.ForkServerProcess


def prewarm() -> None:
    """Start the fork server now (it imports the agent in the background)."""
    _CONTEXT.set_forkserver_preload(PRELOAD)
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _die_with(cluster: int) -> None:
    """In the child: SIGTERM itself when process `cluster` (`podwall up`) ends, and now if it
    already has. The kernel's PR_SET_PDEATHSIG would follow the fork server, the parent,
    which lives on while any child holds its pipe; a pidfd follows `podwall up` itself."""
    try:
        pidfd = os.pidfd_open(cluster)
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGTERM)
        return

    def watch() -> None:
        select.select([pidfd], [], [])
        log.warning("podwall up (pid %d) is gone: stopping", cluster)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="die-with-up", daemon=True).start()


def _name_process(name: str) -> None:
    """What `ps -o comm` and `top` show for this process (its argv is the fork server's)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, name.encode()[:15] + b"\0", 0, 0, 0)


def _agent_main(spec: AgentSpec, log_path: str) -> None:
    """The child: output to the node's log, die with the fork server, then be the agent."""
    _name_process(f"agent-{spec.node}")
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    from podwall.agent.client import Target
    from podwall.agent.run import Options
    from podwall.agent.sandbox import SandboxOptions, serve

    options = Options(
        target=Target(kubeconfig=spec.kubeconfig),
        node=spec.node,
        holder=f"{spec.node}-{os.getpid()}",
        metrics_port=0,
        lease_namespace=spec.lease_namespace,
    )
    sandbox = SandboxOptions(
        cluster_id=spec.cluster_id,
        index=spec.index,
        run_dir=spec.run_dir,
        log_dir=spec.log_dir,
    )
    logging.getLogger(__name__).info("as `%s`", " ".join(spec.command()))
    _die_with(spec.cluster_pid)
    sys.exit(serve(options, sandbox))


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """Node `node`'s agent: what `podwall agent --sandbox` is given (`command()`)."""

    node: str
    cluster_id: str
    index: int
    kubeconfig: Path
    run_dir: Path
    log_dir: Path
    lease_namespace: str
    cluster_pid: int  # `podwall up`'s process: the agent stops when it ends

    def command(self) -> list[str]:
        return [
            "podwall", "agent", "--sandbox",
            "--cluster-id", self.cluster_id,
            "--node-index", str(self.index),
            "--node-name", self.node,
            "--kubeconfig", str(self.kubeconfig),
            "--run-dir", str(self.run_dir),
            "--log-dir", str(self.log_dir),
            "--metrics-port", "0",
            "--lease-namespace", self.lease_namespace,
        ]  # fmt: skip


class Agents:
    """The node agents of one cluster; `start` once, `stop` at the end."""

    def __init__(
        self,
        state_dir: Path,
        specs: Sequence[AgentSpec],
        *,
        on_exit: Callable[[str], None] = lambda node: None,
    ) -> None:
        self.state_dir = state_dir
        self.specs = {s.node: s for s in specs}
        self.on_exit = on_exit
        self.processes: dict[str, Process] = {}
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
        return process is not None and process.is_alive()

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
        terminate([p.pid for p in processes.values() if p.pid is not None], STOP_SECONDS)
        for node, process in processes.items():
            process.join(timeout=1)
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
            if process is None or process.is_alive():
                continue
            due = self._due.get(node)
            if due is None:
                delay = self._delay.get(node, FIRST_RESTART_SECONDS / 2) * 2
                self._delay[node] = min(delay, MAX_RESTART_SECONDS)
                self._due[node] = now + self._delay[node]
                log.error(
                    "agent of %s exited with status %s; restarting in %.0fs (log: %s)",
                    node, process.exitcode, self._delay[node], self.log_path(node),
                )  # fmt: skip
                try:
                    self.on_exit(node)
                except Exception:
                    log.exception("after the agent of %s exited", node)
            elif now >= due:
                del self._due[node]
                self.restarts[node] += 1
                try:
                    self._spawn(spec)
                except OSError as exc:
                    log.error("cannot restart the agent of %s: %s", node, exc)

    def _spawn(self, spec: AgentSpec) -> None:
        directory = node_dir(self.state_dir, spec.node)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _CONTEXT.set_forkserver_preload(PRELOAD)
        process = Process(
            target=_agent_main,
            args=(spec, str(directory / LOG_FILE)),
            name=f"podwall-agent-{spec.node}",
            daemon=False,
        )
        process.start()
        assert process.pid is not None
        with self._lock:
            self.processes[spec.node] = process
        started = start_stamp(process.pid)
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
        if started and start_stamp(pid) == started:
            found.append(pid)
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
    if found:
        terminate(found, STOP_SECONDS)
    return found
