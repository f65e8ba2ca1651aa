"""The selector cache: which identities each podSelector, namespaceSelector and peer selects.

The one place where selection over identities is decided: `connectivity` builds one per
snapshot (its identities split by the policies' ipBlocks, so an ipBlock selects whole
identities); the nft compiler keeps one across snapshots, so a ruleset update costs what the
change touches. A result is computed once per (namespace, selector) and kept true as
identities are added, as Cilium's selector cache does; a change of namespace labels drops the
namespaceSelector results. The pod-by-pod reference with reasons is `peers.match_peer`; the
property tests hold the two to the same answers. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable

from podwall.engine.identities import Identities, Identity, bit_indices
from podwall.model.cluster import Cluster
from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import IPBlock, NetworkPolicy, Peer
from podwall.model.record import Record

LabelPair = tuple[str, str]


# A result read field by field, never compared or hashed: identity equality is enough.
class Changes(Record, eq=False):
    """What an `update` changed."""

    identities: int  # bits of identities whose pods (or addresses, or locality) changed
    namespaces: bool  # namespace labels changed: namespaceSelector results are stale


# Indices kept for as many distinct sets at most (each a list of up to one int per identity).
_MAX_INDICES = 4096


class SelectorCache:
    """Call `update` with each new snapshot, then ask for bits."""

    def __init__(self, blocks: Iterable[IPBlock] = (), nodes: Iterable[str] = ()) -> None:
        self.identities = Identities(blocks, nodes)
        # Identities of each namespace that selectors can match: not host-network ones.
        self.ns_bits: dict[str, int] = {}
        self._selected: dict[str, dict[LabelSelector, int]] = {}  # namespace -> podSelector
        self._ns_labels: dict[str, Labels] = {}
        self._nss: dict[LabelSelector, frozenset[str]] = {}
        self._ns_index: dict[LabelPair, set[str]] = {}
        self._block_bits: dict[int, int] = {}  # block index -> identities inside it
        # (namespace, peer) -> identities, for selector peers; kept true as identities are
        # added (`_extend_peers`), until namespaces change.
        self._peers: dict[tuple[str, Peer], int] = {}
        # One object for each distinct podSelector a peer names: the per-namespace results
        # are keyed by it, and a dict finds the very key it holds without calling ==.
        self._canonical: dict[LabelSelector, LabelSelector] = {}
        # podSelector -> its identities in every namespace (kept true by `_admit`, as
        # `_selected` is), and namespaceSelector -> the identities of the namespaces it
        # selects (kept as `_peers` is): a peer with both is their intersection, found
        # without visiting each namespace the namespaceSelector selects.
        self._anywhere: dict[LabelSelector, int] = {}
        self._in_namespaces: dict[LabelSelector, int] = {}
        # bits -> their indices: the same unions recur across the rules of many policies and
        # across the two sides of a diff.
        self._indices: dict[int, list[int]] = {}

    @property
    def all_bits(self) -> int:
        return self.identities.all_bits

    def update(self, cluster: Cluster, local: set[str] | None = None) -> Changes:
        """Follow the snapshot; `local` holds the keys of the pods on the node (None: all)."""
        ns_labels = {name: ns.labels for name, ns in cluster.namespaces.items()}
        namespaces_changed = ns_labels != self._ns_labels
        if namespaces_changed:
            self._ns_labels = ns_labels
            self._nss.clear()
            self._ns_index = _label_index(ns_labels)
        first = len(self.identities.items)
        changed = self.identities.update(cluster.pods, local)
        grown = self.identities.items[first:]
        for ident in grown:
            self._admit(ident)
        if namespaces_changed:
            self._peers.clear()  # a peer's union is over the namespaces it selects
            self._in_namespaces.clear()
        elif grown:
            self._extend_peers(grown)
        return Changes(identities=changed, namespaces=namespaces_changed)

    def _admit(self, ident: Identity) -> None:
        """Keep every cached result true for a new identity."""
        bit = 1 << ident.index
        for b in ident.blocks:
            self._block_bits[b] = self._block_bits.get(b, 0) | bit
        if ident.host_network:
            return
        self.ns_bits[ident.namespace] = self.ns_bits.get(ident.namespace, 0) | bit
        cached = self._selected.get(ident.namespace, {})
        for selector, bits in cached.items():
            if selector.matches(ident.labels):
                cached[selector] = bits | bit
        anywhere = self._anywhere
        for selector, bits in anywhere.items():
            if selector.matches(ident.labels):
                anywhere[selector] = bits | bit

    def _extend_peers(self, grown: list[Identity]) -> None:
        """Keep every peer's union true for new identities, the namespaces' labels unchanged:
        a peer gains, in each namespace it selects, the new identities its podSelector
        matches (`_admit` has kept the per-namespace results true). Computing every union
        again visited each namespace a peer selects (all of them, for `{}`) for every peer:
        a review that relabels pods, or a node agent seeing a pod with new labels, paid it."""
        new_in: dict[str, int] = {}
        for ident in grown:
            if not ident.host_network:
                new_in[ident.namespace] = new_in.get(ident.namespace, 0) | 1 << ident.index
        if not new_in:
            return
        for selector, bits in self._in_namespaces.items():
            names = self.namespaces(selector)
            for ns, new in new_in.items():
                if ns in names:
                    bits |= new
            self._in_namespaces[selector] = bits
        for key, bits in self._peers.items():
            namespace, peer = key
            if peer.namespace_selector is None:
                assert peer.pod_selector is not None
                self._peers[key] = self.selected(namespace, peer.pod_selector)
                continue
            names = self.namespaces(peer.namespace_selector)
            for ns, new in new_in.items():
                if ns in names:
                    pods = peer.pod_selector
                    bits |= new if pods is None else self.selected(ns, pods) & new
            self._peers[key] = bits

    def selected(self, namespace: str, selector: LabelSelector) -> int:
        """Identities of `namespace` whose labels match (never host-network ones)."""
        cached = self._selected.get(namespace)
        if cached is None:
            cached = self._selected[namespace] = {}
        bits = cached.get(selector)
        if bits is None:
            bits = 0
            items = self.identities.items
            for i in self.identities.by_namespace.get(namespace, ()):
                ident = items[i]
                if not ident.host_network and selector.matches(ident.labels):
                    bits |= 1 << i
            cached[selector] = bits
        return bits

    def indices(self, bits: int) -> list[int]:
        """`bit_indices(bits)`, kept (never change the list returned)."""
        found = self._indices.get(bits)
        if found is None:
            if len(self._indices) >= _MAX_INDICES:  # an agent's policies churn for days
                self._indices.clear()
            found = self._indices[bits] = bit_indices(bits)
        return found

    def namespaces(self, selector: LabelSelector) -> frozenset[str]:
        """The namespaces whose labels match."""
        names = self._nss.get(selector)
        if names is None:
            names = frozenset(
                n for n in self._candidates(selector) if selector.matches(self._ns_labels[n])
            )
            self._nss[selector] = names
        return names

    def namespace_labels(self, namespace: str) -> Labels:
        return self._ns_labels.get(namespace) or Labels()

    def selects_namespace(self, selector: LabelSelector, namespace: str) -> bool:
        return namespace in self.namespaces(selector)

    def _candidates(self, selector: LabelSelector) -> list[str]:
        """Namespaces that can match: those with every matchLabels pair, found by index."""
        if not selector.match_labels:
            return list(self._ns_labels)
        found = set.intersection(
            *(self._ns_index.get(pair, set()) for pair in selector.match_labels)
        )
        return list(found)

    def peer(self, policy: NetworkPolicy, peer: Peer) -> int:
        """Identities a peer of `policy` matches; for an ipBlock, those with an address inside
        it (every pod of them when the identities are split by that block)."""
        if peer.ip_block is not None:
            return self._in_block(peer.ip_block)
        # A namespaceSelector peer ORs the results of every namespace it selects; policies
        # repeat peers (and both sides of a diff share most), so the union is kept.
        # With a namespaceSelector the answer does not depend on the policy's namespace: one
        # entry serves every policy that names the peer.
        key = ("" if peer.namespace_selector is not None else policy.namespace, peer)
        bits = self._peers.get(key)
        if bits is None:
            bits = self._peers[key] = self._selector_peer(policy.namespace, peer)
        return bits

    def _selector_peer(self, namespace: str, peer: Peer) -> int:
        # NetworkPolicyPeer: a podSelector alone selects in the policy's namespace; with a
        # namespaceSelector, in the namespaces it selects; a namespaceSelector alone selects
        # every pod of those namespaces.
        if peer.namespace_selector is None:
            assert peer.pod_selector is not None
            return self.selected(namespace, peer.pod_selector)
        names = self.namespaces(peer.namespace_selector)
        pods = peer.pod_selector
        if pods is not None and len(names) * 2 < len(self._ns_labels):
            # A few namespaces: their pods, selector by selector, cost less than all pods.
            pods = self._canonical.setdefault(pods, pods)
            bits = 0
            for ns in names:
                bits |= self.selected(ns, pods)
            return bits
        in_namespaces = self._in_namespaces.get(peer.namespace_selector)
        if in_namespaces is None:
            in_namespaces = 0
            for ns in names:
                in_namespaces |= self.ns_bits.get(ns, 0)
            self._in_namespaces[peer.namespace_selector] = in_namespaces
        if pods is None:
            return in_namespaces
        return in_namespaces & self._selected_anywhere(pods)

    def _selected_anywhere(self, selector: LabelSelector) -> int:
        """Identities of every namespace whose labels match (never host-network ones)."""
        bits = self._anywhere.get(selector)
        if bits is None:
            bits = 0
            for ident in self.identities.items:
                if not ident.host_network and selector.matches(ident.labels):
                    bits |= 1 << ident.index
            self._anywhere[selector] = bits
        return bits

    def in_block(self, block: IPBlock) -> int:
        """Identities with an address inside `block` (every pod of them when split by it)."""
        return self._in_block(block)

    def _in_block(self, block: IPBlock) -> int:
        index = self.identities.block_index(block)
        if index is not None:
            return self._block_bits.get(index, 0)
        bits = 0
        for ident in self.identities.items:
            if any(block.contains(ip) for ip in ident.addresses()):
                bits |= 1 << ident.index
        return bits


def _label_index(ns_labels: dict[str, Labels]) -> dict[LabelPair, set[str]]:
    index: dict[LabelPair, set[str]] = {}
    for name, labels in ns_labels.items():
        for pair in labels.items():
            index.setdefault(pair, set()).add(name)
    return index
