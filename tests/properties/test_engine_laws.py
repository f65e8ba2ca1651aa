"""Laws of NetworkPolicy semantics, and the fast map held to the reference `decide()`."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.engine.connectivity import connectivity_pair
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from tests.strategies import PROBE_PORTS, objects, policy, reviewed, to_cluster


def _verdicts(objs: list[dict[str, Any]]) -> dict[tuple[str, str, int, str], bool]:
    c = to_cluster(objs)
    out = {}
    for src, dst in itertools.product(c.pods, repeat=2):
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            t = Traffic(
                src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=proto
            )
            out[(src.key, dst.key, port, proto.value)] = decide(c, t).allowed
    return out


@settings(max_examples=400)
@given(objects())
def test_connectivity_map_agrees_with_decide_on_every_pair_port_and_protocol(
    objs: list[dict[str, Any]],
) -> None:
    c = to_cluster(objs)
    cmap = connectivity(c)
    for (i, src), (j, dst) in itertools.product(enumerate(cmap.pods), repeat=2):
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            t = Traffic(
                src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=proto
            )
            expected = decide(c, t).allowed
            assert cmap.allowed(i, j, port, proto) == expected, t.render()


@settings(max_examples=100)
@given(objects(), st.randoms(use_true_random=False))
def test_policy_order_never_matters(objs: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(objs)
    rnd.shuffle(shuffled)
    assert _verdicts(objs) == _verdicts(shuffled)


@settings(max_examples=100)
@given(objects(max_policies=3), policy(99))
def test_adding_a_policy_never_shrinks_what_an_isolated_pod_allows(
    objs: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    before_cluster = to_cluster(objs)
    after = _verdicts([*objs, extra])
    before = _verdicts(objs)
    from podwall.engine.selection import isolating
    from podwall.model.policy import Direction

    pods = before_cluster.pods_by_key
    for (src, dst, port, proto), allowed in before.items():
        if not allowed:
            continue
        iso_egress = bool(isolating(before_cluster, pods[src], Direction.EGRESS))
        iso_ingress = bool(isolating(before_cluster, pods[dst], Direction.INGRESS))
        if iso_egress and iso_ingress:
            assert after[(src, dst, port, proto)], (src, dst, port, proto)


@settings(max_examples=100)
@given(objects(max_policies=0))
def test_without_policies_everything_is_allowed(objs: list[dict[str, Any]]) -> None:
    assert all(_verdicts(objs).values())


@settings(max_examples=300)
@given(reviewed(objects()))
def test_the_maps_of_a_pair_are_each_sides_own_map(
    sides: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    assert_pair_is_each_sides_map(*(to_cluster(objs) for objs in sides))


def assert_pair_is_each_sides_map(before: Cluster, after: Cluster) -> None:
    pair = connectivity_pair(before, after)
    for shared, alone in zip(pair, (connectivity(before), connectivity(after)), strict=True):
        assert shared.pods == alone.pods
        for i, j in itertools.product(range(len(alone.pods)), repeat=2):
            assert shared.ports(i, j) == alone.ports(i, j), (alone.pods[i].key, alone.pods[j].key)
