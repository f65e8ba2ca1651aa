"""ClusterNetworkPolicies over identities: each tier's ordered entries per destination."""

from __future__ import annotations

from podwall.engine.atoms import Atoms
from podwall.engine.selectorcache import SelectorCache
from podwall.engine.tierrules import TierRules, address_blocks, compile_tiers, port_cuts
from podwall.model.clusterpolicy import Action, Tier
from podwall.model.policy import Direction
from podwall.model.ports import Protocol
from podwall.model.record import replace
from tests.builders import NODE, cluster_policy, make_cluster

RULES = cluster_policy(
    "a", "Admin", 1,
    """subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
ingress:
- {action: Deny, from: [{namespaces: {matchLabels: {team: blue}}}],
   protocols: [{tcp: {destinationPort: {range: {start: 80, end: 90}}}}]}
- {action: Accept, from: [{}]}
- {action: Pass, from: [{}], protocols: [{destinationNamedPort: http}]}
egress:
- {action: Deny, to: [{networks: [198.18.1.0/24]}, {nodes: {}}]}""",
)  # fmt: skip


def _compiled() -> tuple[SelectorCache, Atoms, TierRules]:
    c = make_cluster(NODE + RULES)
    pods = tuple(sorted(c.pods, key=lambda p: p.key))
    selectors = SelectorCache(blocks=address_blocks(c))
    selectors.update(replace(c, pods=pods))
    atoms = Atoms(port_cuts(c))
    return selectors, atoms, compile_tiers(c, selectors, atoms)


def test_networks_and_node_addresses_split_identities() -> None:
    c = make_cluster(NODE + RULES)
    assert [str(b.cidr) for b in address_blocks(c)] == ["198.18.1.0/24", "198.19.255.1/32"]


def test_ports_of_the_rules_cut_the_atoms() -> None:
    assert port_cuts(make_cluster(RULES)) == [(Protocol.TCP, 80, 90)]


def test_ingress_entries_are_in_rule_order_per_destination() -> None:
    selectors, atoms, tiers = _compiled()
    ids = selectors.identities
    x_a, y_a = ids.of("x/a"), ids.of("y/a")
    entries = tiers.of(Tier.ADMIN, Direction.INGRESS, x_a)
    blue = (1 << ids.of("y/a")) | (1 << ids.of("y/b"))
    http = atoms.port_mask(Protocol.TCP, 80)
    assert entries == [
        (blue, atoms.range_mask(Protocol.TCP, 80, 90), Action.DENY),
        # The empty peer fails closed: nothing for an Accept, everything for a Pass.
        (selectors.all_bits, http, Action.PASS),
    ]
    assert tiers.of(Tier.ADMIN, Direction.INGRESS, y_a) == []


def test_egress_entries_sit_with_the_destinations_the_peers_match() -> None:
    selectors, _, tiers = _compiled()
    ids = selectors.identities
    x_pods = (1 << ids.of("x/a")) | (1 << ids.of("x/b"))
    for pod in ("y/a", "y/b", "y/host"):  # y/host is the node's address
        (entry,) = tiers.of(Tier.ADMIN, Direction.EGRESS, ids.of(pod))
        assert entry[0] == x_pods
        assert entry[2] is Action.DENY
    assert tiers.of(Tier.ADMIN, Direction.EGRESS, ids.of("x/b")) == []
