"""Every upstream netpol e2e expectation, against two backends: the engine, and the compiled
nftables ruleset evaluated by the packet tracer. One test per backend/scenario/step/probe.

The third backend, real packets between network namespaces, runs the same scenarios through
`podwall probe` in tests/integration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podwall.engine import port_matrix
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.model.source import Source
from podwall.model.validation import validate_network_policy
from podwall.nft import FakeNFT, Packet, trace
from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import full_transaction
from podwall.nft.trace import Verdict
from tests.conformance.scenario import (
    Expectation,
    Manifest,
    Scenario,
    Step,
    Table,
    disagreements,
    load_all,
    render_mismatch,
)

SCENARIOS = load_all()


def _cases() -> Iterator[Any]:
    for scenario in SCENARIOS:
        for step in scenario.steps:
            for expectation in step.expectations:
                case_id = f"{scenario.slug}/step{step.number}/{expectation.label}"
                yield pytest.param(scenario, step, expectation, id=case_id)


def _policy_cases() -> Iterator[Any]:
    for scenario in SCENARIOS:
        for step in scenario.steps:
            for manifest in step.manifests:
                if manifest.get("kind") == "NetworkPolicy":
                    name = manifest["metadata"]["name"]
                    case_id = f"{scenario.slug}/step{step.number}/{name}"
                    yield pytest.param(scenario, manifest, id=case_id)


def _raw_objects(scenario: Scenario, manifests: tuple[Manifest, ...]) -> list[RawObject]:
    return [
        RawObject(body=m, source=Source(file=str(scenario.path), line=0, document=i))
        for i, m in enumerate(manifests)
    ]


def _engine(scenario: Scenario, step: Step, expectation: Expectation) -> Table:
    cluster = convert_cluster(_raw_objects(scenario, step.manifests)).cluster
    matrix = port_matrix(cluster, expectation.port, Protocol(expectation.protocol))
    assert matrix.pods == expectation.pods, "the engine's pods are not the table's pods"
    return {
        (src, dst): matrix.allowed[i][j]
        for i, src in enumerate(matrix.pods)
        for j, dst in enumerate(matrix.pods)
    }


def _tracer(scenario: Scenario, step: Step, expectation: Expectation) -> Table:
    cluster = convert_cluster(_raw_objects(scenario, step.manifests)).cluster
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(cluster)))
    pods = {p.key: p for p in cluster.pods}
    table: Table = {}
    for src in expectation.pods:
        for dst in expectation.pods:
            packet = Packet(
                saddr=str(pods[src].ips[0]),
                daddr=str(pods[dst].ips[0]),
                l4proto=expectation.protocol.lower(),
                dport=expectation.port,
            )
            # A pod reaches itself over loopback: its packets never cross the node.
            table[(src, dst)] = src == dst or trace(fake, packet).verdict is Verdict.ACCEPT
    return table


BACKENDS: dict[str, Callable[[Scenario, Step, Expectation], Table]] = {
    "engine": _engine,
    "nft-tracer": _tracer,
}


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize(("scenario", "step", "expectation"), list(_cases()))
def test_reachability_matches_upstream(
    backend: str, scenario: Scenario, step: Step, expectation: Expectation
) -> None:
    observed = BACKENDS[backend](scenario, step, expectation)
    if disagreements(expectation.pods, expectation.table, observed):
        pytest.fail(
            f"{scenario.name!r} ({scenario.path.name}), step {step.number}: "
            f"{step.description}\nprobe {expectation.protocol}/{expectation.port}\n\n"
            + render_mismatch(expectation.pods, expectation.table, observed),
            pytrace=False,
        )


@pytest.mark.parametrize(("scenario", "manifest"), list(_policy_cases()))
def test_policies_pass_validation(scenario: Scenario, manifest: Manifest) -> None:
    errors = validate_network_policy(manifest)
    assert errors == [], f"{scenario.path.name}: {errors}"
