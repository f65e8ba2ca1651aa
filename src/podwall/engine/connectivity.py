"""The full connectivity map of a snapshot, computed over identities and port atoms.

Sets of identities are int bitsets and sets of ports are int bitmasks over `Atoms`, so the
cost follows the number of identities and rules, not pods squared. `decide()` is the
definition; a property test holds this map to it on every pair, port and protocol.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from podwall.engine.atoms import Atoms
from podwall.engine.identities import Identity, bit_indices, policy_blocks
from podwall.engine.rulesets import Cell, Contribution, Cut, RuleSet, compile_rules
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import IPBlock
from podwall.model.ports import PortSet, Protocol
from podwall.model.record import Record, field, replace


# A result read field by field, never compared or hashed: identity equality is enough.
class ConnectivityMap(Record, frozen=False, eq=False):
    """For each destination identity, the partition of source identities by allowed atoms.

    Pods are indexed in (namespace, name) order; identities (the groups) by their first pod.
    """

    pods: tuple[Pod, ...]
    of_pod: tuple[int, ...]  # pod index -> identity index
    groups: tuple[tuple[int, ...], ...]  # identity index -> its pods' indices
    identities: tuple[Identity, ...]
    atoms: Atoms
    per_dst: list[list[Contribution]] = field(default_factory=list)
    # The other map of a pair whose pods have these pods' names, index by index
    # (`connectivity_pair`): a review that changes pods in place keeps them so.
    named_as: ConnectivityMap | None = None

    def atom_mask(self, src: int, dst: int) -> int:
        """Allowed atoms from pod `src` to pod `dst` (indices into `pods`)."""
        if src == dst:
            return self.atoms.all_mask
        s = self.of_pod[src]
        for bits, mask in self.per_dst[self.of_pod[dst]]:
            if bits >> s & 1:
                return mask
        return 0

    def ports(self, src: int, dst: int) -> PortSet:
        return self.atoms.port_set(self.atom_mask(src, dst))

    def allowed(self, src: int, dst: int, port: int, protocol: Protocol) -> bool:
        return bool(self.atom_mask(src, dst) & self.atoms.port_mask(protocol, port))

    def sources_on(self, dst_identity: int, atom: int) -> int:
        """Identities allowed to reach `dst_identity` on atom bitmask `atom`."""
        out = 0
        for bits, mask in self.per_dst[dst_identity]:
            if mask & atom:
                out |= bits
        return out

    def to_json(self) -> dict[str, Any]:
        # An entry covers pairs of distinct pods: a group of one pod listed on both sides says
        # nothing about that pod and itself (always allowed), and keeps "every pod" compact.
        entries: dict[tuple[int, int], list[int]] = {}
        for dst, contributions in enumerate(self.per_dst):
            for bits, mask in contributions:
                entries.setdefault((bits, mask), []).append(dst)
        connections = []
        for (bits, mask), dsts in entries.items():
            ports = self.atoms.port_set(mask)
            connections.append(
                {
                    "from": bit_indices(bits),
                    "to": dsts,
                    "ports": {p.value: [list(r) for r in rs] for p, rs in ports.ranges},
                    "text": ports.render(),
                }
            )
        return {
            "pods": [p.key for p in self.pods],
            "groups": [list(g) for g in self.groups],
            "connections": connections,
            "self": "every pod can reach itself on every port; connections cover distinct pods",
        }


def connectivity(cluster: Cluster) -> ConnectivityMap:
    # Policies in audit mode let everything through: the map is what the dataplane enforces.
    cluster = cluster.enforced()
    pods = _in_order(cluster)
    selectors = _selectors(cluster, pods, _blocks(cluster), _host_nodes(pods))
    cmap, _ = _map(cluster, pods, selectors, None)
    return cmap


def connectivity_pair(before: Cluster, after: Cluster) -> tuple[ConnectivityMap, ConnectivityMap]:
    """The maps of both sides of a change, each the same as `connectivity()` gives up to the
    grouping of pods. The two sides of a review are mostly the same objects: one selector
    cache follows both (identities split by both sides' ipBlocks, the second side's pods placed
    as the node compiler places a new snapshot's), and the second side computes again only
    what its rules and pods change (`_Destinations`). When both sides' pods and namespaces
    are equal, the second map's `of_pod` and `groups` are the first's very tuples: pod i is
    the same pod, in the same identity, on both sides."""
    before, after = before.enforced(), after.enforced()
    pods, after_pods = _in_order(before), _in_order(after)
    nodes = _host_nodes(pods, after_pods)
    selectors = _selectors(before, pods, _blocks(before) + _blocks(after), nodes)
    first, computed = _map(before, pods, selectors, None)
    placed: ConnectivityMap | None = first
    known: tuple[int, ...] | None = None
    # A namespace's labels may change what selects an identity: then the first side's
    # rules hold nothing for the second's.
    same_namespaces = after.namespaces == before.namespaces
    in_place = True
    if after_pods != pods or not same_namespaces:
        # Placing the second side's pods moves pods between the identities the first map
        # holds: those it changes are copied first.
        selectors.identities.hand_out()
        alike, in_place = _alike(pods, after_pods)
        selectors.update(replace(after, pods=alike))
        placed = None
        known = _known(first, alike)
    second, _ = _map(after, after_pods, selectors, computed, placed, known, reuse=same_namespaces)
    if in_place:
        second.named_as = first
    return first, second


def _known(first: ConnectivityMap, alike: tuple[Pod, ...]) -> tuple[int, ...] | None:
    """Per pod of `alike` (the second side's, `_alike`), its identity when it is the very
    pod object the first map holds at that index, and -1 for the others: placing the second
    side never moves a pod it did not place again."""
    if len(alike) != len(first.pods):
        return None
    return tuple(
        identity if pod is same else -1
        for pod, same, identity in zip(alike, first.pods, first.of_pod, strict=True)
    )


def _alike(before: tuple[Pod, ...], after: tuple[Pod, ...]) -> tuple[tuple[Pod, ...], bool]:
    """`after` with each pod equal to its namesake in `before` replaced by that very object:
    the selector cache places again only the pods that are new objects (`Identities.update`),
    so a review that changes a few pods places a few. The map still lists `after`'s own.
    And whether each pod has its namesake at its index."""
    if len(before) == len(after):
        # Most reviews keep every pod at its index: compared in place, at C speed where equal.
        kept = [b if b == a else a for b, a in zip(before, after, strict=True)]
        if all(k is b or _NAME(k) == _NAME(b) for k, b in zip(kept, before, strict=True)):
            return tuple(kept), True
    earlier = dict(zip(map(_NAME, before), before, strict=True))
    out = []
    for name, pod in zip(map(_NAME, after), after, strict=True):
        same = earlier.get(name)
        out.append(pod if same is None or same != pod else same)
    return tuple(out), False


_NAME = attrgetter("namespace", "name")  # a pod's key, without formatting a string


def _in_order(cluster: Cluster) -> tuple[Pod, ...]:
    return tuple(sorted(cluster.pods, key=_NAME))


def _blocks(cluster: Cluster) -> tuple[IPBlock, ...]:
    if not cluster.cluster_policies and not cluster.nodes:
        # No `networks` CIDR nor node address to split by; the tiers (and the
        # ClusterNetworkPolicy model) are imported only by the snapshots that need them.
        return policy_blocks(cluster.policies)
    from podwall.engine.tierrules import address_blocks

    return policy_blocks(cluster.policies) + address_blocks(cluster)


def _port_cuts(cluster: Cluster) -> list[Cut]:
    """Where the ClusterNetworkPolicies' ports split the port atoms (none without them)."""
    if not cluster.cluster_policies:
        return []
    from podwall.engine.tierrules import port_cuts

    return port_cuts(cluster)


def _host_nodes(*sides: tuple[Pod, ...]) -> set[str]:
    """The nodes with a host-network pod: ingress from it to a pod on its node is allowed."""
    return {p.node for pods in sides for p in pods if p.host_network and p.node is not None}


def _selectors(
    cluster: Cluster,
    pods: tuple[Pod, ...],
    blocks: tuple[IPBlock, ...],
    host_nodes: set[str],
) -> SelectorCache:
    # Identities split by every ipBlock, so that a block selects whole identities, and by the
    # nodes with host-network pods; placed in name order, so that groups are numbered by their
    # first pod.
    selectors = SelectorCache(blocks=blocks, nodes=host_nodes)
    selectors.update(replace(cluster, pods=pods))
    return selectors


def _map(
    cluster: Cluster,
    pods: tuple[Pod, ...],
    selectors: SelectorCache,
    earlier: _Destinations | None,
    placed: ConnectivityMap | None = None,
    known: tuple[int, ...] | None = None,
    *,
    reuse: bool = False,
) -> tuple[ConnectivityMap, _Destinations | None]:
    """The map of `cluster`, whose pods (in name order) `selectors` has placed, and what it
    computed per destination (None with tiers); `earlier` is the other side's of a pair,
    `placed` its map when its pods are equal to these and placed alike, and `known` the
    identities of the pods it already knew (`_known`). With `reuse`, `earlier`'s rules hold
    for the identities it knew (`compile_rules(earlier=)`)."""
    other = None if earlier is None else earlier.rules
    rules = compile_rules(cluster, selectors, _port_cuts(cluster), other, other if reuse else None)
    if placed is None:
        cmap = _empty_map(pods, selectors, rules.atoms, known)
    else:
        cmap = ConnectivityMap(
            pods=pods,
            of_pod=placed.of_pod,
            groups=placed.groups,
            identities=tuple(selectors.identities.items),
            atoms=rules.atoms,
        )
    if cluster.cluster_policies:
        # Admin and Baseline tiers around NetworkPolicy (`tierconnectivity`).
        from podwall.engine.tierconnectivity import destinations
        from podwall.engine.tierrules import compile_tiers

        tiers = compile_tiers(cluster, selectors, rules.atoms)
        cmap.per_dst = _from_local_nodes(cmap, destinations(rules, tiers, cmap.identities))
        return cmap, None
    base = _refine([(rules.all_bits, 0)], [(rules.not_egress_isolated, rules.atoms.all_mask)])
    computed = _Destinations(rules, _refine(base, rules.to_all()), earlier)
    cmap.per_dst = _from_local_nodes(cmap, [computed.of(dst) for dst in cmap.identities])
    return cmap, computed


def _from_local_nodes(
    cmap: ConnectivityMap, per_dst: list[list[Contribution]]
) -> list[list[Contribution]]:
    """`per_dst` with every port opened to each destination from the host-network identities
    on its node: "Traffic is allowed to a pod if ... the traffic source is the pod's local
    node" (`decide`). A host-network sender's egress is never restricted, so its ingress
    alone decided; identities run on one node each where this matters (`Identities.nodes`)."""
    host: dict[str, int] = {}
    for ident in cmap.identities:
        if ident.host_network and ident.key.node is not None:
            host[ident.key.node] = host.get(ident.key.node, 0) | 1 << ident.index
    if not host:
        return per_dst
    everything = cmap.atoms.all_mask
    for ident in cmap.identities:
        senders = host.get(ident.key.node or "", 0) & ~(1 << ident.index)
        if senders and not ident.host_network:
            parts = per_dst[ident.index]
            listed = 0
            for bits, _ in parts:
                listed |= bits
            # A source no part lists is denied everything (the tiers list only some).
            unlisted = [(senders & ~listed, everything)] if senders & ~listed else []
            per_dst[ident.index] = _refine(parts, [(senders, everything)]) + unlisted
    return per_dst


# A destination's ingress and egress contributions (`RuleSet.key_of`).
RulesKey = tuple[tuple[int, ...] | None, tuple[int, ...] | None]


class _Destinations:
    """Each destination's sources partitioned by allowed atoms. Destinations selected by the
    same policies and matched by the same peers get the same answer; in real clusters they
    are many, so each distinct case is computed once.

    With `earlier`, the other side of a pair over the same identities (this side may have
    more) and atoms, a case it computed is only patched: its answer holds for every source
    whose `base` (egress isolation, egress rules to every destination) is the same on both
    sides, and the other sources, few in a review (a new identity is one), are computed
    again.

    A list of contributions merged per mask (`_one_per_mask`) is kept by its key: many
    destinations share their ingress or their egress list but not both, and the two sides of
    a pair share most lists when their cells have the same values (one table)."""

    def __init__(
        self, rules: RuleSet, base: list[Contribution], earlier: _Destinations | None
    ) -> None:
        self.rules, self.base = rules, base
        self.memo: dict[RulesKey, list[Contribution]] = {}
        self.merged: dict[tuple[int, ...], list[Contribution]] = (
            earlier.merged if earlier is not None and earlier.rules.values is rules.values else {}
        )
        self.earlier: dict[RulesKey, list[Contribution]] = {}
        self.changed = 0
        self.changed_base: list[Contribution] = []
        if earlier is not None and earlier.rules.atoms.atoms == rules.atoms.atoms:
            self.earlier = earlier.memo
            self.changed = _changed_sources(earlier.base, base)
            self.changed_base = [(b & self.changed, m) for b, m in base if b & self.changed]

    def of(self, dst: Identity) -> list[Contribution]:
        rules = self.rules
        key = (rules.key_of(rules.ingress_of[dst.index]), rules.key_of(rules.egress_to[dst.index]))
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._compute(key, dst)
        return found

    def _compute(self, key: RulesKey, dst: Identity) -> list[Contribution]:
        found = self.earlier.get(key)
        if found is not None and not self.changed:
            return found
        rules = self.rules
        ingress_key, egress_key = key
        egress = self._merged(egress_key, rules.egress_to[dst.index])
        ingress = self._merged(ingress_key, rules.ingress_of[dst.index])
        if found is None:
            return _destination(self.base, egress, ingress)
        kept: dict[int, int] = {}
        for bits, mask in found:
            if bits & ~self.changed:
                kept[mask] = kept.get(mask, 0) | bits & ~self.changed
        for bits, mask in _destination(self.changed_base, egress, ingress):
            kept[mask] = kept.get(mask, 0) | bits
        return [(bits, mask) for mask, bits in kept.items()]

    def _merged(self, key: tuple[int, ...] | None, cells: list[Cell] | None) -> list[Contribution]:
        if key is None or cells is None:  # not isolated for ingress: every source and port
            return [(self.rules.all_bits, self.rules.atoms.all_mask)]
        found = self.merged.get(key)
        if found is None:
            found = self.merged[key] = _one_per_mask(self.rules.contributions(cells))
        return found


def _changed_sources(before: list[Contribution], after: list[Contribution]) -> int:
    """The sources whose part (the atoms they get) differs between two partitions."""
    # `_refine` may leave several parts with the same atoms.
    masks_before, masks_after = _by_mask(before), _by_mask(after)
    changed = 0
    for mask in masks_before.keys() | masks_after.keys():
        changed |= masks_before.get(mask, 0) ^ masks_after.get(mask, 0)
    return changed


def _by_mask(parts: list[Contribution]) -> dict[int, int]:
    out: dict[int, int] = {}
    for bits, mask in parts:
        out[mask] = out.get(mask, 0) | bits
    return out


def _one_per_mask(contributions: list[Contribution]) -> list[Contribution]:
    """Contributions that open the same atoms as one: a source gets the union of the atoms of
    those that cover it. Many rules open the same ports (a destination can have hundreds)."""
    if len(contributions) < 2:
        return contributions
    return [(bits, mask) for mask, bits in _by_mask(contributions).items()]


def _empty_map(
    pods: tuple[Pod, ...], selectors: SelectorCache, atoms: Atoms, known: tuple[int, ...] | None
) -> ConnectivityMap:
    identities = selectors.identities
    if known is None:
        of_pod = tuple(identities.of(p.key) for p in pods)
    else:
        of_pod = tuple(
            identities.of(p.key) if at < 0 else at for p, at in zip(pods, known, strict=True)
        )
    groups: list[list[int]] = [[] for _ in identities.items]
    for pod_index, identity in enumerate(of_pod):
        groups[identity].append(pod_index)
    return ConnectivityMap(
        pods=pods,
        of_pod=of_pod,
        groups=tuple(tuple(g) for g in groups),
        identities=tuple(identities.items),
        atoms=atoms,
    )


def _destination(
    base: list[Contribution], egress: list[Contribution], ingress: list[Contribution]
) -> list[Contribution]:
    """Partition the sources of a destination by allowed atoms: its ingress AND the egress
    of each, both lists merged per mask (`_one_per_mask`)."""
    parts = _refine(base, egress)
    result: dict[int, int] = {}
    for bits, egress_mask in parts:
        for sub_bits, ingress_mask in _split(bits, ingress):
            mask = egress_mask & ingress_mask
            if mask:
                result[mask] = result.get(mask, 0) | sub_bits
    return [(bits, mask) for mask, bits in result.items()]


def _refine(parts: list[Contribution], contributions: list[Contribution]) -> list[Contribution]:
    """Split `parts` (bits, mask) so each part is inside or outside every contribution's bits,
    OR-ing the contribution's mask into the parts inside it."""
    for bits, mask in contributions:
        out: list[Contribution] = []
        for part_bits, part_mask in parts:
            inside = part_bits & bits
            if inside:
                out.append((inside, part_mask | mask))
                outside = part_bits & ~bits
                if outside:
                    out.append((outside, part_mask))
            else:
                out.append((part_bits, part_mask))
        parts = out
    return parts


def _split(bits: int, contributions: list[Contribution]) -> Iterator[Contribution]:
    yield from _refine([(bits, 0)], contributions)


__all__ = ["ConnectivityMap", "connectivity", "connectivity_pair"]
