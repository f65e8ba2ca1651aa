"""The third backend: every upstream conformance scenario with real packets between network
namespaces, through `podwall probe`'s session. One sandbox for the module, as upstream runs
every scenario on one set of pods (`sharedsession`): each case resets it to its first step, and
each step is an incremental nft update of the running sandbox, as label and policy changes are
upstream.
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
from podwall.runtime.probe import Probe, Serve, Session
from tests.conformance.scenario import (
    Scenario,
    Step,
    Table,
    disagreements,
    load_all,
    render_mismatch,
)
from tests.flowchecks import flow_completeness, flow_mismatch
from tests.integration.conformance.sharedsession import SharedSession
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


def _serve_all() -> Serve:
    """Every port and protocol a case probes: the shared session's pods serve them all."""
    wanted = {
        t for scenario in SCENARIOS for p in _protocols(scenario) for t in _serve(scenario, p)
    }
    return sorted(wanted, key=lambda t: (list(Protocol).index(t[1]), t[0]))


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedSession]:
    # Pods round-robin over 3 nodes: every scenario has same-node and cross-node pairs.
    base = SCENARIOS[0].steps[0].manifests
    holder = SharedSession(base, serve=_serve_all(), nodes=3, flow_log=UNLIMITED)
    try:
        yield holder
    finally:
        holder.discard()


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "protocol"), _cases())
# The id names the node count; the shared session has 3 nodes.
@pytest.mark.parametrize("nodes", [3], ids=["3-nodes"])
def test_real_packets_match_upstream(
    scenario: Scenario, protocol: Protocol, nodes: int, shared: SharedSession
) -> None:
    if protocol is Protocol.SCTP and not sctp_supported():
        pytest.skip(NO_SCTP)
    try:
        failures = _run(scenario, protocol, shared)
    except BaseException:
        shared.discard()  # the next case starts from a fresh sandbox
        raise
    assert not failures, f"{scenario.name} over {protocol.value}\n" + "\n".join(failures)


def _run(scenario: Scenario, protocol: Protocol, shared: SharedSession) -> list[str]:
    """Each step of `scenario` on the shared session (the first resets it from the previous
    case), its expectations over `protocol` probed: what disagreed with upstream or the engine."""
    failures: list[str] = []
    for step in scenario.steps:
        s = shared.update(step.manifests)
        probed: list[Probe] = []
        for exp in step.expectations:
            if exp.protocol != protocol:
                continue
            # One short try each: a denial costs 1 s; a pair expected to answer that did not is
            # tried again with a bound a loaded machine keeps, so a slow answer is no denial.
            probes, unsupported = s.probe_pods(timeout=1.0, only=(exp.port, protocol), tries=1)
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
        flows = shared.new_flows_until(
            lambda seen, c=s.cluster, p=probed: not flow_completeness(c, p, seen)
        )
        mismatches = [m for f in flows if (m := flow_mismatch(s.cluster, f)) is not None]
        mismatches += flow_completeness(s.cluster, probed, flows)
        failures += [f"step {step.number} flows: {m}" for m in sorted(set(mismatches))]
    return failures


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
