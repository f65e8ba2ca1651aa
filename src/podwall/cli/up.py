"""`podwall up`, `podwall status`, `podwall kubeconfig`: a local cluster for the real kubectl.

`podwall up` starts `podwall up --foreground` as a daemon (a new session, output to
`<state>/podwall.log`), waits until it serves and its nodes run, and prints the
`export KUBECONFIG=...` line (on stdout, so `eval "$(podwall up)"` works). `podwall down`
(in `sandbox`) stops it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from podwall.cli import daemon, output
from podwall.cli.command import Command, dir_path, file_path, int_range

STATE_DIR_HELP = (
    "Directory of the store, credentials, kubeconfig and logs "
    "(default: $PODWALL_STATE_DIR, /var/lib/podwall for root, else $XDG_STATE_HOME/podwall)."
)


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    """--state-dir DIRECTORY as `state_dir`, a Path or None; `_state` says which one is meant."""
    parser.add_argument(
        "--state-dir", type=dir_path, default=None, metavar="DIRECTORY", help=STATE_DIR_HELP
    )


def _state(state_dir: Path | None) -> Path:
    return (state_dir or daemon.default_state_dir()).absolute()


def _up_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument(
        "--port",
        type=int,
        default=6443,
        metavar="INTEGER",
        help="API port on 127.0.0.1. [default: %(default)s]",
    )
    parser.add_argument(
        "--foreground",
        action="store_true",
        help="Run in this process until SIGINT or SIGTERM.",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="FLOAT",
        help="Seconds to wait for ready. [default: %(default)s]",
    )
    parser.add_argument(
        "--nodes",
        type=int_range(1, 253),
        default=1,
        metavar="N",
        help="Sandbox nodes, each its own agent process (node-1 … node-N). [default: %(default)s]",
    )


def _up(args: argparse.Namespace) -> None:
    up(
        state_dir=args.state_dir,
        port=args.port,
        foreground=args.foreground,
        timeout=args.timeout,
        nodes=args.nodes,
    )


def up(*, state_dir: Path | None, port: int, foreground: bool, timeout: float, nodes: int) -> None:
    """Start a local cluster: API server, controllers, scheduler, N sandbox nodes, cluster DNS.

    Each node is a `podwall agent --sandbox` process with its own credentials, its own network
    namespace and pod range, joined to the others by an underlay. The real kubectl then works
    against it: `eval "$(podwall up)"`, then `kubectl apply ...`. Objects are kept in the state
    directory: after a crash, `podwall up` brings them back, restarts their pods and enforces
    every policy before any pod takes traffic.

      eval "$(podwall up --nodes 2)"
      kubectl get nodes
      podwall down
    """
    state = _state(state_dir)
    pid = daemon.locked_pid(state)
    if pid is not None:
        output.note(f"podwall is already running (pid {pid}); `podwall down` stops it")
        _echo(f"export KUBECONFIG={state / 'kubeconfig'}")
        return
    if foreground:
        raise SystemExit(run_foreground(state, port, nodes, timeout))
    _start_daemon(state, port, timeout, nodes)


UP = Command(up.__doc__, _up_arguments, _up)


def _echo(text: str) -> None:
    """A line of stdout, flushed: `eval "$(podwall up)"` reads it while the daemon runs on."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _start_daemon(state: Path, port: int, timeout: float, nodes: int) -> None:
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    log_path = state / daemon.LOG_FILE
    daemon.remove_ready(state)
    started = time.monotonic()
    argv = [sys.executable, "-m", "podwall", "up", "--foreground"]
    argv += ["--state-dir", str(state), "--port", str(port), "--nodes", str(nodes)]
    argv += ["--timeout", str(timeout)]
    with log_path.open("ab") as log_file:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    while time.monotonic() - started < timeout:
        if child.poll() is not None:
            output.error(f"podwall exited with status {child.returncode}; its log ({log_path}):")
            sys.stderr.write(_tail(log_path) + "\n")
            raise SystemExit(1)
        ready = daemon.read_ready(state)
        if (
            ready is not None
            and ready.pid == child.pid
            and daemon.readyz(ready.url, state / "ca.crt")
        ):
            seconds = time.monotonic() - started
            output.note(f"podwall is running (pid {child.pid}) at {ready.url}, {seconds:.1f}s")
            _echo(f"export KUBECONFIG={ready.kubeconfig}")
            return
        time.sleep(0.05)
    output.error(f"podwall did not get ready within {timeout:.0f}s; see {log_path}")
    daemon.terminate(child.pid, state)
    raise SystemExit(1)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_foreground(state: Path, port: int, nodes: int = 1, timeout: float = 60.0) -> int:
    """Serve until SIGINT or SIGTERM; remove every pod and namespace before returning."""
    from podwall.cluster import agents

    agents.prewarm()  # the agents' fork server imports them while this imports the server
    from podwall.cluster.local import LocalCluster

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    lock = daemon.PidLock(state)
    if not lock.acquire():
        output.error(f"podwall is already running on {state}")
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    cluster = LocalCluster(state, port, nodes=nodes, ready_seconds=timeout)
    try:
        cluster.start()
        daemon.write_ready(
            state,
            daemon.Running(
                pid=os.getpid(),
                url=cluster.server.url,
                kubeconfig=str(cluster.server.kubeconfig_path),
                cluster_id=cluster.cluster_id,
            ),
        )
        output.note(f"podwall serving on {cluster.server.url}")
        output.note(f"export KUBECONFIG={cluster.server.kubeconfig_path}")
        stop.wait()
        return 0
    except Exception:
        logging.getLogger(__name__).exception("podwall failed")
        return 1
    finally:
        daemon.remove_ready(state)
        cluster.stop()
        lock.release()


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument(
        "--kubeconfig",
        type=file_path,
        default=None,
        metavar="FILE",
        help="Show the node agents of this cluster instead of the local one.",
    )
    parser.add_argument(
        "--context", default=None, metavar="TEXT", help="Kubeconfig context (with --kubeconfig)."
    )


def _status(args: argparse.Namespace) -> None:
    status(state_dir=args.state_dir, kubeconfig=args.kubeconfig, context=args.context)


def status(*, state_dir: Path | None, kubeconfig: Path | None, context: str | None) -> None:
    """Whether a local cluster runs (its pid, URL, kubeconfig and pods), and the node
    agents of a cluster: from their Leases, alive or down, lag, policies enforced.

      podwall status                   # the local cluster (exit 3: none runs)
      podwall status --kubeconfig ~/.kube/config   # a real cluster's agents
    """
    from podwall.cli import agent

    if kubeconfig is not None:
        for text in agent.cluster_agents(kubeconfig, context, agent.LEASE_NAMESPACE):
            output.line(text)
        return
    state = _state(state_dir)
    pid = daemon.locked_pid(state)
    if pid is None:
        output.line("podwall is not running")
        _note_leftovers(state)
        raise SystemExit(3)
    ready = daemon.read_ready(state)
    if ready is None:
        output.line(f"podwall is starting (pid {pid})")
        return
    output.line(f"podwall is running (pid {pid})")
    output.line(f"  server:     {ready.url}")
    output.line(f"  kubeconfig: {ready.kubeconfig}")
    try:
        nodes = daemon.api_get(ready, state, "/api/v1/nodes")["items"]
        pods = daemon.api_get(ready, state, "/api/v1/pods")["items"]
    except OSError as exc:
        output.line(f"  nodes:      unknown ({exc})")
        return
    output.line(f"  nodes:      {len(nodes)}")
    for line in node_lines(nodes):
        output.line(f"    {line}")
    output.line(f"  pods:       {len(pods)}")
    for line in pod_lines(pods):
        output.line(f"    {line}")
    try:
        leases = daemon.api_get(ready, state, agent.leases_path())["items"]
    except OSError as exc:
        output.line(f"  agents:     unknown ({exc})")
        return
    first, *rest = agent.agents_lines(leases, datetime.now(UTC), agent.LEASE_NAMESPACE)
    output.line(f"  {first}")
    for text in rest:
        output.line(f"    {text}")


STATUS = Command(status.__doc__, _status_arguments, _status)


def pod_lines(pods: list[dict[str, Any]]) -> list[str]:
    """One line per pod, in columns: ns/name, phase, address, node."""
    rows = []
    for pod in pods:
        meta, pod_status = pod["metadata"], pod.get("status") or {}
        rows.append(
            (
                f"{meta['namespace']}/{meta['name']}",
                pod_status.get("phase", ""),
                pod_status.get("podIP", ""),
                (pod.get("spec") or {}).get("nodeName", ""),
            )
        )
    return _aligned(rows)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as lines in columns two spaces apart, each as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def node_lines(nodes: list[dict[str, Any]]) -> list[str]:
    """One line per node, in columns: its name, Ready or not, its address on the underlay."""
    rows = []
    for node in nodes:
        status = node.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or ()
        )
        address = next(
            (a["address"] for a in status.get("addresses") or () if a.get("type") == "InternalIP"),
            "",
        )
        rows.append((node["metadata"]["name"], "Ready" if ready else "NotReady", address))
    return _aligned(rows)


def _note_leftovers(state: Path) -> None:
    """A cluster killed without `podwall down` leaves its pods running: say so."""
    from podwall.runtime import names
    from podwall.runtime.netns import leftovers

    path = state / "cluster-id"
    if not path.exists():
        return
    found = leftovers(names.cluster_prefix(path.read_text().strip()))
    if found:
        output.note(
            f"{len(found)} namespace(s) of its last run remain; `podwall down` removes them"
        )


def kubeconfig(*, state_dir: Path | None) -> None:
    """Print the path of the local cluster's kubeconfig.

    export KUBECONFIG=$(podwall kubeconfig)
    """
    path = _state(state_dir) / "kubeconfig"
    if not path.exists():  # still printed: `$(podwall kubeconfig)` before `podwall up` is fine
        output.note(f"{path} does not exist yet: `podwall up` writes it")
    _echo(str(path))


KUBECONFIG = Command(
    kubeconfig.__doc__, add_state_dir, lambda args: kubeconfig(state_dir=args.state_dir)
)
