"""Policies as rules and class chains: what sets a rule asks for, one nft rule per (peer, port),
sets written in or named, and pods selected by the same policies sharing one chain."""

from __future__ import annotations

import pytest

from podwall.engine.selectorcache import SelectorCache
from podwall.model.policy import Direction, NetworkPolicy
from podwall.nft.policies import (
    Resolved,
    RuleBody,
    classes_fragment,
    clip,
    named_key,
    peer_key,
    policy_requests,
    policy_rules,
)
from tests.builders import make_cluster, policy


def one_policy(spec: str, namespace: str = "x") -> NetworkPolicy:
    [p] = make_cluster(policy("p", namespace, spec)).policies
    return p


PEER_KEYS = [
    ("a podSelector alone names the policy's namespace", "{podSelector: {matchLabels: {app: b}}}", ("pod", "x", "app=b")),
    ("a namespaceSelector alone selects every pod there", "{namespaceSelector: {matchLabels: {team: blue}}}", ("ns", "team=blue", "*")),
    ("both selectors in one peer", "{namespaceSelector: {}, podSelector: {matchLabels: {app: b}}}", ("ns", "<none>", "app=b")),
    ("an ipBlock is its block and excepts", "{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}", ("ip", "10.0.0.0/8", "10.1.0.0/16")),
]  # fmt: skip


@pytest.mark.parametrize(("peer", "key"), [k[1:] for k in PEER_KEYS], ids=[k[0] for k in PEER_KEYS])
def test_a_peer_key_says_what_the_peer_means_whatever_the_policy(
    peer: str, key: tuple[str, ...]
) -> None:
    p = one_policy(f"podSelector: {{}}\ningress: [{{from: [{peer}]}}]")
    assert peer_key(p, p.ingress[0].peers[0]) == key


def test_policies_naming_the_same_peer_share_its_set() -> None:
    spec = "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]"
    one, other = one_policy(spec), one_policy(spec.replace("podSelector: {}", "podSelector: {matchLabels: {app: a}}"))  # fmt: skip
    [first], [second] = policy_requests(one, Direction.INGRESS), policy_requests(other, Direction.INGRESS)  # fmt: skip
    assert first.set_name == second.set_name


NAMED = [
    ("ingress: the selected pods", Direction.INGRESS, "podSelector: {matchLabels: {app: a}}\ningress: [{ports: [{port: http}]}]", ("http", "tcp", "sel", "x", "app=a")),
    ("egress without peers: every pod", Direction.EGRESS, "podSelector: {}\negress: [{ports: [{port: dns, protocol: UDP}]}]", ("dns", "udp", "all")),
    ("egress: the rule's peer", Direction.EGRESS, "podSelector: {}\negress: [{to: [{podSelector: {}}], ports: [{port: http}]}]", ("http", "tcp", "pod", "x", "<none>")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("direction", "spec", "key"), [n[1:] for n in NAMED], ids=[n[0] for n in NAMED]
)
def test_a_named_port_resolves_on_the_destinations(
    direction: Direction, spec: str, key: tuple[str, ...]
) -> None:
    p = one_policy(spec)
    rule = p.rules(direction)[0]
    peer = rule.peers[0] if rule.peers else None
    assert named_key(p, direction, peer, rule.ports[0]) == key


TWO_PEERS_TWO_PORTS = "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}, {ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 80}, {port: http}]}]"  # fmt: skip


def rendered(bodies: tuple[RuleBody, ...]) -> list[tuple[str, str]]:
    return [(" ".join(s.render() for s in statements), comment) for statements, comment in bodies]


def test_one_nft_rule_per_peer_and_port_each_naming_its_place() -> None:
    p = one_policy(TWO_PEERS_TWO_PORTS)
    asked = policy_requests(p, Direction.INGRESS)
    assert [r.key[0] for r in asked] == ["pod", "http", "ip", "http"]
    names: dict[str, Resolved] = {r.set_name: r.set_name for r in asked}
    lines = rendered(policy_rules(p, Direction.INGRESS, asked, names))
    assert [c for _, c in lines] == [
        "policy x/p ingress[0] from[0] ports[0]",
        "policy x/p ingress[0] from[0] ports[1]",
        "policy x/p ingress[0] from[1] ports[0]",
        "policy x/p ingress[0] from[1] ports[1]",
    ]
    assert all(text.endswith(" accept") for text, _ in lines)
    peer, named = asked[0].set_name, asked[1].set_name
    assert lines[0][0] == f"ip saddr @{peer} meta l4proto tcp th dport 80 accept"
    assert lines[1][0] == f"ip saddr @{peer} ip daddr . meta l4proto . th dport @{named} accept"


def test_a_small_set_is_written_into_the_rule_as_one_compare_per_element() -> None:
    p = one_policy("podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]")
    asked = policy_requests(p, Direction.INGRESS)
    resolved: dict[str, Resolved] = {asked[0].set_name: (("198.18.0.2",), ("198.18.0.3",))}
    assert rendered(policy_rules(p, Direction.INGRESS, asked, resolved)) == [
        ("ip saddr 198.18.0.2 accept", "policy x/p ingress[0] from[0]"),
        ("ip saddr 198.18.0.3 accept", "policy x/p ingress[0] from[0]"),
    ]


def test_an_inlined_egress_peer_pairs_only_with_its_own_named_port_elements() -> None:
    p = one_policy("podSelector: {}\negress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: http}]}]")  # fmt: skip
    peer, port = policy_requests(p, Direction.EGRESS)
    resolved: dict[str, Resolved] = {
        peer.set_name: (("198.18.0.2",), ("198.18.0.3",)),
        port.set_name: (("198.18.0.2", "tcp", "8080"), ("198.18.0.3", "tcp", "80")),
    }
    assert [text for text, _ in rendered(policy_rules(p, Direction.EGRESS, [peer, port], resolved))] == [
        "ip daddr 198.18.0.2 meta l4proto tcp th dport 8080 accept",
        "ip daddr 198.18.0.3 meta l4proto tcp th dport 80 accept",
    ]  # fmt: skip


def test_a_rule_without_peers_or_ports_accepts_everything() -> None:
    p = one_policy("podSelector: {}\ningress: [{}]")
    assert rendered(policy_rules(p, Direction.INGRESS, [], {})) == [
        ("accept", "policy x/p ingress[0]")
    ]


def test_pods_selected_by_the_same_policies_share_one_class_chain() -> None:
    cluster = make_cluster(
        policy("all", "x", "podSelector: {}\npolicyTypes: [Ingress]")
        + policy("only-a", "x", "podSelector: {matchLabels: {app: a}}\npolicyTypes: [Ingress]")
    )
    cache = SelectorCache()
    cache.update(cluster, {"x/a", "x/b"})
    ordered = sorted(cluster.policies, key=lambda p: p.key)
    bodies: dict[str, tuple[RuleBody, ...]] = {p.key: () for p in ordered}
    rs = classes_fragment(cache, Direction.INGRESS, "x", ordered, bodies)
    chains = {name: [r.text() for r in rules] for name, rules in rs.rules.items()}
    assert len(chains) == 2
    by_pod = {key[0]: element.text() for key, element in rs.elements["in-pods"].items()}
    assert set(by_pod) == {"198.18.0.1", "198.18.0.2"}
    assert by_pod["198.18.0.1"] != by_pod["198.18.0.2"]
    [chain_of_a] = [name for name in chains if by_pod["198.18.0.1"].endswith(f"jump {name}")]
    assert chains[chain_of_a] == [
        'counter drop comment "default deny ingress: isolated by x/all, x/only-a"'
    ]


def test_only_the_nodes_pods_and_never_host_network_ones_get_a_verdict() -> None:
    cluster = make_cluster(policy("all", "y", "podSelector: {}\npolicyTypes: [Ingress]"))
    cache = SelectorCache()
    cache.update(cluster, {"y/a", "y/host"})  # y/b is on another node
    rs = classes_fragment(cache, Direction.INGRESS, "y", list(cluster.policies), {"y/all": ()})
    assert [key[0] for key in rs.elements["in-pods"]] == ["198.18.1.1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('say "hi"', "say 'hi'"),
        ("x" * 128, "x" * 128),
        ("x" * 200, "x" * 125 + "..."),
        ("é" * 100, "é" * 62 + "..."),
    ],
    ids=["double quotes become single", "128 bytes fit", "longer is cut", "cut on a character"],
)
def test_clip_keeps_comments_nft_accepts(text: str, expected: str) -> None:
    assert clip(text) == expected
