"""The incremental compiler: each kind of change gives the ruleset a fresh compile gives, in a
transaction that touches only what changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from podwall.model.cluster import Cluster
from podwall.nft import FakeNFT, fragments, setbook
from podwall.nft.compile import Compiler, compile_ruleset
from podwall.nft.ruleset import full_transaction
from tests.builders import make_cluster, policy

ALLOW_A = policy("allow-a", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: http}]}]")  # fmt: skip
DENY_Y = policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress, Egress]\negress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]")  # fmt: skip
BASE = ALLOW_A + DENY_Y
EXTRA_POD = """
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {app: b}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
status: {podIP: 198.18.1.3}
---
"""
RELABELLED = """
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: z}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
status: {podIP: 198.18.0.1}
---
"""
BLUE_TO_RED = """
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: red}}
---
"""

CHANGES: list[tuple[str, Callable[[], Cluster], int]] = [
    ("nothing changes", lambda: make_cluster(BASE), 0),
    ("a policy is added", lambda: make_cluster(BASE + policy("more", "x", "podSelector: {}\npolicyTypes: [Egress]")), 12),
    ("a policy is removed", lambda: make_cluster(ALLOW_A), 14),
    ("a policy changes its port", lambda: make_cluster(BASE.replace("port: http", "port: 81")), 6),
    ("a pod is added", lambda: make_cluster(BASE + EXTRA_POD), 11),
    ("a pod changes labels", lambda: make_cluster(RELABELLED + BASE), 6),
    ("a namespace changes labels", lambda: make_cluster(BLUE_TO_RED + BASE), 6),
]  # fmt: skip


def _dump(cluster: Cluster) -> str:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(cluster)))
    return fake.dump()


@pytest.mark.parametrize(("change", "after", "most"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_updates_only_what_it_touches(
    change: str, after: Callable[[], Cluster], most: int
) -> None:
    compiler = Compiler()
    loaded = compiler.compile(make_cluster(BASE))
    fake = FakeNFT()
    fake.run(fragments.full(loaded))
    desired = compiler.compile(after())
    tx = fragments.update(loaded, desired)
    fake.run(tx)
    assert fake.dump() == _dump(after())
    assert len(tx) <= most, tx.render()


def test_unchanged_fragments_are_the_same_objects() -> None:
    compiler = Compiler()
    first = compiler.compile(make_cluster(BASE))
    second = compiler.compile(make_cluster(BASE + EXTRA_POD))
    same = [k for k in first if k in second and first[k] is second[k]]
    assert ("base",) in same
    assert ("classes", "egress", "y") not in same
    # The new pod joins allow-a's peers, which are few enough to be written into its rules.
    assert ("classes", "ingress", "x") not in same
    assert set(second) - set(same) == compiler.touched


def test_a_peer_in_a_named_set_changes_only_its_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setbook, "INLINE_MAX", 0)
    compiler = Compiler()
    first = compiler.compile(make_cluster(BASE))
    second = compiler.compile(make_cluster(BASE + EXTRA_POD))
    same = [k for k in first if k in second and first[k] is second[k]]
    assert ("classes", "ingress", "x") in same
    tx = fragments.update(first, second, compiler.touched)
    assert not any(line.startswith("flush chain") for line in tx.render().splitlines())


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5])
def test_sets_are_inlined_up_to_the_limit(size: int) -> None:
    """A peer of up to INLINE_MAX addresses is compared in the rule; more is a named set."""
    pods = "".join(
        EXTRA_POD.replace("name: c,", f"name: c{i},").replace("198.18.1.3", f"198.18.1.{10 + i}")
        for i in range(size)
    )
    ruleset = compile_ruleset(
        make_cluster(DENY_Y.replace("app: b", "app: extra") + pods.replace("app: b", "app: extra"))
    )
    peer_sets = [name for name in ruleset.sets if name.startswith("peer_")]
    (egress,) = [rules for chain, rules in ruleset.rules.items() if chain.startswith("cls-out")]
    accepts = [r for r in egress if r.text().endswith('to[0]"')]
    if size <= setbook.INLINE_MAX:
        assert peer_sets == []
        assert len(accepts) == size
    else:
        assert len(peer_sets) == 1
        assert len(accepts) == 1
