"""The compiler: base chains as a data table, the pods of one node, services' NAT, and each kind
of change giving the ruleset a fresh compile gives, in a transaction that touches only what
changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podwall.model.cluster import Cluster
from podwall.nft import FakeNFT, fragments
from podwall.nft.compile import BASE_CHAINS, Compiler, compile_ruleset
from podwall.nft.flowlog import FlowLog
from podwall.nft.fragments import flatten
from podwall.nft.objects import ChainType, Hook
from podwall.nft.ruleset import full_transaction
from podwall.nft.statements import Log
from tests.builders import make_cluster, policy

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
