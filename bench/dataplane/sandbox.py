"""A throw-away node namespace (podwall's NodeSandbox) with a server and a client pod.

Everything made here is removed by name (namespaces, veths) or PID (processes) on the way out,
even after an error or Ctrl-C. Names start with `pw-b`, so `podwall down --force` also finds
leftovers of an interrupted run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwall.nft import runner
from podwall.runtime.netns import NodeSandbox, PodNetwork, run_in_netns

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER_KEY = "pwbench/server"
CLIENT_KEY = "pwbench/client"
SERVER_IP = ipaddress.IPv4Address("198.18.250.2")
CLIENT_IP = ipaddress.IPv4Address("198.18.250.3")
# Seconds a server or client agent may live at most (the traffic phase takes ~3 minutes; the
# benchmark kills them by PID well before, this only bounds a run that was itself killed).
LIFETIME = 900


@contextlib.contextmanager
def node() -> Iterator[NodeSandbox]:
    """A fresh, empty node namespace `pw-b<6 hex>-n0` (so an empty conntrack table)."""
    sandbox = NodeSandbox(cluster_id="b" + secrets.token_hex(3), node="n0")
    try:
        sandbox.create()
        yield sandbox
    finally:
        sandbox.destroy()


@dataclass(frozen=True, slots=True)
class Pair:
    node: str
    server: PodNetwork
    client: PodNetwork


@contextlib.contextmanager
def pair(script: str | None) -> Iterator[Pair]:
    """A node with `script` loaded (None: no ruleset) and two pods without TIME_WAIT."""
    with node() as sandbox:
        server = sandbox.add_pod(SERVER_KEY, SERVER_IP)
        client = sandbox.add_pod(CLIENT_KEY, CLIENT_IP)
        for pod in (server, client):
            run_in_netns(pod.netns, _no_time_wait)
        if script is not None:
            runner.run(script, netns=sandbox.netns)
        yield Pair(sandbox.netns, server, client)


def _no_time_wait() -> None:
    # Runs in a worker thread inside a pod namespace of ours (see run_in_netns).
    Path("/proc/sys/net/ipv4/tcp_max_tw_buckets").write_text("0")


def _tcp_argv(netns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", netns, sys.executable, "-m", "bench.dataplane.tcp", *args]


@contextlib.contextmanager
def server(netns: str, port: int, kind: str, procs: int) -> Iterator[None]:
    """A `tcp serve` process group in `netns`, ready when entered, killed by PID on exit."""
    argv = _tcp_argv(netns, "serve", "--port", str(port), "--kind", kind)
    argv += ["--procs", str(procs), "--lifetime", str(LIFETIME)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True)
    try:
        _wait_ready(proc)
        yield
    finally:
        _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10.0)
    line = proc.stdout.readline() if ready else b""
    if b"ready" not in line:
        raise RuntimeError(f"server did not start (exit {proc.poll()})")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The server forked its workers into its own session: its process group id is its PID.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


class Agent:
    """A `tcp agent` process group in a client pod: one JSON answer per command line."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def ask(self, command: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(f"tcp agent gave no answer to {command!r} (exit {self.proc.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer


@contextlib.contextmanager
def agent(netns: str, host: str, ports: tuple[int, int], procs: int) -> Iterator[Agent]:
    """A client agent in `netns` aimed at `host`, killed by PID (its group) on exit."""
    argv = _tcp_argv(netns, "agent", "--host", host, "--port", str(ports[0]))
    argv += ["--bulk-port", str(ports[1]), "--procs", str(procs), "--lifetime", str(LIFETIME)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        yield Agent(proc)
    finally:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        _stop(proc)


def client(netns: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run `tcp ARGS` in `netns` to completion (killed after `timeout`); its JSON answer."""
    proc = subprocess.Popen(
        _tcp_argv(netns, *args), cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        _stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"tcp {args[0]} exited {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def settle(seconds: float = 0.2) -> None:
    """A short pause between runs (lets softirq work and freed sockets drain)."""
    time.sleep(seconds)
