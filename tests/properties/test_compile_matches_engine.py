"""The compiled ruleset, traced packet by packet, agrees with the engine on every pair, port and
protocol; and an incremental update reaches the same ruleset as a full load."""

from __future__ import annotations

import itertools
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, decide
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from podwall.nft import FakeNFT, Packet, fragments, setbook, trace
from podwall.nft.compile import Compiler, compile_ruleset
from podwall.nft.ruleset import full_transaction
from podwall.nft.trace import Verdict
from tests.paths import hook_of
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
            traced = trace(fake, packet, hook_of(src, dst)).verdict is Verdict.ACCEPT
            if traced != decide(c, t).allowed:
                out.append(f"{t.render()}: engine {not traced}, dataplane {traced}")
    return out


@settings(max_examples=200)
@given(objects(), st.sampled_from([0, setbook.INLINE_MAX]))
def test_traced_ruleset_agrees_with_the_engine(objs: list[dict[str, Any]], inline_max: int) -> None:
    """With small sets written into rules, and with every set named (inline_max 0)."""
    c = to_cluster(objs)
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        loaded = _loaded(c)
    assert _disagreements(c, loaded) == []


@settings(max_examples=100)
@given(st.lists(objects(), min_size=2, max_size=4), st.sampled_from([0, setbook.INLINE_MAX]))
def test_incremental_updates_reach_the_same_ruleset_as_a_full_load(
    snapshots: list[list[dict[str, Any]]], inline_max: int
) -> None:
    """Also with every set named (inline_max 0), so that set patches are exercised."""
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        _updates_reach_a_full_load(snapshots)


def _updates_reach_a_full_load(snapshots: list[list[dict[str, Any]]]) -> None:
    compiler = Compiler()
    loaded = compiler.compile(to_cluster(snapshots[0]))
    fake = FakeNFT()
    fake.run(fragments.full(loaded))
    for objs in snapshots[1:]:
        desired = compiler.compile(to_cluster(objs))
        # Only the keys the compiler says it touched, as the dataplane does.
        fake.run(fragments.update(loaded, desired, compiler.touched))
        loaded = desired
        expected = FakeNFT()
        expected.run(full_transaction(compile_ruleset(to_cluster(objs))))
        assert fake.dump() == expected.dump()


@settings(max_examples=100)
@given(objects(), st.randoms(use_true_random=False), st.sampled_from([0, setbook.INLINE_MAX]))
def test_small_changes_reach_the_same_ruleset_as_a_full_load(
    objs: list[dict[str, Any]], rnd: Any, inline_max: int
) -> None:
    """A label flip, a pod removed, a policy removed: the kinds of change a cluster sees."""
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        _small_change(objs, rnd)


def _small_change(objs: list[dict[str, Any]], rnd: Any) -> None:
    compiler = Compiler()
    loaded = compiler.compile(to_cluster(objs))
    fake = FakeNFT()
    fake.run(fragments.full(loaded))
    changed = [dict(o) for o in objs]
    victim = rnd.randrange(len(changed))
    if changed[victim]["kind"] == "Pod":
        meta = dict(changed[victim]["metadata"])
        meta["labels"] = {"app": rnd.choice(["a", "b"])}
        changed[victim] = {**changed[victim], "metadata": meta}
    else:
        del changed[victim]
    desired = compiler.compile(to_cluster(changed))
    fake.run(fragments.update(loaded, desired, compiler.touched))
    expected = FakeNFT()
    expected.run(full_transaction(compile_ruleset(to_cluster(changed))))
    assert fake.dump() == expected.dump()
