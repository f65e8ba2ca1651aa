"""Identities: the pods no policy can tell apart, kept from snapshot to snapshot.

Two pods share an identity when they have the same namespace, labels, named ports and
host-network flag, and lie in the same of the ipBlocks the owner splits by (none for the
compiler, which writes ipBlocks as address ranges; every policy's for `connectivity`), and,
for `connectivity`, run on the same of the nodes that have host-network pods (ingress from a
pod's own node is always allowed). Every verdict about one of them holds for all of them,
except a pod's traffic to itself.

Indices never move: a new identity is appended and an empty one stays, so whatever is cached
per identity stays valid and a pod change touches only the identities it leaves or joins. A
set of identities is an int bitset over their indices. Pods are told apart by `Pod.key`.
Pure: no I/O here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress
from typing import NamedTuple

from podwall.model.addressing import block_ranges
from podwall.model.cluster import Pod
from podwall.model.labels import Labels
from podwall.model.policy import IPAddress, IPBlock, NetworkPolicy
from podwall.model.ports import Protocol
from podwall.model.record import Record, field

# The keys are NamedTuples: typed fields for the reader and mypy, and tuple hashing and
# ordering at C speed for the 10k pods a first compile places.


class NamedPort(NamedTuple):
    """A container port with a name, as a policy's named port resolves on it."""

    name: str
    protocol: Protocol
    number: int


class IdentityKey(NamedTuple):
    """What a policy can see of a pod."""

    namespace: str
    labels: Labels
    named_ports: tuple[NamedPort, ...]  # sorted
    host_network: bool
    blocks: frozenset[int]  # indices into `Identities.blocks` holding one of its addresses
    # The pod's node, when it is one of `Identities.nodes`: ingress from a node's own
    # host-network pods is always allowed, so there a node tells pods apart.
    node: str | None = None


class Identity(Record, frozen=False, eq=False):
    """One identity and its pods now; `local` are those on the node being compiled."""

    index: int
    key: IdentityKey
    members: dict[str, tuple[IPAddress, ...]] = field(default_factory=dict)  # pod key -> IPs
    local: set[str] = field(default_factory=set)

    @property
    def namespace(self) -> str:
        return self.key.namespace

    @property
    def labels(self) -> Labels:
        return self.key.labels

    @property
    def named_ports(self) -> tuple[NamedPort, ...]:
        return self.key.named_ports

    @property
    def host_network(self) -> bool:
        return self.key.host_network

    @property
    def blocks(self) -> frozenset[int]:
        return self.key.blocks

    def named_port(self, name: str, protocol: Protocol) -> int | None:
        for port in self.key.named_ports:
            if port.name == name and port.protocol is protocol:
                return port.number
        return None

    def addresses(self) -> Iterator[IPAddress]:
        for ips in self.members.values():
            yield from ips


class Identities:
    """Call `update` with each snapshot's pods; `items[i]` is identity i."""

    def __init__(self, blocks: Iterable[IPBlock] = (), nodes: Iterable[str] = ()) -> None:
        self.nodes = frozenset(nodes)
        self.items: list[Identity] = []
        self.by_namespace: dict[str, list[int]] = {}
        self.blocks: tuple[IPBlock, ...] = tuple(dict.fromkeys(_bare(b) for b in blocks))
        self._block_index = {block: i for i, block in enumerate(self.blocks)}
        self._by_key: dict[IdentityKey, int] = {}
        self._pods: dict[str, tuple[Pod, int]] = {}  # pod key -> (the pod, its identity)
        self._ids: dict[int, str] = {}  # id() of each pod object in _pods -> its key
        self._last: tuple[Pod, ...] = ()
        self._handed_out: set[int] = set()  # identities to copy before changing (`hand_out`)

    @property
    def all_bits(self) -> int:
        return (1 << len(self.items)) - 1

    def of(self, pod_key: str) -> int:
        """The identity of the pod called `pod_key` (namespace/name)."""
        return self._pods[pod_key][1]

    def block_index(self, block: IPBlock) -> int | None:
        """The index of `block` in `blocks`; None when identities are not split by it."""
        return self._block_index.get(_bare(block))

    def hand_out(self) -> tuple[Identity, ...]:
        """The identities now, kept as they are: an update copies each before changing its
        pods (`_changing`), so a result that holds them (the first map of a review) stays
        true while the next snapshot is placed, and only the few identities a change
        touches are copied."""
        self._handed_out = set(range(len(self.items)))
        return tuple(self.items)

    def update(self, pods: tuple[Pod, ...], local: set[str] | None) -> int:
        """Place the pods of a new snapshot; return the bits of the identities whose pods (or
        their addresses, or which of them are local) changed. `local` holds the keys of the
        pods on the node (None: every pod); it follows from the pods, so the same pod objects
        mean the same places. The first pods are placed in snapshot order, so identities are
        numbered in the order of their first pod."""
        if pods is self._last:
            return 0
        self._last = pods
        if not self._pods:
            return self._place_all(pods, local)
        return self._moved(pods, local)

    def _place_all(self, pods: Sequence[Pod], local: set[str] | None) -> int:
        changed = 0
        for pod, blocks in zip(pods, self._signatures(pods), strict=True):
            changed |= self._place(pod, blocks, local is None or pod.key in local)
        return changed

    def _moved(self, snapshot: tuple[Pod, ...], local: set[str] | None) -> int:
        """Place the pods that are not the very objects of the last snapshot, and remove
        those whose object is gone; found by object identity at C speed, not pod by pod."""
        by_id = dict(zip(map(id, snapshot), snapshot, strict=True))
        fresh = sorted((by_id[i] for i in by_id.keys() - self._ids.keys()), key=lambda p: p.key)
        gone = [self._ids[i] for i in self._ids.keys() - by_id.keys()]
        changed = self._place_all(fresh, local)
        for key in gone:  # unless a new object of that pod took its place above
            current = self._pods.get(key)
            if current is not None and id(current[0]) not in by_id:
                changed |= self._remove(key)
        return changed

    def _place(self, pod: Pod, blocks: frozenset[int], is_local: bool) -> int:
        previous = self._pods.get(pod.key)
        if previous is not None and previous[0] is pod:
            return 0
        node = pod.node if pod.node in self.nodes else None
        key = IdentityKey(
            pod.namespace, pod.labels, _named_ports(pod), pod.host_network, blocks, node
        )
        index = self._by_key.get(key)
        if index is None:
            index = self._add(key)
        ident = self.items[index]
        changed = 0
        if previous is not None:
            if previous[0] == pod and previous[1] == index and (pod.key in ident.local) == is_local:
                self._keep(pod, index)
                return 0
            changed = self._remove(pod.key)
        ident = self._changing(index)
        ident.members[pod.key] = pod.ips
        if is_local:
            ident.local.add(pod.key)
        self._keep(pod, index)
        return changed | (1 << index)

    def _add(self, key: IdentityKey) -> int:
        index = len(self.items)
        self.items.append(Identity(index=index, key=key))
        self._by_key[key] = index
        self.by_namespace.setdefault(key.namespace, []).append(index)
        return index

    def _keep(self, pod: Pod, index: int) -> None:
        previous = self._pods.get(pod.key)
        if previous is not None:
            del self._ids[id(previous[0])]
        self._pods[pod.key] = (pod, index)
        self._ids[id(pod)] = pod.key

    def _remove(self, key: str) -> int:
        pod, index = self._pods.pop(key)
        del self._ids[id(pod)]
        ident = self._changing(index)
        ident.members.pop(key, None)
        ident.local.discard(key)
        return 1 << index

    def _changing(self, index: int) -> Identity:
        """Identity `index`, about to change: a copy of it in `items` if it was handed out."""
        ident = self.items[index]
        if index in self._handed_out:
            self._handed_out.discard(index)
            ident = self.items[index] = Identity(
                index=index, key=ident.key, members=dict(ident.members), local=set(ident.local)
            )
        return ident

    def _signatures(self, pods: Sequence[Pod]) -> list[frozenset[int]]:
        """For each pod, the blocks holding one of its addresses: a range search per block."""
        if not self.blocks:
            return [_NO_BLOCKS] * len(pods)
        hits: list[set[int]] = [set() for _ in pods]
        found = sorted((ip.version, int(ip), i) for i, p in enumerate(pods) for ip in p.ips)
        keys = [(version, number) for version, number, _ in found]
        for b, block in enumerate(self.blocks):
            version = block.cidr.version
            for lo, hi in block_ranges(block):
                start = bisect.bisect_left(keys, (version, lo))
                end = bisect.bisect_right(keys, (version, hi))
                for _, _, pod_index in found[start:end]:
                    hits[pod_index].add(b)
        return [frozenset(h) for h in hits]


_NO_BLOCKS: frozenset[int] = frozenset()


def _named_ports(pod: Pod) -> tuple[NamedPort, ...]:
    return tuple(sorted(NamedPort(p.name, p.protocol, p.port) for p in pod.ports if p.name))


def policy_blocks(policies: Iterable[NetworkPolicy]) -> tuple[IPBlock, ...]:
    """Every distinct ipBlock the policies name, in policy order."""
    seen: dict[IPBlock, None] = {}
    for policy in policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    seen.setdefault(_bare(peer.ip_block), None)
    return tuple(seen)


def _bare(block: IPBlock) -> IPBlock:
    """The block without the text it was written as: equal addresses, one key."""
    return IPBlock(cidr=block.cidr, except_=block.except_)


def bit_indices(bits: int) -> list[int]:
    """The indices of the set bits, ascending; fast for sparse and for dense sets."""
    if bits.bit_count() * 32 < bits.bit_length():
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out
    # Dense: the binary digits, lowest first, as bytes 0/1 select their indices, all in C.
    flags = bin(bits)[:1:-1].encode("ascii").translate(_DIGIT_FLAGS)
    return list(compress(range(len(flags)), flags))


_DIGIT_FLAGS = bytes.maketrans(b"01", b"\0\1")
