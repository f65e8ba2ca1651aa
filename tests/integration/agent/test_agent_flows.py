"""`podwall agent` reports flows on a real node: real packets between pods of a network
namespace standing for the node, the agent a process programming and reading it; `/flows`
serves them attributed, `/metrics` counts them per policy and rule, and `podwall observe
--agent` reads them. A bounded SYN flood then shows every connection accounted for: reported,
folded into an earlier one, or counted as lost to the rate limit."""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.flows.flood import flood

from podwall.flows.reader import NflogReader
from podwall.model.ports import Protocol
from podwall.nft.flowlog import FlowLog
from podwall.runtime import connect, images
from podwall.runtime.names import random_cluster_id
from podwall.runtime.namespaces import run_in_netns
from podwall.runtime.node import ContainerPlan, Node, PodPlan
from podwall.runtime.probe import AGNHOST
from tests.clirunner import invoke
from tests.integration.agent.conftest import AgentProcess, Cluster
from tests.unit.agent.apiserver import wait_for
from tests.unit.agent.objects import DENY_ALL, pod, policy

pytestmark = [pytest.mark.netns, pytest.mark.slow]

WEB, CLIENT, OTHER = "198.18.0.3", "198.18.0.2", "198.18.0.4"
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
ALLOWED_MADE, DENIED_MADE = 3, 2
FLOOD_PACKETS, FLOOD_SECONDS = 2000, 2.0  # bounded both ways, inside the node's namespace


def _plan(name: str, ip: str) -> PodPlan:
    spec = images.ContainerSpec(image=AGNHOST, args=("serve", "--tcp-ports", "80,8080"))
    container = ContainerPlan(name="c", image=AGNHOST, env={}, launch=images.resolve(spec))
    return PodPlan(
        namespace="default", name=name, ip=ipaddress.IPv4Address(ip), containers=(container,)
    )


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """The node's namespace and its pods' (the agent, not this Node, programs and reads it)."""
    cluster_id = random_cluster_id()
    made = Node(
        cluster_id,
        run_dir=tmp_path / "run" / cluster_id,
        log_dir=tmp_path / "logs",
        node_name="node-1",
        read_flows=False,
    )
    try:
        made.start(adopt=False)
        yield made
    finally:
        made.stop()


def _connect(node: Node, source: str, port: int) -> bool:
    attempt = connect.Attempt(
        netns=node.pods[f"default/{source}"].netns, address=WEB, port=port, protocol=Protocol.TCP
    )
    return connect.try_once(attempt, timeout=0.5)


def _get(url: str) -> tuple[str, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode(), dict(reply.headers.items())


def _flows(url: str) -> list[dict[str, object]]:
    body, _ = _get(url + "/flows")
    lines = [json.loads(line) for line in body.splitlines()]
    return [line for line in lines if "serviceHop" not in line]


def _sample(metrics: str, **labels: str) -> float:
    """The value of `podwall_flow_connections_total` with exactly these labels."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(
        rf"^podwall_flow_connections_total\{{{re.escape(wanted)}\}} (\S+)$", metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


def _value(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    series = f"{name}{{{wanted}}}" if labels else name
    found = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


def _accounted(metrics: str) -> tuple[float, float]:
    """Denied connections reported, folded and lost to the limit; and those lost."""
    reported = _sample(
        metrics, namespace="default", direction="ingress", policy="deny-web",
        rule="default-deny", verdict="DENIED",
    )  # fmt: skip
    folded = _value(metrics, "podwall_flow_retransmissions_total")
    lost = _value(metrics, "podwall_flow_log_lost_total", reason="rate-limit", verdict="DENIED")
    return reported + folded + lost, lost


def test_the_agent_serves_its_node_s_flows_attributed_and_counted(
    cluster: Cluster, node: Node, tmp_path: Path
) -> None:
    for name, ip, app in (("web", WEB, "web"), ("client", CLIENT, "client"), ("other", OTHER, "x")):
        cluster.api.pod(pod(name, ip, app=app))
    cluster.api.create(DENY_WEB)
    cluster.api.create(ALLOW_CLIENT)
    agent = AgentProcess(cluster, node.sandbox.netns, tmp_path / "agent.log")
    try:
        agent.start()
        for name, ip in (("web", WEB), ("client", CLIENT), ("other", OTHER)):
            node.start_pod(_plan(name, ip))
        wait_for(lambda: node.listening("default/web", (80, 8080)), "web listening")
        allowed = sum(_connect(node, "client", 80) for _ in range(ALLOWED_MADE))
        denied = [_connect(node, "client", 8080), _connect(node, "other", 80)]
        assert (allowed, denied) == (ALLOWED_MADE, [False] * DENIED_MADE)
        expected = ALLOWED_MADE + DENIED_MADE
        wait_for(lambda: len(_flows(agent.url)) >= expected, "the flows served")
        flows = _flows(agent.url)
        metrics, _ = _get(agent.url + "/metrics")
        result = invoke(["observe", "--agent", agent.url, "--verdict", "DENIED"])
        flooder = node.pods["default/other"].netns
        sent, _ = run_in_netns(flooder, lambda: flood(WEB, 8080, FLOOD_SECONDS, FLOOD_PACKETS))
        # Each SYN is a new connection the default deny drops: reported (a flow), folded into
        # an earlier one (the same random source port twice), or past the limit (counted).
        accounted = lambda: _accounted(_get(agent.url + "/metrics")[0])  # noqa: E731
        wait_for(lambda: accounted()[0] == sent + DENIED_MADE, "every SYN accounted for")
        _, lost = accounted()
    finally:
        agent.close()
    reasons = sorted(str(f["reason"]) for f in flows)
    both = "default/allow-client, default/deny-web"
    assert reasons == sorted(
        ["allowed by default/allow-client ingress[0] from[0]"] * ALLOWED_MADE
        + [f"denied by the default deny of {both}"] * DENIED_MADE
    ), reasons
    sources = sorted(str(f["source"]["pod"]) for f in flows if f["verdict"] == "DENIED")  # type: ignore[index]
    assert sources == ["client", "other"]
    common = {"namespace": "default", "direction": "ingress"}
    assert _sample(metrics, **common, policy="allow-client", rule="0", verdict="ALLOWED") == 3
    for name in ("allow-client", "deny-web"):
        assert _sample(metrics, **common, policy=name, rule="default-deny", verdict="DENIED") == 2
    assert 'podwall_flow_log_lost_total{reason="rate-limit",verdict="DENIED"} 0.0' in metrics
    assert result.exit_code == 0
    assert result.output.count("INGRESS DENIED") == DENIED_MADE, result.output
    assert sent > FlowLog().burst
    assert lost >= sent - FlowLog().burst - FlowLog().rate * FLOOD_SECONDS * 2  # the limit held


def test_a_busy_log_group_is_retried_until_the_agent_reads_it(
    cluster: Cluster, netns: str, tmp_path: Path
) -> None:
    """Another socket holds the node's log group when the agent starts: the agent enforces,
    /flows says why (503), and once the group is free the agent binds it by itself."""
    holder = NflogReader(FlowLog().group, functools.partial(run_in_netns, netns), name=netns)
    agent = AgentProcess(cluster, netns, tmp_path / "agent.log")
    try:
        agent.start()
        assert agent.get("/flows") == 503
        assert "already read by another socket" in agent.output()
        holder.close()
        wait_for(lambda: agent.get("/flows") == 200, "/flows once the group is free")
        assert "reading the flow log in network namespace" in agent.output()
    finally:
        holder.close()
        agent.close()
