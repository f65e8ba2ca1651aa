"""The compiled ruleset with ClusterNetworkPolicy tiers, traced packet by packet, agrees with
`decide()`; incremental updates reach a full load; and the tier laws hold on the ruleset."""

from __future__ import annotations

import itertools
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, decide
from podwall.engine.decision import Status
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from podwall.nft import FakeNFT, Packet, fragments, setbook, trace
from podwall.nft.compile import Compiler, compile_ruleset
from podwall.nft.ruleset import full_transaction
from podwall.nft.trace import Verdict
from tests.paths import hook_of
from tests.strategies import PROBE_PORTS, objects, policy, to_cluster
from tests.strategies_cnp import cluster_policy, with_cluster_policies

INLINE = st.sampled_from([0, setbook.INLINE_MAX])  # every set named, or small ones written in


def _loaded(c: Cluster) -> FakeNFT:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c)))
    return fake


def _traffic(c: Cluster) -> list[Traffic]:
    return [
        Traffic(src=Endpoint.of_pod(s), dst=Endpoint.of_pod(d), port=port, protocol=proto)
        for s, d in itertools.permutations(c.pods, 2)
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS)
    ]


def _traced(fake: FakeNFT, t: Traffic) -> bool:
    assert t.src.pod is not None
    assert t.dst.pod is not None
    packet = Packet(
        saddr=str(t.src.pod.ips[0]),
        daddr=str(t.dst.pod.ips[0]),
        l4proto=t.protocol.value.lower(),
        dport=t.port,
    )
    return trace(fake, packet, hook_of(t.src.pod, t.dst.pod)).verdict is Verdict.ACCEPT


@settings(max_examples=200)
@given(with_cluster_policies(), INLINE)
def test_traced_ruleset_agrees_with_decide_with_tiers(
    objs: list[dict[str, Any]], inline_max: int
) -> None:
    c = to_cluster(objs)
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        fake = _loaded(c)
    wrong = [
        f"{t.render()}: engine {decide(c, t).allowed}"
        for t in _traffic(c)
        if _traced(fake, t) != decide(c, t).allowed
    ]
    assert wrong == []


@settings(max_examples=100)
@given(st.lists(st.one_of(with_cluster_policies(), objects()), min_size=2, max_size=4), INLINE)
def test_incremental_updates_with_tiers_reach_a_full_load(
    snapshots: list[list[dict[str, Any]]], inline_max: int
) -> None:
    """Also as the tiers come and go: the first ClusterNetworkPolicy, the last one removed."""
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        compiler = Compiler()
        loaded = compiler.compile(to_cluster(snapshots[0]))
        fake = FakeNFT()
        fake.run(fragments.full(loaded))
        for objs in snapshots[1:]:
            desired = compiler.compile(to_cluster(objs))
            fake.run(fragments.update(loaded, desired, compiler.touched))
            loaded = desired
            assert fake.dump() == _loaded(to_cluster(objs)).dump()


@settings(max_examples=100)
@given(with_cluster_policies(), st.randoms(use_true_random=False), INLINE)
def test_one_cluster_policy_change_reaches_a_full_load(
    objs: list[dict[str, Any]], rnd: Any, inline_max: int
) -> None:
    """A ClusterNetworkPolicy removed, or moved to another priority; or a pod relabelled."""
    changed = [dict(o) for o in objs]
    victims = [i for i, o in enumerate(changed) if o["kind"] in ("ClusterNetworkPolicy", "Pod")]
    victim = rnd.choice(victims)
    body = changed[victim]
    if body["kind"] == "Pod":
        meta = {**body["metadata"], "labels": {"app": rnd.choice(["a", "b"])}}
        changed[victim] = {**body, "metadata": meta}
    elif rnd.random() < 0.5:
        del changed[victim]
    else:
        changed[victim] = {**body, "spec": {**body["spec"], "priority": rnd.choice([1, 6, 999])}}
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        compiler = Compiler()
        loaded = compiler.compile(to_cluster(objs))
        fake = FakeNFT()
        fake.run(fragments.full(loaded))
        desired = compiler.compile(to_cluster(changed))
        fake.run(fragments.update(loaded, desired, compiler.touched))
        assert fake.dump() == _loaded(to_cluster(changed)).dump()


@settings(max_examples=60)
@given(with_cluster_policies(max_policies=2), policy(99))
def test_an_admin_deny_beats_every_network_policy_on_the_ruleset(
    objs: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    before = to_cluster(objs)
    after = _loaded(to_cluster([*objs, extra]))
    for t in _traffic(before):
        d = decide(before, t)
        if Status.ADMIN_DENIED in (d.egress.status, d.ingress.status):
            assert not _traced(after, t), t.render()


@settings(max_examples=60)
@given(with_cluster_policies(max_policies=3), st.lists(cluster_policy(50, "Baseline"), max_size=2))
def test_a_baseline_policy_never_opens_what_a_network_policy_denies_on_the_ruleset(
    objs: list[dict[str, Any]], baselines: list[dict[str, Any]]
) -> None:
    before = to_cluster(objs)
    after = _loaded(to_cluster([*objs, *baselines]))
    for t in _traffic(before):
        d = decide(before, t)
        if Status.DENIED in (d.egress.status, d.ingress.status):
            assert not _traced(after, t), t.render()
