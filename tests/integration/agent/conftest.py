"""The agent as a process, against podwall's API server in this process, programming a network
namespace each test creates and removes (never this machine's own)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import podwall
from podwall.apiserver.server import Server
from tests.unit.agent.apiserver import LEASE_NAMESPACE, Api, wait_for
from tests.unit.agent.objects import namespace

SRC = Path(podwall.__file__).resolve().parents[1]
SERVING = re.compile(r"serving /healthz /readyz /metrics on (http://127\.0\.0\.1:\d+)")


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def nft(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", netns, "nft", *args], capture_output=True, text=True, check=False
    )


def isolated(netns: str) -> str:
    """The ingress verdict map's listing ('' when the table is missing)."""
    done = nft(netns, "list", "map", "inet", "podwall", "in-pods")
    return done.stdout if done.returncode == 0 else ""


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"pw-test-{secrets.token_hex(3)}"
    ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


class Cluster:
    """An API server that can be stopped and started again on the same port."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.server: Server | None = Server(state, 0)
        self.server.start()
        self.port = self.server.port
        self.kubeconfig = self.server.kubeconfig_path
        self.api = Api(self.kubeconfig)
        self.api.create(namespace(LEASE_NAMESPACE))

    def stop(self) -> None:
        self.api.close()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start(self) -> None:
        self.server = Server(self.state, self.port)
        self.server.start()
        self.api = Api(self.kubeconfig)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path / "state")
    try:
        yield running
    finally:
        running.stop()


class AgentProcess:
    """`podwall agent` for node-1 in `netns`; stopped by pid, whatever happens."""

    def __init__(self, cluster: Cluster, netns: str, log: Path) -> None:
        self.cluster = cluster
        self.netns = netns
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._seen = 0

    def argv(self, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "podwall", "agent",
            "--kubeconfig", str(self.cluster.kubeconfig), "--node-name", "node-1",
            "--netns", self.netns, "--metrics-port", "0", "--max-backoff", "1",
            *extra,
        ]  # fmt: skip

    def start(self) -> None:
        self._seen = len(SERVING.findall(self.output())) if self.log.exists() else 0
        env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv(), stdout=out, stderr=subprocess.STDOUT, env=env
            )
        wait_for(self._serving, "the agent's HTTP port")
        wait_for(self.ready, "the agent's first sync")

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the agent exited {self.process.returncode}:\n{self.output()}")
        found = SERVING.findall(self.output())[self._seen :]  # this process's line
        self.url = found[-1] if found else ""
        return bool(found)

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    def ready(self) -> bool:
        return self.get("/readyz") == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=20)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def agent(cluster: Cluster, netns: str, tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(cluster, netns, tmp_path / "agent.log")
    try:
        yield process
    finally:
        process.close()


def kill9(agent: AgentProcess) -> None:
    assert agent.signal(signal.SIGKILL) == -signal.SIGKILL


def settle(seconds: float) -> None:
    time.sleep(seconds)
