"""The incremental compiler: each kind of change gives the ruleset a fresh compile gives, in a
transaction that touches only what changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from podwall.model.cluster import Cluster
from podwall.nft import FakeNFT, fragments
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
    ("a pod is added", lambda: make_cluster(BASE + EXTRA_POD), 6),
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
    assert ("policy", "ingress", "x/allow-a") in same
    assert ("classes", "ingress", "x") in same
    assert ("classes", "egress", "y") not in same
