"""Laws of the ClusterNetworkPolicy tiers, and the fast map held to the reference `decide()`."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.engine.decision import Status
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from tests.properties.test_engine_laws import assert_pair_is_each_sides_map
from tests.strategies import PROBE_PORTS, policy, reviewed, to_cluster
from tests.strategies_cnp import cluster_policy, with_cluster_policies

Key = tuple[str, str, int, str]


def _traffic(c: Cluster) -> list[Traffic]:
    return [
        Traffic(src=Endpoint.of_pod(s), dst=Endpoint.of_pod(d), port=port, protocol=proto)
        for s, d in itertools.product(c.pods, repeat=2)
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS)
    ]


def _key(t: Traffic) -> Key:
    return (t.src.key, t.dst.key, t.port, t.protocol.value)


def _verdicts(objs: list[dict[str, Any]]) -> dict[Key, bool]:
    c = to_cluster(objs)
    return {_key(t): decide(c, t).allowed for t in _traffic(c)}


@settings(max_examples=300)
@given(with_cluster_policies())
def test_connectivity_map_agrees_with_decide_with_tiers(objs: list[dict[str, Any]]) -> None:
    c = to_cluster(objs)
    cmap = connectivity(c)
    index = {p.key: i for i, p in enumerate(cmap.pods)}
    for t in _traffic(c):
        assert t.src.pod is not None
        assert t.dst.pod is not None
        found = cmap.allowed(index[t.src.pod.key], index[t.dst.pod.key], t.port, t.protocol)
        assert found == decide(c, t).allowed, t.render()


@settings(max_examples=80)
@given(with_cluster_policies(max_policies=2), policy(99))
def test_an_admin_deny_beats_every_network_policy(
    objs: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    before = to_cluster(objs)
    after = to_cluster([*objs, extra])
    for t in _traffic(before):
        d = decide(before, t)
        admin_denied = Status.ADMIN_DENIED in (d.egress.status, d.ingress.status)
        if admin_denied:
            assert not decide(after, t).allowed, t.render()


@settings(max_examples=80)
@given(with_cluster_policies(max_policies=3), st.lists(cluster_policy(50, "Baseline"), max_size=2))
def test_a_baseline_policy_never_changes_a_side_a_network_policy_isolates(
    objs: list[dict[str, Any]], baselines: list[dict[str, Any]]
) -> None:
    before = to_cluster(objs)
    after = to_cluster([*objs, *baselines])
    for t in _traffic(before):
        d, e = decide(before, t), decide(after, t)
        for side_before, side_after in ((d.egress, e.egress), (d.ingress, e.ingress)):
            if side_before.status in (Status.ALLOWED, Status.DENIED):
                assert side_after.allowed == side_before.allowed, t.render()


@settings(max_examples=60)
@given(with_cluster_policies(), st.randoms(use_true_random=False))
def test_manifest_order_never_matters(objs: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(objs)
    rnd.shuffle(shuffled)
    assert _verdicts(objs) == _verdicts(shuffled)


@settings(max_examples=80)
@given(
    with_cluster_policies(max_cluster_policies=1),
    cluster_policy(60, "Admin"),
    cluster_policy(61, "Admin"),
)
def test_order_within_a_priority_does_not_matter_when_subjects_do_not_overlap(
    objs: list[dict[str, Any]], first: dict[str, Any], second: dict[str, Any]
) -> None:
    # Same tier and priority, subjects in different namespaces: they never meet on one side,
    # so which one podwall checks first (by name) cannot matter.
    for cnp, ns in ((first, "x"), (second, "y")):
        cnp["spec"]["priority"] = 7
        cnp["spec"]["subject"] = {
            "pods": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                "podSelector": cnp["spec"]["subject"].get("pods", {}).get("podSelector", {}),
            }
        }
    renamed = [
        {**first, "metadata": {"name": "c61"}},
        {**second, "metadata": {"name": "c60"}},
    ]
    assert _verdicts([*objs, first, second]) == _verdicts([*objs, *renamed])


@settings(max_examples=60)
@given(with_cluster_policies(max_policies=0))
def test_without_network_policies_only_a_tier_denies(
    objs: list[dict[str, Any]],
) -> None:
    c = to_cluster(objs)
    for t in _traffic(c):
        for side in (decide(c, t).egress, decide(c, t).ingress):
            if not side.allowed:
                assert side.status in (Status.ADMIN_DENIED, Status.BASELINE_DENIED), t.render()


@settings(max_examples=150)
@given(reviewed(with_cluster_policies()))
def test_the_maps_of_a_pair_with_tiers_are_each_sides_own_map(
    sides: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    assert_pair_is_each_sides_map(*(to_cluster(objs) for objs in sides))
