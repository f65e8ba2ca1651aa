"""Every PokeServer of the upstream ClusterNetworkPolicy conformance suite, against the engine:
`decide()` (the reference, pod by pod), the connectivity map (the identity-level map the
matrix is read from) and the compiled nftables ruleset evaluated by the packet tracer. One test
per backend, test, subtest and step; a failure prints the rows that disagree with podwall's
explanation of each.

The third backend, real packets between network namespaces, runs the same steps through
`podwall probe` in tests/integration/conformance/test_probe_cnp.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.engine.explain import full
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.nft import FakeNFT, Packet, trace
from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import full_transaction
from podwall.nft.trace import Verdict
from tests.conformance.cnp.suite import ConformanceTest, Row, Step, load_all

TESTS = load_all()


def _cases() -> Iterator[Any]:
    for test in TESTS:
        for step in test.steps:
            yield pytest.param(test, step, id=f"{test.name}/{step.label}")


def _cluster(step: Step) -> Cluster:
    return convert_cluster(RawObject(body=m) for m in step.manifests).cluster


def _traffic(c: Cluster, row: Row) -> Traffic:
    by_name = {p.name: p for p in c.pods}
    return Traffic(
        src=Endpoint.of_pod(by_name[row.client]),
        dst=Endpoint.of_pod(by_name[row.server]),
        port=row.port,
        protocol=Protocol(row.protocol),
    )


def _decide(c: Cluster, rows: tuple[Row, ...]) -> list[bool]:
    return [decide(c, _traffic(c, row)).allowed for row in rows]


def _map(c: Cluster, rows: tuple[Row, ...]) -> list[bool]:
    cmap = connectivity(c)
    index = {p.name: i for i, p in enumerate(cmap.pods)}
    return [
        cmap.allowed(index[r.client], index[r.server], r.port, Protocol(r.protocol)) for r in rows
    ]


def _tracer(c: Cluster, rows: tuple[Row, ...]) -> list[bool]:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c)))
    by_name = {p.name: p for p in c.pods}
    out = []
    for row in rows:
        src, dst = by_name[row.client], by_name[row.server]
        packet = Packet(
            saddr=str(src.ips[0]),
            daddr=str(dst.ips[0]),
            l4proto=row.protocol.lower(),
            dport=row.port,
        )
        out.append(trace(fake, packet).verdict is Verdict.ACCEPT)
    return out


BACKENDS: dict[str, Callable[[Cluster, tuple[Row, ...]], list[bool]]] = {
    "engine": _decide,
    "engine-map": _map,
    "nft-tracer": _tracer,
}


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
