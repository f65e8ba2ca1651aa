"""ClusterNetworkPolicies in the ruleset: the tier chains around the class chains, each rule
traced to what `decide()` says and named in its comment, and changes that touch only them."""

from __future__ import annotations

from unittest import mock

import pytest

from podwall.engine import decide
from podwall.model.cluster import Cluster
from podwall.model.record import replace
from podwall.nft import FakeNFT, Packet, fragments, setbook, trace
from podwall.nft.clusterpolicies import set_name
from podwall.nft.compile import Compiler, compile_ruleset
from podwall.nft.flowlog import FlowLog
from podwall.nft.logtags import TagKind
from podwall.nft.ruleset import full_transaction
from podwall.nft.statements import Field, Jump, Lookup, Match, Return, VMap
from podwall.nft.trace import Verdict
from tests.builders import NODE, cluster_policy, make_cluster, policy, traffic

ADDRESS = {
    "x/a": "198.18.0.1",
    "x/b": "198.18.0.2",
    "y/a": "198.18.1.1",
    "y/b": "198.18.1.2",
    "y/host": "198.19.255.1",
}

DENY_X_TO_YB = cluster_policy(
    "guard",
    "Admin",
    5,
    """
subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: db}}}}
ingress:
- name: no-red
  action: Deny
  from: [{namespaces: {matchLabels: {team: red}}}]
""",
)
PASS_THEN_DENY = cluster_policy(
    "pass-a",
    "Admin",
    1,
    """
subject: {namespaces: {matchLabels: {team: blue}}}
ingress:
- name: pass-a
  action: Pass
  from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}]
""",
)
BASELINE_DENY = cluster_policy(
    "default-deny",
    "Baseline",
    1000,
    """
subject: {namespaces: {}}
ingress:
- name: deny-all
  action: Deny
  from: [{namespaces: {}}]
""",
)
ADMIN_EGRESS_ACCEPT = cluster_policy(
    "open-egress",
    "Admin",
    2,
    """
subject: {namespaces: {matchLabels: {team: red}}}
egress:
- name: to-blue
  action: Accept
  to: [{namespaces: {matchLabels: {team: blue}}}]
""",
)
ISOLATE_YB = policy("isolate", "y", "podSelector: {matchLabels: {tier: db}}")
ADMIT_ALL_YB = policy("admit", "y", "podSelector: {matchLabels: {tier: db}}\ningress: [{}]")


def _loaded(c: Cluster) -> FakeNFT:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c)))
    return fake


def _traced_on(fake: FakeNFT, src: str, dst: str, port: int = 80, proto: str = "TCP") -> bool:
    packet = Packet(saddr=ADDRESS[src], daddr=ADDRESS[dst], l4proto=proto.lower(), dport=port)
    return trace(fake, packet).verdict is Verdict.ACCEPT


def _traced(c: Cluster, src: str, dst: str, port: int = 80, proto: str = "TCP") -> bool:
    return _traced_on(_loaded(c), src, dst, port, proto)


CASES = [
    # (id, manifests, src, dst, port, protocol, allowed)
    ("an admin deny beats a network policy that admits", DENY_X_TO_YB + ADMIT_ALL_YB,
     "x/a", "y/b", 80, "TCP", False),
    ("an admin deny leaves other peers alone", DENY_X_TO_YB, "y/a", "y/b", 80, "TCP", True),
    ("a pass goes to the network policy stage", PASS_THEN_DENY + BASELINE_DENY + ADMIT_ALL_YB,
     "x/a", "y/b", 80, "TCP", True),
    ("a pass skips the rest of the admin tier", PASS_THEN_DENY + DENY_X_TO_YB,
     "x/a", "y/b", 80, "TCP", True),
    ("after a pass the baseline decides a pod no network policy selects",
     PASS_THEN_DENY + BASELINE_DENY, "x/a", "y/a", 80, "TCP", False),
    ("a network policy's answer is final: baseline never sees its pod",
     BASELINE_DENY + ADMIT_ALL_YB, "x/b", "y/b", 80, "TCP", True),
    ("a network policy's deny stays, baseline or not", BASELINE_DENY + ISOLATE_YB,
     "x/b", "y/b", 80, "TCP", False),
    ("an egress accept still needs the destination's ingress",
     ADMIN_EGRESS_ACCEPT + ISOLATE_YB, "x/a", "y/b", 80, "TCP", False),
    ("an egress accept lets a pod out that a network policy isolates for egress",
     ADMIN_EGRESS_ACCEPT + policy("no-out", "x", "podSelector: {}\npolicyTypes: [Egress]"),
     "x/a", "y/a", 80, "TCP", True),
    ("host-network pods are never subjects", BASELINE_DENY, "x/a", "y/host", 80, "TCP", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("manifests", "src", "dst", "port", "proto", "allowed"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_the_traced_ruleset_decides_as_the_engine(
    manifests: str, src: str, dst: str, port: int, proto: str, allowed: bool
) -> None:
    c = make_cluster(manifests + NODE)
    assert decide(c, traffic(c, src, dst, port, proto)).allowed is allowed
    assert _traced(c, src, dst, port, proto) is allowed


def test_audited_network_policies_alone_leave_the_say_to_the_baseline() -> None:
    audited = ADMIT_ALL_YB.replace(
        "metadata: {name: admit, namespace: y}",
        "metadata: {name: admit, namespace: y, annotations: {podwall.dev/enforcement: audit}}",
    )
    c = make_cluster(BASELINE_DENY + audited)
    assert c.policies[0].audit
    assert decide(c, traffic(c, "x/a", "y/b", 80)).allowed is False
    assert _traced(c, "x/a", "y/b") is False


def test_the_verdicts_run_admin_then_the_class_map_then_baseline() -> None:
    rs = compile_ruleset(make_cluster(DENY_X_TO_YB))
    # The egress verdict is a chain of its own, which the forward and input hooks jump to.
    for chain, skip, short in (("egress-verdict", 0, "out"), ("ingress", 2, "in")):
        verdicts = [r.statements[-1] for r in rs.rules[chain]][skip:]  # after conntrack
        targets = [v.chain if isinstance(v, Jump) else v.map_name for v in verdicts
                   if isinstance(v, Jump | VMap)]  # fmt: skip
        assert len(targets) == len(verdicts)
        assert targets == [
            f"tier_admin_{short}",
            f"{short}-pods",
            f"tier_baseline_{short}",
            f"{short}-audit-pods",
        ]


def test_without_cluster_network_policies_the_ruleset_is_as_before() -> None:
    rs = compile_ruleset(make_cluster(ISOLATE_YB))
    assert not any(name.startswith("tier_") for name in rs.chains)
    assert not any(isinstance(r.statements[-1], Jump) for r in rs.rules["ingress"])


def test_every_rule_comment_names_tier_priority_policy_rule_and_action() -> None:
    rs = compile_ruleset(make_cluster(PASS_THEN_DENY + DENY_X_TO_YB))
    head = rs.rules["tier_admin_in"]
    assert [r.comment for r in head] == [
        "Admin prio 1 pass-a",
        "Admin prio 1 pass-a ingress[0] 'pass-a' Pass from[0]",  # the Pass, repeated
        "Admin prio 5 guard",
    ]
    pass_chain, guard_chain = (r.statements[-1] for r in head[::2])
    assert isinstance(pass_chain, Jump)
    assert isinstance(guard_chain, Jump)
    [passing] = rs.rules[pass_chain.chain]
    [deny] = rs.rules[guard_chain.chain]
    assert passing.statements == head[1].statements
    assert isinstance(passing.statements[-1], Return)
    assert deny.comment == "Admin prio 5 guard ingress[0] 'no-red' Deny from[0]"


def test_an_accept_peer_with_no_field_matches_nothing_a_deny_one_everything() -> None:
    c = make_cluster(DENY_X_TO_YB)
    [cnp] = c.cluster_policies
    peerless = replace(cnp.ingress[0].peers[0], namespaces=None)
    deny = replace(cnp.ingress[0], peers=(peerless,))
    accept = replace(deny, action=type(deny.action).ACCEPT)
    for rule, rules in ((deny, 1), (accept, 0)):
        changed = replace(cnp, ingress=(rule,))
        rs = compile_ruleset(replace(c, cluster_policies=(changed,)))
        [jump] = rs.rules["tier_admin_in"]
        assert isinstance(jump.statements[-1], Jump)
        found = rs.rules[jump.statements[-1].chain]
        assert len(found) == rules
        if rules:  # the subject alone: every source
            assert [s for s in found[0].statements if isinstance(s, Match)] == [
                Match(Field.IP_DADDR, "198.18.1.2")
            ]


def test_a_named_port_is_the_destination_pods_own_in_any_protocol() -> None:
    named = cluster_policy(
        "named",
        "Admin",
        3,
        """
subject: {namespaces: {}}
egress:
- name: no-dns
  action: Deny
  to: [{namespaces: {}}]
  protocols: [{destinationNamedPort: dns}]
""",
    )
    c = make_cluster(named)
    rs = compile_ruleset(c)
    lookups = [
        s
        for chain, rules in rs.rules.items()
        if chain.startswith("cnp-out")
        for r in rules
        for s in r.statements
        if isinstance(s, Lookup)
    ]
    assert [lk.set_name for lk in lookups] == [set_name("dns")]
    assert set(rs.elements[set_name("dns")]) == {("198.18.0.1", "udp", "53")}
    assert _traced(c, "x/b", "x/a", 53, "UDP") is False
    assert _traced(c, "x/b", "x/a", 53, "TCP") is True


NO_NODES = cluster_policy(
    "nodes",
    "Admin",
    3,
    """
subject: {namespaces: {}}
egress:
- name: no-nodes
  action: Deny
  to: [{nodes: {matchLabels: {role: worker}}}]
""",
)


def test_a_node_peer_is_the_nodes_addresses() -> None:
    c = make_cluster(NO_NODES + NODE)
    assert _traced(c, "x/a", "y/host") is False
    assert _traced(c, "x/a", "y/a") is True


@pytest.mark.parametrize(
    "inline_max",
    [pytest.param(0, id="as a named set"), pytest.param(setbook.INLINE_MAX, id="written in")],
)
def test_a_node_peer_follows_the_nodes_as_they_come_change_and_go(inline_max: int) -> None:
    """Only the Nodes change from one snapshot to the next: the `nodes` peer's set must still
    follow them (it once kept the Nodes of its first compile)."""
    spare = NODE.replace("role: worker", "role: spare")
    manifests = ["", NODE, spare, NODE, ""]
    with mock.patch.object(setbook, "INLINE_MAX", inline_max):
        compiler = Compiler()
        loaded = compiler.compile(make_cluster(NO_NODES + manifests[0]))
        fake = FakeNFT()
        fake.run(fragments.full(loaded))
        for extra in manifests[1:]:
            c = make_cluster(NO_NODES + extra)
            desired = compiler.compile(c)
            fake.run(fragments.update(loaded, desired, compiler.touched))
            loaded = desired
            assert fake.dump() == _loaded(c).dump()
            assert _traced_on(fake, "x/a", "y/host") is (extra != NODE)


def test_a_node_enforces_the_subject_side_of_its_own_pods_only() -> None:
    c = make_cluster(BASELINE_DENY)
    placed = tuple(replace(p, node="n1" if p.namespace == "x" else "n2") for p in c.pods)
    out = Compiler("n1").compile(replace(c, pods=placed))
    [deny] = next(iter(out[("cnp", "baseline/default-deny", "in")].rules.values()))
    assert deny.statements[0] == Match(Field.IP_DADDR, ("198.18.0.1", "198.18.0.2"))


def _changed(c: Cluster, name: str, **changes: object) -> Cluster:
    found = next(p for p in c.cluster_policies if p.name == name)
    new = replace(found, **changes)  # type: ignore[arg-type]
    policies = tuple(new if p is found else p for p in c.cluster_policies)
    return replace(c, cluster_policies=policies)


def test_a_changed_rule_rewrites_its_policys_chain_only() -> None:
    c = make_cluster(DENY_X_TO_YB + PASS_THEN_DENY + BASELINE_DENY + ISOLATE_YB)
    compiler = Compiler()
    before = compiler.compile(c)
    guard = next(p for p in c.cluster_policies if p.name == "guard")
    peers = (replace(guard.ingress[0].peers[0], namespaces=None, pods=None),)
    after = compiler.compile(
        _changed(c, "guard", ingress=(replace(guard.ingress[0], peers=peers),))
    )
    assert compiler.touched == {("cnp", "admin/guard", "in")}
    assert all(after[k] is before[k] for k in before if k not in compiler.touched)


@pytest.mark.parametrize(
    ("policy", "changes"),
    [
        pytest.param("guard", {"priority": 0}, id="a new priority moves the policy's jump"),
        pytest.param("pass-a", {"ingress": ()}, id="a Pass rule gone from the tier chain"),
    ],
)
def test_the_tier_chain_is_rewritten_for_order_and_pass_rules(
    policy: str, changes: dict[str, object]
) -> None:
    c = make_cluster(DENY_X_TO_YB + PASS_THEN_DENY + BASELINE_DENY + ISOLATE_YB)
    compiler = Compiler()
    compiler.compile(c)
    compiler.compile(_changed(c, policy, **changes))
    assert ("tier", "admin", "in") in compiler.touched
    assert not [k for k in compiler.touched if k[0] in ("classes", "base")]


def test_the_last_cluster_policy_gone_takes_the_tier_chains_with_it() -> None:
    compiler = Compiler()
    compiler.compile(make_cluster(DENY_X_TO_YB))
    out = compiler.compile(make_cluster())
    assert not [k for k in out if k[0] == "tier"]
    assert ("base",) in compiler.touched
    assert out == Compiler().compile(make_cluster())


def test_with_flow_logging_the_tags_name_the_cluster_policy_rule() -> None:
    compiler = Compiler(flow_log=FlowLog())
    compiler.compile(make_cluster(DENY_X_TO_YB + PASS_THEN_DENY))
    prefixes = [
        s.prefix
        for f in compiler.compile(make_cluster(DENY_X_TO_YB + PASS_THEN_DENY)).values()
        for rules in f.rules.values()
        for r in rules
        for s in r.statements
        if hasattr(s, "prefix") and r.chain.startswith("cnp-")
    ]
    [prefix] = prefixes  # the Pass reports nothing: it decides nothing
    tag = compiler.tags.get(prefix)
    assert tag is not None
    assert (tag.kind, tag.policies, tag.rule_name, tag.action) == (
        TagKind.DENY,
        ("admin/guard",),
        "no-red",
        "Deny",
    )


def tier_cluster() -> Cluster:
    """Every kind of tier rule at once: Accept, Deny, Pass; namespaces, pods, nodes, networks,
    named ports, ranges; an audited NetworkPolicy."""
    every = cluster_policy(
        "every",
        "Admin",
        4,
        """
subject: {namespaces: {}}
egress:
- name: nodes
  action: Deny
  to: [{nodes: {matchLabels: {role: worker}}}]
  protocols: [{tcp: {destinationPort: {range: {start: 80, end: 90}}}}]
- name: nets
  action: Accept
  to: [{networks: [198.18.0.0/24, 198.18.1.0/30]}]
  protocols: [{destinationNamedPort: http}, {udp: {destinationPort: {number: 53}}}]
""",
    )
    audited = policy("watch", "x", "podSelector: {}").replace(
        "namespace: x}", "namespace: x, annotations: {podwall.dev/enforcement: audit}}"
    )
    return make_cluster(every + DENY_X_TO_YB + PASS_THEN_DENY + BASELINE_DENY + audited + NODE)


def test_the_every_kind_cluster_traces_as_the_engine_decides() -> None:
    c = tier_cluster()
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c)))
    for src in ADDRESS:
        for dst in ADDRESS:
            for port, proto in ((80, "TCP"), (8080, "TCP"), (53, "UDP"), (85, "TCP")):
                if src == dst or src == "y/host":
                    continue
                packet = Packet(
                    saddr=ADDRESS[src], daddr=ADDRESS[dst], l4proto=proto.lower(), dport=port
                )
                traced = trace(fake, packet).verdict is Verdict.ACCEPT
                expected = decide(c, traffic(c, src, dst, port, proto)).allowed
                assert traced is expected, (src, dst, port, proto)


def test_audited_classes_move_between_the_maps_as_the_tiers_come_and_go() -> None:
    audited = ADMIT_ALL_YB.replace(
        "metadata: {name: admit, namespace: y}",
        "metadata: {name: admit, namespace: y, annotations: {podwall.dev/enforcement: audit}}",
    )
    snapshots = [make_cluster(audited), make_cluster(audited + BASELINE_DENY)]
    snapshots.append(snapshots[0])
    compiler = Compiler()
    loaded = compiler.compile(snapshots[0])
    fake = FakeNFT()
    fake.run(fragments.full(loaded))
    for c in snapshots[1:]:
        desired = compiler.compile(c)
        fake.run(fragments.update(loaded, desired, compiler.touched))
        loaded = desired
        fresh = FakeNFT()
        fresh.run(full_transaction(compile_ruleset(c)))
        assert fake.dump() == fresh.dump()
        maps = {e.map for f in desired.values() for es in f.elements.values() for e in es.values()}
        assert ("in-audit-pods" in maps) is bool(c.cluster_policies)
