"""Fail closed on real packets: a client probes an isolated pod without pause while policies
stream in, the agent is killed with SIGKILL in the middle of the stream and started again.

The node is a sandbox node (a network namespace routing between its pods' namespaces, as a
routed-veth CNI does); the agent programs it as it would a real node. No connection from the
client may open until a policy admits it, and once one does, the probe sees it open: the probe
can fail both ways.
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.runtime.netns import NodeSandbox
from tests.integration.agent.conftest import AgentProcess, Cluster, isolated, kill9
from tests.unit.agent.apiserver import wait_for
from tests.unit.agent.objects import DENY_ALL, pod, policy

pytestmark = [pytest.mark.netns, pytest.mark.slow]

WEB, CLIENT = "198.18.0.5", "198.18.0.6"
DENY_WEB = policy("deny-web", {**DENY_ALL, "podSelector": {"matchLabels": {"app": "web"}}})
ALLOW_CLIENT = policy(
    "allow-client",
    {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": 80}]}
        ],
    },
)

# Accepts and closes, for at most `limit` seconds.
LISTENER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(64); s.settimeout(0.5)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        c, _ = s.accept(); c.close()
    except OSError:
        pass
"""

# One TCP connect every 20 ms (bounded in count and time): "open <t>" or "closed <t>" a line,
# t on the machine-wide monotonic clock the test reads too.
PROBER = """
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[2])
for _ in range(6000):
    if time.monotonic() > deadline:
        break
    s = socket.socket(); s.settimeout(0.15)
    try:
        s.connect((sys.argv[1], 80)); print("open", time.monotonic(), flush=True)
    except OSError:
        print("closed", time.monotonic(), flush=True)
    finally:
        s.close()
    time.sleep(0.02)
"""


def _in_netns(netns: str, program: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c", program, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop by pid (whatever happened) and return what it printed."""
    if process.poll() is None:
        process.kill()
    out, _ = process.communicate(timeout=20)
    return out


class Probe:
    """The prober's (state, time) results, read as it prints them, so the test can wait for
    what it needs to have seen instead of sleeping a guess."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.results: list[tuple[str, float]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            state, _, at = line.partition(" ")
            self.results.append((state, float(at)))

    def opened_after(self, moment: float) -> bool:
        return any(state == "open" and at > moment for state, at in list(self.results))

    def stop(self) -> list[tuple[str, float]]:
        """Stop by pid (whatever happened); every result it printed."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=20)
        self._reader.join(timeout=20)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.results


@pytest.fixture
def node() -> Iterator[NodeSandbox]:
    sandbox = NodeSandbox(secrets.token_hex(3), "node-1")
    try:
        sandbox.create()
        sandbox.add_pod("default/web", ipaddress.IPv4Address(WEB))
        sandbox.add_pod("default/client", ipaddress.IPv4Address(CLIENT))
        yield sandbox
    finally:
        sandbox.destroy()


class PolicyStream:
    """Creates unrelated policies for `web` one after another (bounded) until stopped."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.created = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        deadline = time.monotonic() + 60
        for n in range(300):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            peer = {"podSelector": {"matchLabels": {"app": f"other-{n}"}}}
            spec = {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [peer]}]}
            try:
                self.cluster.api.create(policy(f"other-{n}", spec))
            except Exception:  # the API server is up throughout; a refusal ends the stream
                return
            self.created += 1
            time.sleep(0.01)


def test_a_pod_stays_closed_on_real_packets_across_a_kill_during_a_policy_stream(
    cluster: Cluster, node: NodeSandbox, tmp_path: Path
) -> None:
    pods = node.pods()
    cluster.api.pod(pod("web", WEB, app="web"))
    cluster.api.pod(pod("client", CLIENT, app="client"))
    cluster.api.create(DENY_WEB)
    agent = AgentProcess(cluster, node.netns, tmp_path / "agent.log")
    listener = _in_netns(pods["default/web"].netns, LISTENER, "90")
    prober: Probe | None = None
    try:
        agent.start()
        wait_for(lambda: f"{WEB} : jump" in isolated(node.netns), "web isolated")
        prober = probe = Probe(_in_netns(pods["default/client"].netns, PROBER, WEB, "80"))
        stream = PolicyStream(cluster)
        stream.thread.start()
        try:
            wait_for(lambda: stream.created >= 50, "the stream under way")
            kill9(agent)
            killed_at = time.monotonic()
            time.sleep(1.5)  # the stream goes on with no agent
            agent.start()
            restarted_at = time.monotonic()
            wait_for(lambda: stream.created >= 200 or not stream.thread.is_alive(), "more stream")
        finally:
            stream.stop.set()
            stream.thread.join(timeout=30)
        time.sleep(0.5)
        allowed_at = time.monotonic()
        cluster.api.create(ALLOW_CLIENT)
        wait_for(lambda: "default/allow-client" in _table(node.netns), "the allow rule")
        # Once the allow is loaded the next probe opens: wait for it (a sleep was a guess).
        wait_for(lambda: probe.opened_after(allowed_at), "the probe to see web open")
    finally:
        agent.close()
        results = prober.stop() if prober is not None else []
        _stop(listener)
    before = [state for state, at in results if at < allowed_at]
    after = [state for state, at in results if at > allowed_at]
    # The probe covered the whole story: before the kill, while no agent ran, after the restart.
    windows = {
        "before the kill": [s for s, at in results if at < killed_at],
        "while no agent ran": [s for s, at in results if killed_at < at < restarted_at],
        "after the restart": [s for s, at in results if restarted_at < at < allowed_at],
    }
    for window, attempts in windows.items():
        assert len(attempts) >= 2, f"the probe ran {len(attempts)} times {window}"
    assert "open" not in before, f"web opened before any policy allowed it: {before.count('open')}"
    assert "open" in after, "the allow never opened web: the probe could not have seen a leak"


def _table(netns: str) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "podwall"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout
