"""`diff()`: connections newly allowed and newly denied, held to the engine pair by pair."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.engine.atoms import Atoms
from podwall.model.cluster import Cluster
from podwall.model.ports import Protocol
from podwall.review.diff import Diff, Focus, diff
from tests.builders import make_cluster, policy
from tests.strategies import objects, to_cluster

DENY_X_INGRESS = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
ALLOW_A_TO_B_80 = policy(
    "allow-80",
    "x",
    "podSelector: {matchLabels: {app: b}}\npolicyTypes: [Ingress]\n"
    "ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]",
)
ALLOW_A_TO_B_80_81 = policy(
    "allow-80",
    "x",
    "podSelector: {matchLabels: {app: b}}\npolicyTypes: [Ingress]\n"
    "ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80, endPort: 81}]}]",
)
NEW_POD = """
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {app: c}}
spec: {containers: [{name: c}]}
status: {podIP: 198.18.0.3}
---
"""


def _pairs(d: Diff, which: str) -> set[tuple[str, str, str]]:
    return {(r["src"], r["dst"], r["ports"]) for r in d.to_json()[which]}


CASES = [
    ("nothing changes: no entries", "", "", set(), set()),
    (
        "a default deny on x denies every other pod into x, on every port",
        "", DENY_X_INGRESS, set(),
        {("x/a", "x/b", "all"), ("x/b", "x/a", "all"), ("y/a", "x/a", "all"),
         ("y/a", "x/b", "all"), ("y/b", "x/a", "all"), ("y/b", "x/b", "all"),
         ("y/host", "x/a", "all"), ("y/host", "x/b", "all")},
    ),
    (
        "opening TCP 80 to x/b from app=a under a default deny allows exactly that",
        DENY_X_INGRESS, DENY_X_INGRESS + ALLOW_A_TO_B_80,
        {("x/a", "x/b", "TCP 80")}, set(),
    ),
    (
        "widening a port to a range allows only the new port",
        ALLOW_A_TO_B_80, ALLOW_A_TO_B_80_81, {("x/a", "x/b", "TCP 81")}, set(),
    ),
    (
        "narrowing a range denies only the port removed",
        ALLOW_A_TO_B_80_81, ALLOW_A_TO_B_80, set(), {("x/a", "x/b", "TCP 81")},
    ),
    (
        "a new pod's connections are newly allowed; x's default deny keeps it from x's pods",
        DENY_X_INGRESS, DENY_X_INGRESS + NEW_POD,
        {("x/c", "y/a", "all"), ("x/c", "y/b", "all"), ("x/c", "y/host", "all")},
        set(),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "allowed", "denied"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_diff_table(
    before: str, after: str, allowed: set[tuple[str, ...]], denied: set[tuple[str, ...]]
) -> None:
    d = diff(make_cluster(before), make_cluster(after))
    assert _pairs(d, "newly_allowed") == allowed
    assert _pairs(d, "newly_denied") == denied
    assert d.changed == bool(allowed or denied)


def test_the_json_contract_has_exactly_its_keys() -> None:
    d = diff(make_cluster(ALLOW_A_TO_B_80), make_cluster(ALLOW_A_TO_B_80_81))
    assert d.to_json() == {
        "newly_allowed": [{"src": "x/a", "dst": "x/b", "ports": "TCP 81"}],
        "newly_denied": [],
    }
    assert d.to_json(with_ports=False)["newly_allowed"] == [{"src": "x/a", "dst": "x/b"}]


FOCUS = [
    ("the port that changed", Focus(port=81), {("x/a", "x/b", "TCP 81")}),
    ("a port that did not change", Focus(port=80), set()),
    ("another protocol", Focus(port=81, protocol=Protocol.UDP), set()),
]


@pytest.mark.parametrize(("focus", "allowed"), [c[1:] for c in FOCUS], ids=[c[0] for c in FOCUS])
def test_focus_on_one_port(focus: Focus, allowed: set[tuple[str, ...]]) -> None:
    d = diff(make_cluster(ALLOW_A_TO_B_80), make_cluster(ALLOW_A_TO_B_80_81), focus=focus)
    assert _pairs(d, "newly_allowed") == allowed


def test_a_named_port_is_resolved_on_the_destination_of_each_side() -> None:
    named = ALLOW_A_TO_B_80.replace("{port: 80}", "{port: http}")
    # x/b declares http as 8080: naming it allows 8080 and no longer 80.
    d = diff(make_cluster(ALLOW_A_TO_B_80), make_cluster(named), focus=Focus(port="http"))
    assert _pairs(d, "newly_allowed") == {("x/a", "x/b", "TCP 8080")}
    assert _pairs(d, "newly_denied") == set()


def _expected(before: Cluster, after: Cluster, atoms: Atoms) -> tuple[set[Any], set[Any]]:
    """Pair by pair and atom by atom with `decide()`; an absent pod reaches nothing."""
    keys = sorted({p.key for p in (*before.pods, *after.pods)})
    gained, lost = set(), set()
    for src, dst in itertools.permutations(keys, 2):
        for proto, lo, _ in atoms.atoms:
            was, now = _allowed(before, src, dst, lo, proto), _allowed(after, src, dst, lo, proto)
            if now and not was:
                gained.add((src, dst, proto, lo))
            if was and not now:
                lost.add((src, dst, proto, lo))
    return gained, lost


def _allowed(c: Cluster, src: str, dst: str, port: int, proto: Protocol) -> bool:
    s, d = c.pods_by_key.get(src), c.pods_by_key.get(dst)
    if s is None or d is None:
        return False
    t = Traffic(src=Endpoint.of_pod(s), dst=Endpoint.of_pod(d), port=port, protocol=proto)
    return decide(c, t).allowed


def _found(atoms: Atoms, changes: Any) -> set[tuple[str, str, Protocol, int]]:
    out = set()
    for change in changes:
        for src, dst in change.pairs():
            for proto, lo, hi in atoms.atoms:
                if change.ports.contains(proto, lo):
                    assert change.ports.contains(proto, hi), "a change splits an atom"
                    out.add((src.key, dst.key, proto, lo))
    return out


@settings(max_examples=150, deadline=None)
@given(objects(max_pods=5, max_policies=3), objects(max_pods=5, max_policies=3))
def test_diff_agrees_with_decide_on_every_pair_and_atom(
    one: list[dict[str, Any]], two: list[dict[str, Any]]
) -> None:
    before, after = to_cluster(one), to_cluster(two)
    # Atoms that refine both maps': every port of one atom has the same verdict on both sides.
    atoms = Atoms([*connectivity(before).atoms.atoms, *connectivity(after).atoms.atoms])
    d = diff(before, after)
    gained, lost = _expected(before, after, atoms)
    assert _found(atoms, d.newly_allowed) == gained
    assert _found(atoms, d.newly_denied) == lost


@settings(max_examples=100, deadline=None)
@given(objects(max_pods=4, max_policies=3), st.data())
def test_swapping_the_sides_swaps_allowed_and_denied(
    one: list[dict[str, Any]], data: st.DataObject
) -> None:
    two = data.draw(objects(max_pods=4, max_policies=3))
    a, b = to_cluster(one), to_cluster(two)
    forward, backward = diff(a, b).to_json(), diff(b, a).to_json()
    assert forward["newly_allowed"] == backward["newly_denied"]
    assert forward["newly_denied"] == backward["newly_allowed"]
