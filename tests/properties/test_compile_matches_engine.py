"""The compiled ruleset, traced packet by packet, agrees with the engine on every pair, port and
protocol; and an incremental update reaches the same ruleset as a full load."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings

from podwall.engine import Endpoint, Traffic, decide
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from podwall.nft import FakeNFT, Packet, trace
from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import full_transaction, update_transaction
from podwall.nft.trace import Verdict
from tests.strategies import PROBE_PORTS, objects, to_cluster


def _loaded(c: Cluster) -> FakeNFT:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c)))
    return fake


def _disagreements(c: Cluster, fake: FakeNFT) -> list[str]:
    out = []
    for src, dst in itertools.permutations(c.pods, 2):
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            t = Traffic(
                src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=proto
            )
            packet = Packet(
                saddr=str(src.ips[0]),
                daddr=str(dst.ips[0]),
                l4proto=proto.value.lower(),
                dport=port,
            )
            traced = trace(fake, packet).verdict is Verdict.ACCEPT
            if traced != decide(c, t).allowed:
                out.append(f"{t.render()}: engine {not traced}, dataplane {traced}")
    return out


@settings(max_examples=200)
@given(objects())
def test_traced_ruleset_agrees_with_the_engine(objs: list[dict[str, Any]]) -> None:
    c = to_cluster(objs)
    assert _disagreements(c, _loaded(c)) == []


@settings(max_examples=100)
@given(objects(), objects())
def test_an_update_reaches_the_same_ruleset_as_a_full_load(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    old, new = compile_ruleset(to_cluster(before)), compile_ruleset(to_cluster(after))
    fake = FakeNFT()
    fake.run(full_transaction(old))
    fake.run(update_transaction(old, new))
    expected = FakeNFT()
    expected.run(full_transaction(new))
    assert fake.dump() == expected.dump()
