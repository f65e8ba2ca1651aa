"""The third backend: every upstream conformance scenario with real packets between network
namespaces, through `podwall probe`'s session. One sandbox per scenario; each step is an
incremental nft update of the running sandbox, as label and policy changes are upstream."""

from __future__ import annotations

import pytest

from podwall.model.convert import RawObject
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.runtime.connect import sctp_supported
from podwall.runtime.probe import Session
from tests.conformance.scenario import (
    Scenario,
    Step,
    Table,
    disagreements,
    load_all,
    render_mismatch,
)

SCENARIOS = load_all()


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
    with Session(first, serve=_serve(scenario), nodes=nodes, progress=lambda _: None) as s:
        s.start()
        for step in scenario.steps:
            s.update(_cluster(step))
            for exp in step.expectations:
                probes, unsupported = s.probe_pods(
                    timeout=1.0, only=(exp.port, Protocol(exp.protocol))
                )
                if exp.protocol == "SCTP" and not sctp:
                    # Never counted as a pass: what is checked is that the probe says so.
                    assert unsupported
                    assert all(p.observed is None for p in probes)
                    continue
                observed: Table = {(p.src, p.dst): bool(p.observed) for p in probes}
                observed.update({(pod, pod): True for pod in exp.pods})
                if disagreements(exp.pods, exp.table, observed):
                    failures.append(
                        f"step {step.number} {exp.protocol}/{exp.port}:\n"
                        + render_mismatch(exp.pods, exp.table, observed)
                    )
    assert not failures, f"{scenario.name}\n" + "\n".join(failures)
