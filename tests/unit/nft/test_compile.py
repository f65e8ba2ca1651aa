"""The compiler: base chains as a data table, the pods of one node, services' NAT, and each kind
of change giving the ruleset a fresh compile gives, in a transaction that touches only what
changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podwall.engine import decide
from podwall.model.cluster import Cluster
from podwall.nft import FakeNFT, fragments
from podwall.nft.compile import BASE_CHAINS, EGRESS_VERDICT, Compiler, compile_ruleset
from podwall.nft.compile import TO_NODE as TO_NODE_CHAIN
from podwall.nft.flowlog import FlowLog
from podwall.nft.fragments import flatten
from podwall.nft.objects import ChainType, Hook
from podwall.nft.ruleset import full_transaction
from podwall.nft.statements import CtState, Field, Jump, Log, Match
from podwall.nft.trace import Packet, Verdict, trace
from tests.builders import N1_ADDRESS, ON_N1, cluster_policy, make_cluster, policy, traffic

ROOT = Path(__file__).parents[3]
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


def test_the_filter_chains_check_egress_then_ingress_on_the_forward_hook() -> None:
    chains = compile_ruleset(make_cluster()).chains
    filters = [b for b in BASE_CHAINS if b.type is ChainType.FILTER]
    assert [b.name for b in filters] == ["egress", "ingress"]
    assert all(chains[b.name].hook is Hook.FORWARD for b in filters)
    egress, ingress = (chains[b.name].priority for b in filters)
    assert egress is not None
    assert ingress is not None
    assert egress < ingress


def _verdict_map_keys(ruleset_cluster: Cluster, node: str | None) -> set[str]:
    ruleset = compile_ruleset(ruleset_cluster, node)
    return {key[0] for key in ruleset.elements.get("in-pods", {})}


ON_NODES = """
apiVersion: v1
kind: Pod
metadata: {name: n1, namespace: x, labels: {app: a}}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {podIP: 198.18.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: n2, namespace: x, labels: {app: a}}
spec: {nodeName: node-2, containers: [{name: c}]}
status: {podIP: 198.18.0.12}
---
"""


@pytest.mark.parametrize(
    ("node", "addresses"),
    [
        (None, {"198.18.0.1", "198.18.0.2", "198.18.0.11", "198.18.0.12"}),
        ("node-1", {"198.18.0.1", "198.18.0.2", "198.18.0.11"}),
        ("node-2", {"198.18.0.1", "198.18.0.2", "198.18.0.12"}),
    ],
    ids=["every pod without a node", "the pods of node-1 and those of no node", "node-2"],
)
def test_a_node_isolates_only_its_own_pods(node: str | None, addresses: set[str]) -> None:
    cluster = make_cluster(
        ON_NODES + policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
    )
    assert _verdict_map_keys(cluster, node) == addresses


SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: x}
spec: {clusterIP: 198.19.0.20, selector: {app: SELECTS}, ports: [{port: 80, targetPort: http}]}
---
"""


@pytest.mark.parametrize(
    ("selects", "nat"),
    [("a", True), ("nobody", False)],
    ids=["a service with endpoints loads the NAT chain", "one without endpoints does not"],
)
def test_the_nat_chain_is_loaded_only_while_a_service_has_endpoints(
    selects: str, nat: bool
) -> None:
    out = Compiler().compile(make_cluster(SERVICE.replace("SELECTS", selects)))
    assert (("nat",) in out) is nat
    assert ("nat-prerouting" in flatten(out).chains) is nat


def test_compile_ruleset_is_the_compilers_fragments_in_one_piece() -> None:
    cluster = make_cluster(BASE + SERVICE.replace("SELECTS", "a"))
    fake = FakeNFT()
    fake.run(fragments.full(Compiler().compile(cluster)))
    assert fake.dump() == _dump(cluster)


def test_with_flow_log_the_tags_of_a_removed_policy_are_released_after_the_grace() -> None:
    compiler = Compiler("node-1", flow_log=FlowLog())
    compiler.tags.grace = 0.0
    carried = lambda out: {  # noqa: E731
        stmt.prefix
        for fragment in out.values()
        for rules in fragment.rules.values()
        for rule in rules
        for stmt in rule.statements
        if isinstance(stmt, Log)
    }
    before = carried(compiler.compile(make_cluster(BASE)))
    assert before
    assert all(compiler.tags.get(p) is not None for p in before)
    after = carried(compiler.compile(make_cluster(ALLOW_A)))
    assert after < before
    assert all(compiler.tags.get(p) is not None for p in after)
    assert all(compiler.tags.get(p) is None for p in before - after)


NODE_PORT_APP = (ROOT / "tests" / "golden" / "manifests" / "nodeport.yaml").read_text() + "\n---\n"
NODE_PORT_CHANGES: list[tuple[str, str, bool]] = [
    ("a node joins", NODE_PORT_APP + "apiVersion: v1\nkind: Node\nmetadata: {name: node-3}\nstatus: {addresses: [{type: InternalIP, address: 198.18.255.3}]}\n", True),
    ("the service turns ClusterIP", NODE_PORT_APP.replace("type: NodePort", "type: ClusterIP"), False),
    ("the node port moves", NODE_PORT_APP.replace("30080", "30081"), True),
    ("the endpoint goes", NODE_PORT_APP.replace("labels: {app: web}", "labels: {app: gone}"), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "node_ports"), [(t, n) for _, t, n in NODE_PORT_CHANGES],
    ids=[c[0] for c in NODE_PORT_CHANGES],
)  # fmt: skip
def test_node_ports_follow_services_and_nodes(text: str, node_ports: bool) -> None:
    compiler = Compiler("node-1")
    loaded = compiler.compile(make_cluster(NODE_PORT_APP, base=""))
    assert ("nodeports",) in loaded
    fake = FakeNFT()
    fake.run(fragments.full(loaded))
    desired = compiler.compile(make_cluster(text, base=""))
    fake.run(fragments.update(loaded, desired, compiler.touched))
    fresh = FakeNFT()
    fresh.run(full_transaction(compile_ruleset(make_cluster(text, base=""), "node-1")))
    assert fake.dump() == fresh.dump()
    assert (("nodeports",) in desired) is node_ports


def test_nodes_that_keep_their_addresses_rebuild_nothing() -> None:
    compiler = Compiler("node-1")
    before = compiler.compile(make_cluster(NODE_PORT_APP, base=""))
    relabelled = NODE_PORT_APP.replace(
        "metadata: {name: node-2}", "metadata: {name: node-2, labels: {a: b}}"
    )
    after = compiler.compile(make_cluster(relabelled, base=""))
    assert after[("nodeports",)] is before[("nodeports",)]
    assert ("nodeports",) not in compiler.touched


# A pod's connections to its own node (issue: egress to the node failed open), on ON_N1.
NODE_ADDRESS = N1_ADDRESS
NO_EGRESS = policy("no-egress", "x", "podSelector: {}\npolicyTypes: [Egress]")
TO_NODE = policy("to-node", "x", f"podSelector: {{}}\negress: [{{to: [{{ipBlock: {{cidr: {NODE_ADDRESS}/32}}}}]}}]")  # fmt: skip
ADMIN_PASS = cluster_policy("pass-all", "Admin", 5, "subject: {namespaces: {}}\negress: [{action: Pass, to: [{namespaces: {}}]}]")  # fmt: skip


def _input(cluster: Cluster, saddr: str, ct_state: CtState = CtState.NEW) -> Verdict:
    """The verdict n1's input hook gives a packet to the node's address."""
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(cluster, "n1")))
    packet = Packet(saddr=saddr, daddr=NODE_ADDRESS, dport=8081, ct_state=ct_state)
    return trace(fake, packet, Hook.INPUT).verdict


def _engine(cluster: Cluster, src: str) -> bool:
    return decide(cluster, traffic(cluster, src, "x/host", 8081)).allowed


def test_the_input_hook_jumps_to_the_egress_verdict_the_forward_hook_uses() -> None:
    rs = compile_ruleset(make_cluster(ON_N1, base=""), "n1")
    assert rs.chains[TO_NODE_CHAIN.name].hook is Hook.INPUT
    assert rs.chains[EGRESS_VERDICT.name].hook is None  # a regular chain: a jump target
    jumps = {
        chain: [r.statements for r in rs.rules[chain] if Jump(EGRESS_VERDICT.name) in r.statements]
        for chain in ("egress", TO_NODE_CHAIN.name)
    }
    assert len(jumps["egress"]) == 1  # past the conntrack rules, every packet
    assert jumps[TO_NODE_CHAIN.name] == [(Match(Field.CT_STATE, "new"), Jump(EGRESS_VERDICT.name))]
    assert rs.rules[TO_NODE_CHAIN.name][0].statements == jumps[TO_NODE_CHAIN.name][0]  # only rule


NODE_CASES: list[tuple[str, str, str, CtState, Verdict]] = [
    ("a pod denied all egress cannot open a connection to its node", NO_EGRESS, "198.18.0.1", CtState.NEW, Verdict.DROP),
    ("an ipBlock of the node's address lets it in", NO_EGRESS + TO_NODE, "198.18.0.1", CtState.NEW, Verdict.ACCEPT),
    ("a pod no policy isolates gets in", "", "198.18.0.1", CtState.NEW, Verdict.ACCEPT),
    ("replies to the node's own connection into the pod pass", NO_EGRESS, "198.18.0.1", CtState.ESTABLISHED, Verdict.ACCEPT),
    ("related packets pass", NO_EGRESS, "198.18.0.1", CtState.RELATED, Verdict.ACCEPT),
    ("the node's own traffic passes", NO_EGRESS, NODE_ADDRESS, CtState.NEW, Verdict.ACCEPT),
    ("a pod of another node was judged there", NO_EGRESS, "198.18.0.2", CtState.NEW, Verdict.ACCEPT),
    ("with tiers, a pass still meets the pod's egress", NO_EGRESS + ADMIN_PASS, "198.18.0.1", CtState.NEW, Verdict.DROP),
    ("with tiers, the ipBlock still lets it in", NO_EGRESS + TO_NODE + ADMIN_PASS, "198.18.0.1", CtState.NEW, Verdict.ACCEPT),
]  # fmt: skip


@pytest.mark.parametrize(
    ("manifests", "saddr", "ct_state", "verdict"), [c[1:] for c in NODE_CASES],
    ids=[c[0] for c in NODE_CASES],
)  # fmt: skip
def test_a_pods_connection_to_its_own_node_meets_its_egress_on_the_input_hook(
    manifests: str, saddr: str, ct_state: CtState, verdict: Verdict
) -> None:
    cluster = make_cluster(ON_N1 + manifests, base="")
    assert _input(cluster, saddr, ct_state) is verdict
    if saddr == "198.18.0.1" and ct_state is CtState.NEW:
        assert _engine(cluster, "x/a") is (verdict is Verdict.ACCEPT)


def test_the_input_hook_logs_the_tag_the_forward_hook_logs() -> None:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(make_cluster(ON_N1 + NO_EGRESS, base=""), "n1", flow_log=FlowLog())))  # fmt: skip
    logged = {}
    for hook, daddr in ((Hook.FORWARD, "198.18.0.2"), (Hook.INPUT, NODE_ADDRESS)):
        traced = trace(fake, Packet(saddr="198.18.0.1", daddr=daddr, dport=80), hook)
        assert traced.verdict is Verdict.DROP
        logged[hook] = [s.prefix for step in traced.steps if step.rule is not None
                        for s in step.rule.statements if isinstance(s, Log)]  # fmt: skip
    assert logged[Hook.INPUT] == logged[Hook.FORWARD]
    assert len(logged[Hook.INPUT]) == 1


def test_incremental_updates_keep_the_input_hook_judging() -> None:
    """Policies and tiers come and go; each update reaches a full load, the engine agrees."""
    steps = ["", NO_EGRESS, NO_EGRESS + ADMIN_PASS, NO_EGRESS + TO_NODE + ADMIN_PASS,
             NO_EGRESS + TO_NODE, NO_EGRESS, ""]  # fmt: skip
    compiler = Compiler("n1")
    fake = FakeNFT()
    loaded = compiler.compile(make_cluster(ON_N1, base=""))
    fake.run(fragments.full(loaded))
    for manifests in steps[1:]:
        cluster = make_cluster(ON_N1 + manifests, base="")
        desired = compiler.compile(cluster)
        fake.run(fragments.update(loaded, desired, compiler.touched))
        loaded = desired
        fresh = FakeNFT()
        fresh.run(full_transaction(compile_ruleset(cluster, "n1")))
        assert fake.dump() == fresh.dump()
        packet = Packet(saddr="198.18.0.1", daddr=NODE_ADDRESS, dport=8081)
        traced = trace(fake, packet, Hook.INPUT).verdict is Verdict.ACCEPT
        assert traced is _engine(cluster, "x/a"), manifests
