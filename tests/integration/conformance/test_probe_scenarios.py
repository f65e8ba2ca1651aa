"""The third backend: every upstream conformance scenario with real packets between network
namespaces, through `podwall probe`'s session. One sandbox per scenario and protocol; each step
is an incremental nft update of the running sandbox, as label and policy changes are upstream.
On a kernel without SCTP the SCTP cases are reported as skipped, with the reason; their TCP and
UDP neighbours still run.

The nodes report their verdicts as they decide (issue 10), so the same run holds the flows to
the engine: every flow a node reported names the verdict and the policy, rule and peer that
`decide()` names for that connection, and every side a policy decides was reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.nft.flowlog import FlowLog
from podwall.runtime.connect import sctp_supported
from podwall.runtime.probe import Probe, Session
from tests.conformance.scenario import (
    Scenario,
    Step,
    Table,
    disagreements,
    load_all,
    render_mismatch,
)
from tests.flowchecks import flow_completeness, flow_mismatch
from tests.integration.conformance.slowanswers import confirmed_probes

SCENARIOS = load_all()
# Rate limits no probe reaches, so every flow must be reported (the limit is tested apart).
UNLIMITED = FlowLog(rate=1_000_000, burst=1_000_000)


def _cluster(step: Step):  # type: ignore[no-untyped-def]
    return convert_cluster(RawObject(body=m) for m in step.manifests).cluster


NO_SCTP = "SCTP sockets are not available on this kernel"


def _cases() -> Iterator[Any]:
    """One case per scenario and protocol, so a kernel without SCTP skips only SCTP's part."""
    for scenario in SCENARIOS:
        for protocol in _protocols(scenario):
            yield pytest.param(scenario, protocol, id=f"{scenario.slug}[{protocol.value}]")


def _protocols(scenario: Scenario) -> list[Protocol]:
    wanted = {Protocol(e.protocol) for step in scenario.steps for e in step.expectations}
    return sorted(wanted, key=list(Protocol).index)


def _serve(scenario: Scenario, protocol: Protocol) -> list[tuple[int, Protocol]]:
    ports = {e.port for s in scenario.steps for e in s.expectations if e.protocol == protocol}
    return [(port, protocol) for port in sorted(ports)]


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "protocol"), _cases())
# Pods round-robin over 3 nodes: every scenario has same-node and cross-node pairs.
@pytest.mark.parametrize("nodes", [3], ids=["3-nodes"])
def test_real_packets_match_upstream(scenario: Scenario, protocol: Protocol, nodes: int) -> None:
    if protocol is Protocol.SCTP and not sctp_supported():
        pytest.skip(NO_SCTP)
    failures: list[str] = []
    serve = _serve(scenario, protocol)
    first = _cluster(scenario.steps[0])
    with Session(first, serve=serve, nodes=nodes, flow_log=UNLIMITED, progress=lambda _: None) as s:
        s.start()
        for step in scenario.steps:
            s.update(_cluster(step))
            seen = max((f.time for f in s.flows()), default=0.0)  # settled: the last step's
            probed: list[Probe] = []
            for exp in step.expectations:
                if exp.protocol != protocol:
                    continue
                probes, unsupported = s.probe_pods(timeout=1.0, only=(exp.port, protocol))
                assert not unsupported
                probes = confirmed_probes(
                    s, probes, lambda p, t=exp.table: t.get((p.src, p.dst), False)
                )
                probed += [p for p in probes if p.observed is not None]
                observed: Table = {(p.src, p.dst): bool(p.observed) for p in probes}
                observed.update({(pod, pod): True for pod in exp.pods})
                if disagreements(exp.pods, exp.table, observed):
                    failures.append(
                        f"step {step.number} {exp.protocol}/{exp.port}:\n"
                        + render_mismatch(exp.pods, exp.table, observed)
                    )
            flows = [f for f in s.flows() if f.time > seen]
            mismatches = [m for f in flows if (m := flow_mismatch(s.cluster, f)) is not None]
            mismatches += flow_completeness(s.cluster, probed, flows)
            failures += [f"step {step.number} flows: {m}" for m in sorted(set(mismatches))]
    assert not failures, f"{scenario.name} over {protocol.value}\n" + "\n".join(failures)


@pytest.mark.netns
def test_without_sctp_the_probe_reports_sctp_probes_as_not_run() -> None:
    """What the SCTP cases above rely on when they skip: the probe never counts an SCTP
    probe it could not run as a pass or a failure, and says so."""
    if sctp_supported():
        pytest.skip("this kernel has SCTP: the SCTP cases above run for real")
    scenario = next(s for s in SCENARIOS if _protocols(s) == [Protocol.SCTP])
    step = scenario.steps[0]
    exp = step.expectations[0]
    serve = _serve(scenario, Protocol.SCTP)
    with Session(_cluster(step), serve=serve, progress=lambda _: None) as s:
        s.start()
        probes, unsupported = s.probe_pods(timeout=1.0, only=(exp.port, Protocol.SCTP))
    assert unsupported == [f"SCTP is not available in this kernel: {len(probes)} probe(s) not run"]
    assert probes
    assert all(p.observed is None for p in probes)
