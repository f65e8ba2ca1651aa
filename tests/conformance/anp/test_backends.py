"""Every PokeServer of the upstream AdminNetworkPolicy and BaselineAdminNetworkPolicy
conformance suite (network-policy-api v0.1.7), against the backends the ClusterNetworkPolicy
suite runs: `decide()`, the connectivity map and the nft ruleset under the packet tracer. Both
kinds are read into the ClusterNetworkPolicy model, so this holds the conversion to upstream's
meaning. A failure prints the rows that disagree with podwall's explanation of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podwall.engine import decide
from podwall.engine.explain import full
from tests.conformance.anp.suite import load
from tests.conformance.cnp.suite import ConformanceTest, Step
from tests.conformance.cnp.test_backends import BACKENDS, _cluster, _traffic

TESTS = load()


def _cases() -> Iterator[Any]:
    for test in TESTS:
        for step in test.steps:
            yield pytest.param(test, step, id=f"{test.name}/{step.label}")


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize(("test", "step"), list(_cases()))
def test_every_poke_matches_upstream(backend: str, test: ConformanceTest, step: Step) -> None:
    c = _cluster(step)
    observed = BACKENDS[backend](c, step.rows)
    wrong = [
        (row, seen) for row, seen in zip(step.rows, observed, strict=True) if row.allowed != seen
    ]
    if wrong:
        lines = [f"{test.name} ({test.path.name}), {step.label}: {len(wrong)} row(s) disagree"]
        for row, seen in wrong:
            lines.append(f"  expected {row.render()}, observed {'.' if seen else 'X'}")
            lines += ["    " + line for line in full(decide(c, _traffic(c, row)))]
        pytest.fail("\n".join(lines), pytrace=False)
