"""The third backend: every upstream conformance scenario with real packets between network
namespaces, through `podwall probe`'s session. One sandbox per scenario; each step is an
incremental nft update of the running sandbox, as label and policy changes are upstream.

The nodes log their verdicts as they decide (issue 10), so the same run holds the flows to
the engine: every flow a node reported names the verdict and the policy, rule and peer that
`decide()` names for that connection, and every side a policy decides was reported."""

from __future__ import annotations

import pytest

from podwall.model.convert import RawObject
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
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

SCENARIOS = load_all()
# Rate limits no probe reaches, so every flow must be reported (the limit is tested apart).
UNLIMITED = FlowLog(rate=1_000_000, burst=1_000_000)


def _cluster(step: Step):  # type: ignore[no-untyped-def]
    return convert_cluster(RawObject(body=m) for m in step.manifests).cluster


def _serve(scenario: Scenario) -> list[tuple[int, Protocol]]:
    wanted = {(e.port, Protocol(e.protocol)) for s in scenario.steps for e in s.expectations}
    return sorted(wanted, key=lambda t: (t[1], t[0]))


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
# Pods round-robin over 3 nodes: every scenario has same-node and cross-node pairs.
@pytest.mark.parametrize("nodes", [3], ids=["3-nodes"])
def test_real_packets_match_upstream(scenario: Scenario, nodes: int) -> None:
    failures: list[str] = []
    sctp = sctp_supported()
    first = _cluster(scenario.steps[0])
    serve = _serve(scenario)
    with Session(first, serve=serve, nodes=nodes, flow_log=UNLIMITED, progress=lambda _: None) as s:
        s.start()
        for step in scenario.steps:
            s.update(_cluster(step))
            seen = max((f.time for f in s.flows()), default=0.0)  # settled: the last step's
            probed: list[Probe] = []
            for exp in step.expectations:
                probes, unsupported = s.probe_pods(
                    timeout=1.0, only=(exp.port, Protocol(exp.protocol))
                )
                if exp.protocol == "SCTP" and not sctp:
                    # Never counted as a pass: what is checked is that the probe says so.
                    assert unsupported
                    assert all(p.observed is None for p in probes)
                    continue
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
    assert not failures, f"{scenario.name}\n" + "\n".join(failures)
