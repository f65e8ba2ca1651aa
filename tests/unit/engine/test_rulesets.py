"""compile_rules: each policy's contribution, as identity bitsets and port-atom masks."""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from podwall.engine.identities import bit_indices, policy_blocks
from podwall.engine.rulesets import RuleSet, compile_rules
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.model.ports import ContainerPort, Protocol
from podwall.model.record import replace
from tests.builders import make_cluster, policy

# builders.BASE: x/a serves http on TCP 80 (and dns, UDP 53), x/b http on TCP 8080; y/a, y/b
# and the host-network y/host have no named ports.

Contributions = list[tuple[set[str], str]]  # (pods, ports) per contribution


def compiled(policies: str) -> tuple[Cluster, SelectorCache, RuleSet]:
    cluster = make_cluster(policies)
    cache = SelectorCache(blocks=policy_blocks(cluster.policies))
    cache.update(cluster)
    return cluster, cache, compile_rules(cluster, cache)


def pods(cluster: Cluster, cache: SelectorCache, bits: int) -> set[str]:
    found = set(bit_indices(bits))
    return {p.key for p in cluster.pods if cache.identities.of(p.key) in found}


def readable(
    cluster: Cluster, cache: SelectorCache, rules: RuleSet, contributions: list[tuple[int, int]]
) -> Contributions:
    return [
        (pods(cluster, cache, bits), rules.atoms.port_set(m).render()) for bits, m in contributions
    ]


@dataclass(frozen=True)
class Case:
    id: str
    policies: str
    ingress: dict[str, Contributions | None]  # destination pod -> its ingress (None: open)


INGRESS = [
    Case("with no policy every pod is open for ingress", "",
         {"x/a": None, "y/a": None}),
    Case("a policy with no ingress rules isolates its pods and admits nothing",
         policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]"),
         {"x/a": [], "x/b": [], "y/a": None}),
    Case("an ingress rule contributes its sources and its ports",
         policy("p", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]"),
         {"x/a": [({"x/b"}, "TCP 80")], "x/b": None}),
    Case("a rule without peers admits every source, the host-network pod too",
         policy("p", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{ports: [{port: 80}]}]"),
         {"x/a": [({"x/a", "x/b", "y/a", "y/b", "y/host"}, "TCP 80")]}),
    Case("an ingress named port resolves on the destination",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}], ports: [{port: http}]}]"),
         {"x/a": [({"x/a", "x/b", "y/a", "y/b"}, "TCP 80")], "x/b": [({"x/a", "x/b", "y/a", "y/b"}, "TCP 8080")]}),
    Case("a named port the destination does not have admits nothing there",
         policy("p", "y", "podSelector: {}\ningress: [{ports: [{port: http}]}]"),
         {"y/a": [], "y/b": []}),
    Case("a policy that selects no pod contributes nothing",
         policy("p", "x", "podSelector: {matchLabels: {app: nobody}}\npolicyTypes: [Ingress]"),
         {"x/a": None, "x/b": None}),
    Case("host-network pods are never isolated",
         policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress]"),
         {"y/a": [], "y/host": None}),
]  # fmt: skip


@pytest.mark.parametrize("case", INGRESS, ids=[c.id for c in INGRESS])
def test_ingress_of_each_destination(case: Case) -> None:
    cluster, cache, rules = compiled(case.policies)
    for dst, expected in case.ingress.items():
        found = rules.ingress(cache.identities.of(dst))
        got = None if found is None else readable(cluster, cache, rules, found)
        assert got == expected, dst


EGRESS_X = "podSelector: {}\npolicyTypes: [Egress]\negress: "


def test_egress_isolated_pods_leave_not_egress_isolated() -> None:
    cluster, cache, rules = compiled(policy("deny", "x", "podSelector: {}\npolicyTypes: [Egress]"))
    assert pods(cluster, cache, rules.not_egress_isolated) == {"y/a", "y/b", "y/host"}
    assert rules.to_all() == []


def test_an_egress_rule_without_peers_or_named_ports_holds_for_every_destination() -> None:
    cluster, cache, rules = compiled(
        policy("p", "x", EGRESS_X + "[{ports: [{port: 53, protocol: UDP}]}]")
    )
    assert readable(cluster, cache, rules, rules.to_all()) == [({"x/a", "x/b"}, "UDP 53")]
    assert all(entry == [] for entry in rules.egress_to)


def test_an_egress_named_port_resolves_on_each_destination() -> None:
    cluster, cache, rules = compiled(policy("p", "x", EGRESS_X + "[{ports: [{port: http}]}]"))
    senders = {"x/a", "x/b"}
    by_dst = {
        p.key: readable(cluster, cache, rules, rules.egress(cache.identities.of(p.key)))
        for p in cluster.pods
    }
    assert by_dst == {
        "x/a": [(senders, "TCP 80")],
        "x/b": [(senders, "TCP 8080")],
        "y/a": [],
        "y/b": [],
        "y/host": [],
    }


def test_an_egress_rule_with_peers_reaches_only_them() -> None:
    cluster, cache, rules = compiled(
        policy(
            "p", "x", EGRESS_X + "[{to: [{ipBlock: {cidr: 198.18.1.0/24}}], ports: [{port: 443}]}]"
        )
    )
    reached = {p.key for p in cluster.pods if rules.egress_to[cache.identities.of(p.key)]}
    assert reached == {"y/a", "y/b"}
    assert readable(cluster, cache, rules, rules.egress(cache.identities.of("y/a"))) == [
        ({"x/a", "x/b"}, "TCP 443")
    ]


def test_ports_rules_name_cut_the_port_space_into_atoms() -> None:
    _, _, rules = compiled(
        policy(
            "p", "x", "podSelector: {}\ningress: [{ports: [{port: 80, endPort: 90}, {port: 85}]}]"
        )
    )
    tcp = [(lo, hi) for proto, lo, hi in rules.atoms.atoms if proto is Protocol.TCP]
    for cut in (80, 85, 86, 91):
        assert any(lo == cut for lo, _ in tcp), cut
    # A range covers every atom inside it, and no other.
    mask = rules.atoms.range_mask(Protocol.TCP, 80, 90)
    assert rules.atoms.port_set(mask).render() == "TCP 80-90"


# compile_rules(earlier=): the other side's rules over the same identities, patched with the
# policies that differ, must hold what a full compile of this side holds, list by list (as
# multisets: a patched list may keep another order).
ALLOW_B = "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]"
DNS = EGRESS_X + "[{ports: [{port: 53, protocol: UDP}]}]"
TO_Y = (
    EGRESS_X + "[{to: [{namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: http}]}]"
)
DENY = "podSelector: {}\npolicyTypes: [Ingress]"
PATCHES = [
    ("a policy removed ends isolation", policy("p", "x", ALLOW_B) + policy("q", "y", DENY),
     policy("q", "y", DENY)),
    ("a policy added starts isolation", policy("q", "y", DENY),
     policy("q", "y", DENY) + policy("p", "x", ALLOW_B)),
    ("a policy changed in place", policy("p", "x", ALLOW_B),
     policy("p", "x", ALLOW_B.replace("app: b", "app: a"))),
    ("one of two policies isolating the same pods removed",
     policy("p", "x", ALLOW_B) + policy("d", "x", DENY), policy("d", "x", DENY)),
    ("egress to every destination removed, named-port egress added",
     policy("e", "x", DNS), policy("f", "x", TO_Y)),
    ("nothing changes", policy("p", "x", ALLOW_B) + policy("e", "x", DNS),
     policy("p", "x", ALLOW_B) + policy("e", "x", DNS)),
    ("the same rule twice, one copy removed",
     policy("p", "x", ALLOW_B) + policy("p2", "x", ALLOW_B), policy("p2", "x", ALLOW_B)),
]  # fmt: skip


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in PATCHES], ids=[c[0] for c in PATCHES])
def test_patched_rules_hold_what_a_full_compile_holds(before: str, after: str) -> None:
    first, second = make_cluster(before), make_cluster(after)
    cache = SelectorCache(blocks=policy_blocks(first.policies))
    cache.update(first)
    earlier = compile_rules(first, cache)
    patched = compile_rules(second, cache, other=earlier, earlier=earlier)
    full = compile_rules(second, cache)
    # Patched, not compiled again: the lists no policy change touches are the other side's.
    assert any(map(operator.is_, patched.egress_to, earlier.egress_to))
    assert_same_rules(patched, full)
    # The other side's rules are left as they were.
    assert_same_rules(earlier, compile_rules(first, cache))


def assert_same_rules(one: RuleSet, two: RuleSet) -> None:
    """Equal as ports, whatever atoms spell them: a patched side may keep finer atoms."""

    def spelled(rules: RuleSet, cells: list[int] | None) -> object:
        if cells is None:
            return None
        entries = rules.contributions(cells)
        return sorted((bits, rules.atoms.port_set(mask).render()) for bits, mask in entries)

    assert one.not_egress_isolated == two.not_egress_isolated
    assert one.ingress_isolated == two.ingress_isolated
    assert spelled(one, one.egress_to_all) == spelled(two, two.egress_to_all)
    for side in ("ingress_of", "egress_to"):
        assert [spelled(one, e) for e in getattr(one, side)] == [
            spelled(two, e) for e in getattr(two, side)
        ], side


def test_a_patched_side_keeps_the_finer_atoms_of_the_other() -> None:
    first = make_cluster(policy("p", "x", ALLOW_B) + policy("q", "y", DENY))
    second = make_cluster(policy("q", "y", DENY))
    cache = SelectorCache()
    cache.update(first)
    earlier = compile_rules(first, cache)
    rules = compile_rules(second, cache, other=earlier, earlier=earlier)
    assert rules.atoms is earlier.atoms
    assert (Protocol.TCP, 80, 80) in rules.atoms.atoms  # only the removed policy names it


def test_rules_whose_ports_cut_the_atoms_otherwise_are_compiled_in_full() -> None:
    first = make_cluster(policy("p", "x", ALLOW_B))
    second = make_cluster(policy("p", "x", ALLOW_B.replace("port: 80", "port: 81")))
    cache = SelectorCache()
    cache.update(first)
    earlier = compile_rules(first, cache)
    rules = compile_rules(second, cache, other=earlier, earlier=earlier)
    assert rules.atoms.atoms != earlier.atoms.atoms  # port 81 alone is no atom before
    assert_same_rules(rules, compile_rules(second, cache))


# compile_rules(earlier=) when this side has more identities (a review that relabels pods):
# the other side's lists are kept, its cells get their bits over the new identities, and the
# new identities' lists are compiled on their own. It must hold what a full compile holds;
# where it cannot be exact, it compiles in full.
def relabelled(key: str, **labels: str) -> Callable[[Cluster], Cluster]:
    def change(cluster: Cluster) -> Cluster:
        pods = tuple(
            replace(p, labels=p.labels.merged(labels)) if p.key == key else p for p in cluster.pods
        )
        return replace(cluster, pods=pods)

    return change


def with_pod(name: str, port: int) -> Callable[[Cluster], Cluster]:
    def change(cluster: Cluster) -> Cluster:
        pod = Pod(
            namespace="x",
            name=name,
            labels=Labels({"app": "new"}),
            ips=(ipaddress.ip_address("198.18.0.9"),),
            ports=(ContainerPort(port=port, name="http"),),
        )
        return replace(cluster, pods=(*cluster.pods, pod))

    return change


@dataclass(frozen=True)
class Grow:
    id: str
    before: str
    after: str
    change: Callable[[Cluster], Cluster]
    kept: bool = True  # the other side's lists kept (False: compiled in full)


TO_X = EGRESS_X + "[{to: [{podSelector: {}}], ports: [{port: http}]}]"
NOT_CANARY = ALLOW_B.replace(
    "{matchLabels: {app: b}}",
    "{matchExpressions: [{key: app, operator: In, values: [b]}, {key: rollout, operator: DoesNotExist}]}",
)
TO_C = "podSelector: {matchLabels: {app: c}}\npolicyTypes: [Egress]\negress: [{}]"
GROWS = [
    Grow("a pod relabelled into a peer's sources", policy("p", "x", ALLOW_B),
         policy("p", "x", ALLOW_B), relabelled("x/b", rollout="canary")),
    Grow("a pod relabelled into a policy's pods", policy("p", "x", ALLOW_B),
         policy("p", "x", ALLOW_B), relabelled("x/a", rollout="canary")),
    Grow("egress by named port reaches a new identity", policy("e", "x", TO_X),
         policy("e", "x", TO_X), relabelled("x/b", rollout="canary")),
    Grow("a peer that selected nothing selects the relabelled pod",
         policy("p", "x", ALLOW_B.replace("app: b", "app: c")),
         policy("p", "x", ALLOW_B.replace("app: b", "app: c")), relabelled("x/b", app="c")),
    Grow("relabelled, and policies removed and added", policy("p", "x", ALLOW_B) + policy("e", "x", DNS),
         policy("q", "y", DENY) + policy("f", "x", TO_Y), relabelled("y/a", rollout="canary")),
    Grow("rules alike before, unlike on the new identity: compiled in full",
         policy("p", "x", ALLOW_B) + policy("q", "x", NOT_CANARY),
         policy("p", "x", ALLOW_B) + policy("q", "x", NOT_CANARY),
         relabelled("x/b", rollout="canary"), kept=False),
    Grow("an egress policy that selected no pod selects one: compiled in full",
         policy("e", "x", TO_C), "", relabelled("x/b", app="c"), kept=False),
    Grow("a new identity's named port the atoms do not cut: compiled in full",
         policy("e", "x", TO_X), policy("e", "x", TO_X), with_pod("c", 9090), kept=False),
]  # fmt: skip


@pytest.mark.parametrize("case", GROWS, ids=[c.id for c in GROWS])
def test_grown_rules_hold_what_a_full_compile_holds(case: Grow) -> None:
    first, second = make_cluster(case.before), case.change(make_cluster(case.after))
    cache = SelectorCache(blocks=policy_blocks(first.policies))
    cache.update(first)
    earlier = compile_rules(first, cache)
    kept_lists = (
        [list(e) for e in earlier.egress_to],
        [None if e is None else list(e) for e in earlier.ingress_of],
    )
    cache.update(second)
    assert len(cache.identities.items) > len(earlier.egress_to)
    grown = compile_rules(second, cache, other=earlier, earlier=earlier)
    assert_same_rules(grown, compile_rules(second, cache))
    assert (grown.atoms is earlier.atoms) is case.kept
    # The other side's lists are left as they were.
    assert (earlier.egress_to, earlier.ingress_of) == kept_lists
