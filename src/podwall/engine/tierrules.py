"""ClusterNetworkPolicies compiled over identities: per destination, each tier's ordered rules.

For every destination identity and direction, a tier is a list of entries in evaluation order
(policy priority, then name, then rule index): (bits of the other side, atoms, action). For
ingress the destination is the subject and the bits are the sources a rule's peers match; for
egress the destination is the peer and the bits are the senders the policy's subject selects.
The first entry covering a (source, atom) decides it, as `tiers.evaluate` decides pod by pod.

Selection comes from the selector cache; `networks` and `nodes` peers select identities by
address, so the cache's identities must be split by `address_blocks` (host-network pods
included: they carry their node's addresses). Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from podwall.engine.atoms import Atoms
from podwall.engine.identities import bit_indices
from podwall.engine.rulesets import Cut
from podwall.engine.selectorcache import SelectorCache
from podwall.engine.tiers import in_tier
from podwall.model.cluster import Cluster
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    NamespacedPod,
    Subject,
    Tier,
)
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction, IPBlock
from podwall.model.ports import Protocol
from podwall.model.record import Record, field

# (bits of the other side, atom mask, action)
Entry = tuple[int, int, Action]
NamedPorts = tuple[str, ...]


class TierRules(Record, frozen=False):
    """`entries[tier, direction][dst]`: the ordered entries of `tier` about identity `dst`."""

    entries: dict[tuple[Tier, Direction], list[list[Entry]]] = field(default_factory=dict)

    def of(self, tier: Tier, direction: Direction, dst: int) -> list[Entry]:
        return self.entries[tier, direction][dst]


def address_blocks(cluster: Cluster) -> tuple[IPBlock, ...]:
    """The blocks identities must be split by: every `networks` CIDR and node address."""
    seen: dict[IPBlock, None] = {}
    for policy in cluster.cluster_policies:
        for rule in policy.egress:
            for peer in rule.peers:
                for block in peer.networks:
                    seen.setdefault(IPBlock(cidr=block.cidr), None)
    for node in cluster.nodes:
        for ip in node.addresses:
            seen.setdefault(IPBlock(cidr=ipaddress.ip_network(ip)), None)
    return tuple(seen)


def port_cuts(cluster: Cluster) -> list[Cut]:
    cuts: list[Cut] = []
    for policy in cluster.cluster_policies:
        for rule in (*policy.ingress, *policy.egress):
            for port in rule.ports:
                if port.protocol is not None and port.start is not None:
                    end = port.end if port.end is not None else port.start
                    cuts.append((port.protocol, port.start, end))
    return cuts


def compile_tiers(cluster: Cluster, selectors: SelectorCache, atoms: Atoms) -> TierRules:
    """Every tier's entries; `selectors` follows the snapshot and `atoms` cut its ports."""
    compiler = _Compiler(cluster, selectors, atoms)
    n = len(selectors.identities.items)
    out = TierRules()
    for tier in Tier:
        for direction in Direction:
            per_dst: list[list[Entry]] = [[] for _ in range(n)]
            for policy in in_tier(cluster, tier, direction):
                compiler.add(policy, direction, per_dst)
            out.entries[tier, direction] = per_dst
    return out


class _Compiler:
    def __init__(self, cluster: Cluster, selectors: SelectorCache, atoms: Atoms) -> None:
        self.cluster = cluster
        self.selectors = selectors
        self.atoms = atoms
        # Policies share selectors and peers: each union and each index list is made once.
        self._namespaces: dict[LabelSelector, int] = {}
        self._pods: dict[NamespacedPod, int] = {}
        self._indices: dict[int, list[int]] = {}

    def indices(self, bits: int) -> list[int]:
        found = self._indices.get(bits)
        if found is None:
            found = self._indices[bits] = bit_indices(bits)
        return found

    def add(
        self, policy: ClusterNetworkPolicy, direction: Direction, per_dst: list[list[Entry]]
    ) -> None:
        subject = self.subject(policy.subject)
        if not subject:
            return
        for rule in policy.rules(direction):
            peers = self.peers(rule)
            static, named = self.mask(rule)
            if direction is Direction.INGRESS:
                dsts, others = subject, peers
            else:
                dsts, others = peers, subject
            if not others:
                continue
            if not named:  # one entry, shared by every destination
                if static:
                    entry = (others, static, rule.action)
                    for dst in self.indices(dsts):
                        per_dst[dst].append(entry)
                continue
            for dst in self.indices(dsts):
                mask = self.with_named(static, named, dst)
                if mask:
                    per_dst[dst].append((others, mask, rule.action))

    def subject(self, subject: Subject) -> int:
        if subject.pods is not None:
            return self.namespaced_pods(subject.pods)
        assert subject.namespaces is not None
        return self.namespaces(subject.namespaces)

    def namespaces(self, selector: LabelSelector) -> int:
        bits = self._namespaces.get(selector)
        if bits is None:
            bits = 0
            for ns in self.selectors.namespaces(selector):
                bits |= self.selectors.ns_bits.get(ns, 0)
            self._namespaces[selector] = bits
        return bits

    def namespaced_pods(self, sel: NamespacedPod) -> int:
        bits = self._pods.get(sel)
        if bits is None:
            bits = 0
            for ns in self.selectors.namespaces(sel.namespace_selector):
                bits |= self.selectors.selected(ns, sel.pod_selector)
            self._pods[sel] = bits
        return bits

    def peers(self, rule: ClusterRule) -> int:
        bits = 0
        for peer in rule.peers:
            bits |= self.peer(peer, rule.action)
        return bits

    def peer(self, peer: ClusterPeer, action: Action) -> int:
        if peer.is_empty:
            # Fail closed: an Accept matches nothing, a Deny or Pass everything.
            return 0 if action is Action.ACCEPT else self.selectors.all_bits
        if peer.namespaces is not None:
            return self.namespaces(peer.namespaces)
        if peer.pods is not None:
            return self.namespaced_pods(peer.pods)
        if peer.nodes is not None:
            return self._nodes(peer.nodes)
        return self._blocks(IPBlock(cidr=b.cidr) for b in peer.networks)

    def _nodes(self, selector: LabelSelector) -> int:
        return self._blocks(
            IPBlock(cidr=ipaddress.ip_network(ip))
            for node in self.cluster.nodes
            if selector.matches(node.labels)
            for ip in node.addresses
        )

    def _blocks(self, blocks: Iterable[IPBlock]) -> int:
        bits = 0
        for block in blocks:
            bits |= self.selectors.in_block(block)
        return bits

    def mask(self, rule: ClusterRule) -> tuple[int, NamedPorts]:
        """The atoms a rule matches whatever the destination, and its named ports."""
        if not rule.ports:
            return self.atoms.all_mask, ()
        mask = 0
        named: list[str] = []
        for port in rule.ports:
            if port.name is not None:
                named.append(port.name)
            elif port.protocol is not None:
                mask |= self._range(port.protocol, port.start, port.end)
        return mask, tuple(named)

    def _range(self, protocol: Protocol, start: int | None, end: int | None) -> int:
        if start is None:
            return self.atoms.protocol_mask(protocol)
        return self.atoms.range_mask(protocol, start, end if end is not None else start)

    def with_named(self, static: int, named: NamedPorts, dst: int) -> int:
        # A named port resolves on the destination, in whichever protocol it is declared.
        mask = static
        ident = self.selectors.identities.items[dst]
        for name in named:
            for port in ident.named_ports:
                if port.name == name:
                    mask |= self.atoms.port_mask(port.protocol, port.number)
        return mask
