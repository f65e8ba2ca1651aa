"""Flows from real packets in a probe sandbox: the tutorial's verdicts as the nodes report
them, audit mode letting through what it would deny, and the rate limit counting its losses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from podwall.flows.flow import Flow, Verdict
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.nft.flowlog import FlowLog
from podwall.runtime.probe import Session
from tests.flowchecks import flow_mismatch

TUTORIAL = Path(__file__).parents[3] / "examples" / "tutorial"
LAB = TUTORIAL / "simple-app.yaml"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"
AUDIT = {"podwall.dev/enforcement": "audit"}


def _cluster(*paths: Path, audit: bool = False) -> Cluster:
    import yaml

    docs = [d for p in paths for d in yaml.safe_load_all(p.read_text()) if d]
    for doc in docs:
        if audit and doc["kind"] == "NetworkPolicy":
            doc["metadata"]["annotations"] = AUDIT
    return convert_cluster(RawObject(body=d) for d in docs).cluster


def _probe(session: Session) -> tuple[dict[tuple[str, str], bool], list[Flow]]:
    seen = max((f.time for f in session.flows()), default=0.0)
    probes, _ = session.probe_pods(timeout=1.0, only=(8080, Protocol.TCP))
    observed = {(p.src, p.dst): bool(p.observed) for p in probes}
    return observed, [f for f in session.flows() if f.time > seen]


@pytest.mark.netns
@pytest.mark.slow
def test_the_tutorial_as_the_nodes_report_it() -> None:
    with Session(_cluster(LAB, DENY, ALLOW), nodes=2, flow_log=FlowLog(), progress=print) as s:
        s.start()
        observed, flows = _probe(s)
    into_backend = {f.source.key: f for f in flows if f.destination.key == "default/backend"}
    assert observed[("default/frontend", "default/backend")]
    assert into_backend["default/frontend"].verdict is Verdict.ALLOWED
    assert into_backend["default/frontend"].reason == (
        "allowed by default/backend-allow-ingress-frontend ingress[0] from[0]"
    )
    assert not observed[("default/not-frontend", "default/backend")]
    assert into_backend["default/not-frontend"].verdict is Verdict.DENIED
    assert [m for f in flows if (m := flow_mismatch(s.cluster, f))] == []


@pytest.mark.netns
@pytest.mark.slow
def test_audit_mode_lets_through_what_it_would_deny_and_says_so() -> None:
    cluster = _cluster(LAB, DENY, audit=True)
    with Session(cluster, flow_log=FlowLog(), progress=print) as s:
        s.start()
        observed, flows = _probe(s)
        denied_before = s.cluster
    assert observed[("default/not-frontend", "default/backend")]  # audit: not enforced
    audited = [f for f in flows if f.verdict is Verdict.AUDIT]
    assert {f.source.key for f in audited} == {"default/frontend", "default/not-frontend"}
    assert audited[0].reason == (
        "would be denied by the default deny of default/backend-ingress-deny"
        " (audit mode: let through)"
    )
    assert [m for f in flows if (m := flow_mismatch(denied_before, f))] == []


@pytest.mark.netns
@pytest.mark.slow
def test_past_the_rate_limit_the_verdict_holds_and_the_loss_is_counted() -> None:
    with Session(_cluster(LAB, DENY), flow_log=FlowLog(rate=1, burst=1), progress=print) as s:
        s.start()
        for _ in range(3):
            _probe(s)
            time.sleep(0.1)
        (node,) = s.sandbox.nodes.values()
        assert node.flows is not None
        lost = node.flows.lost_to_limits()
        observed, flows = _probe(s)
    assert not observed[("default/frontend", "default/backend")]  # still denied
    assert lost["DENIED"] > 0
    assert len([f for f in flows if f.verdict is Verdict.DENIED]) <= 2
