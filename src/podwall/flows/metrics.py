"""Prometheus metrics of a node's flows: connections by verdict, policy and rule, and losses.

- `podwall_flow_connections_total{namespace,policy,direction,verdict,rule}`: connections
  reported, per deciding policy (`namespace` and `policy` its name; a default deny or audit
  counts once under each isolating policy, `rule` `default-deny` or `audit`; an admitting
  rule by its index in the policy's ingress or egress list);
- `podwall_flow_unattributed_total{direction,verdict}`: reported with a tag this node did not
  know (its policy is not guessed);
- `podwall_flow_log_lost_total{reason}`: connections decided but not reported: `rate-limit`
  (counted by the ruleset, read at scrape time, by verdict in `verdict`), `socket` (the
  reader's buffer overflowed: gaps in the kernel's sequence numbers);
- `podwall_flow_retransmissions_total`: repeated first packets folded into their connection.

The registry is the caller's (the agent's, or one per node in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from podwall.flows.flow import Flow

LostToLimits = Callable[[], dict[str, int]]


def rule_label(flow: Flow) -> str:
    if flow.rule is not None:
        return str(flow.rule.index)
    return "audit" if flow.verdict == "AUDIT" else "default-deny"


class FlowMetrics:
    """Counts flows as they come (`observe`); reads losses when scraped."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.connections = Counter(
            "podwall_flow_connections",
            "New connections reported, by the policy and rule that decided them.",
            ["namespace", "policy", "direction", "verdict", "rule"],
            registry=registry,
        )
        self.unattributed = Counter(
            "podwall_flow_unattributed",
            "New connections reported with a log tag this node does not know.",
            ["direction", "verdict"],
            registry=registry,
        )
        self._losses = _Losses()
        registry.register(self._losses)

    def observe(self, flow: Flow) -> None:
        direction, verdict = flow.direction.value, flow.verdict.value
        if not flow.attributed:
            self.unattributed.labels(direction=direction, verdict=verdict).inc()
            return
        rule = rule_label(flow)
        for key in flow.policies:
            namespace, _, name = key.rpartition("/")
            self.connections.labels(
                namespace=namespace, policy=name, direction=direction, verdict=verdict, rule=rule
            ).inc()

    def watch(
        self,
        *,
        lost_to_limits: LostToLimits,
        socket_lost: Callable[[], int],
        retransmissions: Callable[[], int],
    ) -> None:
        """Where the losses are read at each scrape (a node's counters)."""
        self._losses.sources.append((lost_to_limits, socket_lost, retransmissions))


class _Losses(Collector):
    def __init__(self) -> None:
        self.sources: list[tuple[LostToLimits, Callable[[], int], Callable[[], int]]] = []

    def collect(self) -> Iterator[Any]:
        lost = CounterMetricFamily(
            "podwall_flow_log_lost",
            "Connections decided but not reported, by why.",
            labels=["reason", "verdict"],
        )
        again = CounterMetricFamily(
            "podwall_flow_retransmissions",
            "Repeated first packets of a connection, reported once.",
        )
        by_verdict: dict[str, int] = {}
        socket = retransmitted = 0
        for limits, socket_lost, retransmissions in self.sources:
            for verdict, count in limits().items():
                by_verdict[verdict] = by_verdict.get(verdict, 0) + count
            socket += socket_lost()
            retransmitted += retransmissions()
        for verdict, count in sorted(by_verdict.items()):
            lost.add_metric(["rate-limit", verdict], count)
        lost.add_metric(["socket", ""], socket)
        again.add_metric([], retransmitted)
        yield lost
        yield again
