"""Stable identities and a selector cache that follow a cluster from snapshot to snapshot.

An identity is the pods of one namespace with the same labels, named ports and host-network
flag: no policy can tell them apart. Indices never move (a new identity is appended, an empty
one stays empty), so cached selector results stay valid and a pod change touches only the
identities it leaves or joins. This is what makes a ruleset update proportional to the
change, as Cilium's selector cache does. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import IPBlock, NetworkPolicy, Peer
from podwall.model.ports import Protocol
from podwall.nft import addresses

IdentityKey = tuple[str, Labels, tuple[tuple[str, Protocol, int], ...], bool]


@dataclass(kw_only=True)
class Identity:
    index: int
    namespace: str
    labels: Labels
    named_ports: tuple[tuple[str, Protocol, int], ...]
    host_network: bool
    pods: dict[str, tuple[addresses.V4Net, ...]] = field(default_factory=dict)
    local: set[str] = field(default_factory=set)  # keys of its pods on this node

    def named_port(self, name: str, protocol: Protocol) -> int | None:
        for port_name, proto, number in self.named_ports:
            if port_name == name and proto is protocol:
                return number
        return None

    def nets(self) -> Iterator[addresses.V4Net]:
        for nets in self.pods.values():
            yield from nets


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    identities: int  # bits of identities whose pods (or addresses) changed
    namespaces: bool  # namespace labels changed: namespaceSelector results are stale


class Selection:
    """Call `update` with each new snapshot, then ask for bits."""

    def __init__(self) -> None:
        self.items: list[Identity] = []
        self._by_key: dict[IdentityKey, int] = {}
        self._pods: dict[str, tuple[Pod, int]] = {}
        self._ids: dict[int, str] = {}  # id() of each pod object in _pods -> its key
        self._last_pods: tuple[Pod, ...] = ()
        self._ns_labels: dict[str, Labels] = {}
        self._selected: dict[tuple[str, LabelSelector], int] = {}
        self._nss: dict[LabelSelector, frozenset[str]] = {}
        self._ns_index: dict[tuple[str, str], set[str]] = {}
        self.ns_bits: dict[str, int] = {}
        self.by_namespace: dict[str, list[int]] = {}

    @property
    def all_bits(self) -> int:
        return (1 << len(self.items)) - 1

    def update(self, cluster: Cluster, local: set[str] | None) -> Changes:
        ns_labels = {name: ns.labels for name, ns in cluster.namespaces.items()}
        namespaces_changed = ns_labels != self._ns_labels
        if namespaces_changed:
            self._ns_labels = ns_labels
            self._nss.clear()
            self._ns_index = _label_index(ns_labels)
        # `local` follows from the pods (their nodes), so the same pods mean the same places.
        changed = 0
        if cluster.pods is not self._last_pods:
            self._last_pods = cluster.pods
            if self._pods:
                changed = self._moved(cluster.pods, local)
            else:  # the first pods, placed in snapshot order
                for pod in cluster.pods:
                    changed |= self._place(pod, local is None or pod.key in local)
        return Changes(identities=changed, namespaces=namespaces_changed)

    def _moved(self, snapshot: tuple[Pod, ...], local: set[str] | None) -> int:
        """Place the pods that are not the very objects of the last snapshot, and remove
        those whose object is gone; found by object identity at C speed, not pod by pod."""
        by_id = dict(zip(map(id, snapshot), snapshot, strict=True))
        fresh = [by_id[i] for i in by_id.keys() - self._ids.keys()]
        gone = [self._ids[i] for i in self._ids.keys() - by_id.keys()]
        changed = 0
        for pod in sorted(fresh, key=lambda p: p.key):
            changed |= self._place(pod, local is None or pod.key in local)
        for key in gone:  # unless a new object of that pod took its place above
            current = self._pods.get(key)
            if current is not None and id(current[0]) not in by_id:
                changed |= self._remove(key)
        return changed

    def _place(self, pod: Pod, is_local: bool) -> int:
        previous = self._pods.get(pod.key)
        if previous is not None and previous[0] is pod:
            return 0
        index = self._identity(pod)
        ident = self.items[index]
        nets = tuple(n for ip in pod.ips if (n := addresses.host(ip)) is not None)
        if previous is not None:
            if previous[0] == pod and previous[1] == index and (pod.key in ident.local) == is_local:
                self._keep(pod, index)
                return 0
            changed = self._remove(pod.key)
        else:
            changed = 0
        ident.pods[pod.key] = nets
        if is_local:
            ident.local.add(pod.key)
        self._keep(pod, index)
        return changed | (1 << index)

    def _keep(self, pod: Pod, index: int) -> None:
        previous = self._pods.get(pod.key)
        if previous is not None:
            del self._ids[id(previous[0])]
        self._pods[pod.key] = (pod, index)
        self._ids[id(pod)] = pod.key

    def _remove(self, key: str) -> int:
        pod, index = self._pods.pop(key)
        del self._ids[id(pod)]
        ident = self.items[index]
        ident.pods.pop(key, None)
        ident.local.discard(key)
        return 1 << index

    def _identity(self, pod: Pod) -> int:
        named = tuple(sorted((p.name, p.protocol, p.port) for p in pod.ports if p.name))
        key: IdentityKey = (pod.namespace, pod.labels, named, pod.host_network)
        index = self._by_key.get(key)
        if index is not None:
            return index
        index = len(self.items)
        ident = Identity(
            index=index,
            namespace=pod.namespace,
            labels=pod.labels,
            named_ports=named,
            host_network=pod.host_network,
        )
        self.items.append(ident)
        self._by_key[key] = index
        self.by_namespace.setdefault(pod.namespace, []).append(index)
        if not pod.host_network:
            bit = 1 << index
            self.ns_bits[pod.namespace] = self.ns_bits.get(pod.namespace, 0) | bit
            # Keep every cached selector result of this namespace true for the newcomer.
            for (ns, selector), bits in self._selected.items():
                if ns == pod.namespace and selector.matches(pod.labels):
                    self._selected[(ns, selector)] = bits | bit
        return index

    def selected(self, namespace: str, selector: LabelSelector) -> int:
        """Identities of `namespace` whose labels match (never host-network ones)."""
        key = (namespace, selector)
        bits = self._selected.get(key)
        if bits is None:
            bits = 0
            for i in self.by_namespace.get(namespace, ()):
                ident = self.items[i]
                if not ident.host_network and selector.matches(ident.labels):
                    bits |= 1 << i
            self._selected[key] = bits
        return bits

    def namespaces(self, selector: LabelSelector) -> frozenset[str]:
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
        """Identities a peer matches; for an ipBlock, those with an address inside it."""
        if peer.ip_block is not None:
            return self._in_block(peer.ip_block)
        if peer.namespace_selector is None:
            assert peer.pod_selector is not None
            return self.selected(policy.namespace, peer.pod_selector)
        bits = 0
        for ns in self.namespaces(peer.namespace_selector):
            if peer.pod_selector is None:
                bits |= self.ns_bits.get(ns, 0)
            else:
                bits |= self.selected(ns, peer.pod_selector)
        return bits

    def _in_block(self, block: IPBlock) -> int:
        bits = 0
        for ident in self.items:
            if any(block.contains(net.network_address) for net in ident.nets()):
                bits |= 1 << ident.index
        return bits


def _label_index(ns_labels: dict[str, Labels]) -> dict[tuple[str, str], set[str]]:
    index: dict[tuple[str, str], set[str]] = {}
    for name, labels in ns_labels.items():
        for pair in labels.items():
            index.setdefault(pair, set()).add(name)
    return index
