"""`podwall agent` for real: a process, an API server, nftables in a network namespace.

What the API holds reaches `nft list table inet podwall`; a killed agent leaves its rules in
force and the next one replaces them with no open moment; the agent rides out an API server
restart; SIGTERM keeps the rules and `--cleanup` removes the agent's table (and nothing else);
a missing capability is one line and exit status 2.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from podwall.agent.lease import AgentStatus
from tests.integration.agent.conftest import (
    AgentProcess,
    Cluster,
    isolated,
    kill9,
    nft,
    settle,
)
from tests.unit.agent.apiserver import LEASE_NAMESPACE, wait_for
from tests.unit.agent.objects import DENY_ALL, pod, policy

pytestmark = [pytest.mark.netns, pytest.mark.slow]

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


def test_what_the_api_holds_is_enforced_in_the_namespace(
    cluster: Cluster, agent: AgentProcess, netns: str
) -> None:
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.pod(pod("client", "198.18.0.6", app="client"))
    cluster.api.pod(pod("far", "198.18.1.5", node="node-2", app="web"))
    agent.start()
    assert "elements" not in isolated(netns)  # no policy: nothing isolated
    cluster.api.create(DENY_WEB)
    wait_for(lambda: "198.18.0.5 : jump" in isolated(netns), "web isolated")
    assert "198.18.1.5" not in isolated(netns)  # another node's pod: isolated there, not here
    cluster.api.create(ALLOW_CLIENT)
    table = lambda: nft(netns, "list", "table", "inet", "podwall").stdout  # noqa: E731
    wait_for(lambda: "default/allow-client" in table(), "the allow rule")
    assert "198.18.0.6" in table()  # the client's address, the peer the rule admits
    cluster.api.delete(DENY_WEB)
    cluster.api.delete(ALLOW_CLIENT)
    wait_for(lambda: "elements" not in isolated(netns), "web open again")


def test_status_lists_the_agent_from_its_lease(cluster: Cluster, agent: AgentProcess) -> None:
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.create(DENY_WEB)
    agent.start()
    path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases/node-1"
    wait_for(lambda: AgentStatus.parse(cluster.api.get(path)).enforcement.ready, "the Lease")
    done = subprocess.run(
        [sys.executable, "-m", "podwall", "status", "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True,
        text=True,
        check=True,
    )
    row = next(line.split() for line in done.stdout.splitlines() if line.startswith("node-1"))
    assert row[1] == "alive"
    assert row[-3:] == ["1", "1", "-"]  # 1 policy, 1 pod of this node, no error


class Watcher:
    """Lists the isolation map again and again (bounded), recording what each listing held
    and when it was taken."""

    def __init__(self, netns: str) -> None:
        self.netns = netns
        self.listings: list[str] = []
        self.taken: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            self.listings.append(isolated(self.netns))
            self.taken.append(started)
            if len(self.listings) > 20_000:
                return

    def since(self, moment: float) -> int:
        """How many listings began after `moment`."""
        return sum(1 for at in list(self.taken) if at > moment)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def test_a_killed_agent_leaves_its_rules_and_the_next_one_takes_over_with_no_open_moment(
    cluster: Cluster, agent: AgentProcess, netns: str
) -> None:
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.create(DENY_WEB)
    agent.start()
    wait_for(lambda: "198.18.0.5 : jump" in isolated(netns), "web isolated")
    # The watcher must have looked in each window, however slowly a loaded machine lets it
    # list: waited for, listing by listing, rather than sleeps and a count at the end.
    with Watcher(netns) as watcher:
        kill9(agent)
        killed = time.monotonic()
        cluster.api.pod(pod("web-2", "198.18.0.7", app="web"))  # while no agent runs
        wait_for(lambda: watcher.since(killed) >= 10, "listings while no agent runs")
        assert "198.18.0.7" not in isolated(netns)
        restarted = time.monotonic()
        agent.start()
        wait_for(lambda: "198.18.0.7 : jump" in isolated(netns), "the new pod isolated")
        wait_for(lambda: watcher.since(restarted) >= 10, "listings across the restart")
    open_moments = [n for n, text in enumerate(watcher.listings) if "198.18.0.5 : jump" not in text]
    assert open_moments == [], f"web was not isolated in listings {open_moments[:10]}"


def test_the_agent_rides_out_an_api_server_restart(
    cluster: Cluster, agent: AgentProcess, netns: str
) -> None:
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.create(DENY_WEB)
    agent.start()
    wait_for(lambda: "198.18.0.5 : jump" in isolated(netns), "web isolated")
    cluster.stop()
    settle(1.5)
    assert agent.process is not None
    assert agent.process.poll() is None
    assert "198.18.0.5 : jump" in isolated(netns)  # the last state stays enforced
    assert agent.get("/healthz") == 200
    cluster.start()
    cluster.api.pod(pod("web-2", "198.18.0.7", app="web"))
    wait_for(lambda: "198.18.0.7 : jump" in isolated(netns), "the change made after the restart")
    assert "watch failed kind=" in agent.output()


def test_sigterm_keeps_the_rules_and_cleanup_removes_only_the_agent_s_table(
    cluster: Cluster, agent: AgentProcess, netns: str
) -> None:
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.create(DENY_WEB)
    nft(netns, "add", "table", "inet", "someone-else")
    agent.start()
    wait_for(lambda: "198.18.0.5 : jump" in isolated(netns), "web isolated")
    assert agent.signal(signal.SIGTERM) == 0
    assert "198.18.0.5 : jump" in isolated(netns)
    for _ in range(2):  # a second cleanup finds nothing to remove, and says so calmly
        done = subprocess.run(
            [sys.executable, "-m", "podwall", "agent", "--cleanup", "--netns", netns],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    tables = nft(netns, "list", "tables").stdout
    assert "podwall" not in tables
    assert "table inet someone-else" in tables


def test_without_net_admin_the_agent_says_so_and_applies_nothing(
    cluster: Cluster, agent: AgentProcess, netns: str
) -> None:
    drop = ["setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"]
    done = subprocess.run(
        [*drop, *agent.argv()], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "needs CAP_NET_ADMIN" in errors[0]
    assert nft(netns, "list", "tables").stdout == ""
