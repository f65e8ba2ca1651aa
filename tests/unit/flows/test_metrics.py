from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from podwall.flows.flow import Verdict
from podwall.flows.metrics import FlowMetrics
from podwall.model.policy import Direction
from tests.unit.flows.samples import flow


def _exposition(metrics: FlowMetrics, registry: CollectorRegistry) -> str:
    del metrics
    return generate_latest(registry).decode()


def test_connections_count_by_policy_and_rule_and_losses_are_read_at_scrape() -> None:
    registry = CollectorRegistry()
    metrics = FlowMetrics(registry)
    metrics.observe(flow())
    metrics.observe(flow())
    metrics.observe(flow(verdict=Verdict.DENIED, policies=("default/a", "default/b")))
    metrics.observe(flow(direction=Direction.EGRESS, verdict=Verdict.AUDIT, policies=("x/t",)))
    metrics.watch(
        lost_to_limits=lambda: {"ALLOWED": 3, "DENIED": 5},
        socket_lost=lambda: 2,
        retransmissions=lambda: 7,
    )
    text = _exposition(metrics, registry)
    for line in (
        'podwall_flow_connections_total{direction="ingress",namespace="default",policy="backend-allow-ingress-frontend",rule="0",verdict="ALLOWED"} 2.0',
        'podwall_flow_connections_total{direction="ingress",namespace="default",policy="a",rule="default-deny",verdict="DENIED"} 1.0',
        'podwall_flow_connections_total{direction="ingress",namespace="default",policy="b",rule="default-deny",verdict="DENIED"} 1.0',
        'podwall_flow_connections_total{direction="egress",namespace="x",policy="t",rule="audit",verdict="AUDIT"} 1.0',
        'podwall_flow_log_lost_total{reason="rate-limit",verdict="DENIED"} 5.0',
        'podwall_flow_log_lost_total{reason="socket",verdict=""} 2.0',
        "podwall_flow_retransmissions_total 7.0",
    ):
        assert line in text.splitlines(), line


def test_an_unattributed_flow_is_counted_apart() -> None:
    registry = CollectorRegistry()
    metrics = FlowMetrics(registry)
    from dataclasses import replace

    metrics.observe(replace(flow(verdict=Verdict.DENIED), attributed=False, policies=()))
    text = _exposition(metrics, registry)
    assert 'podwall_flow_unattributed_total{direction="ingress",verdict="DENIED"} 1.0' in text
    assert "podwall_flow_connections_total{" not in text
