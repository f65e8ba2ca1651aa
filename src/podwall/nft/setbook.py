"""The sets policy rules ask for: their members, their users, and how the rules see them.

A set is shared by every policy naming the same peer (or named port). It is written into the
rules as compares while it holds at most `INLINE_MAX` elements, else loaded as a named set.
Each set is filed under what can change it: the namespace of its pods, or the
namespaceSelector choosing its namespaces (indexed by one matchLabels pair), so a pod change
looks only at the sets it can touch, and a big set is patched element by element.

`SetBook` keeps state across snapshots and hands the fragments it builds to the compiler; the
functions below it are pure. No I/O here.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from podwall.engine.identities import bit_indices
from podwall.engine.selectorcache import SelectorCache
from podwall.model.addressing import block_ranges
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction
from podwall.nft import policies
from podwall.nft.fragments import FragmentKey
from podwall.nft.objects import Element, Set, SetFlag
from podwall.nft.policies import SetRequest, clip
from podwall.nft.ruleset import Patch, Ruleset
from podwall.nft.values import NftType, address_texts

# A set with at most this many elements is written into the rules that use it instead: the
# kernel finds a set by name with a linear walk over the table's sets (nft_set_lookup), so
# every set makes every later rule and element that names one slower, and thousands of tiny
# sets made a 10k-policy load quadratic. Inlining keeps a packet's walk bounded by this many
# compares per rule, never by the number of pods.
INLINE_MAX = 4

V4, PROTO, PORT = NftType.IPV4_ADDR, NftType.INET_PROTO, NftType.INET_SERVICE
INTERVAL = frozenset({SetFlag.INTERVAL})

# An element of a set: its key components as nft text.
ElementKey = tuple[str, ...]


class PolicyKey(NamedTuple):
    """The rules of one policy for one direction: a user of sets."""

    policy: str  # namespace/name
    direction: Direction


# Put (or, with None, remove) a fragment of the compiled ruleset.
Put = Callable[[FragmentKey, Ruleset | None], None]


@dataclass(slots=True)
class SetState:
    """A set some policy rules ask for: its members, and how those rules see it."""

    request: SetRequest
    bits: int
    resolved: policies.Resolved
    owners: dict[ElementKey, int] | None  # element -> its identity (None: an ipBlock)
    users: set[PolicyKey]


class SetBook:
    """Every set in use; `put` and `get` reach the compiled fragments it owns."""

    def __init__(
        self, selectors: SelectorCache, put: Put, get: Callable[[FragmentKey], Ruleset]
    ) -> None:
        self.selectors = selectors
        self._put = put
        self._get = get
        self._sets: dict[str, SetState] = {}
        self._sets_of_ns: dict[str, set[str]] = {}  # sets of pods of one namespace
        # Sets of pods of any namespace, by the namespaceSelector choosing them (None: all).
        self._sets_anywhere: dict[LabelSelector | None, set[str]] = {}
        self._open_choosers: set[LabelSelector | None] = set()  # no matchLabels to index by
        self._choosers_by_pair: dict[tuple[str, str], set[LabelSelector]] = {}

    def use(self, request: SetRequest, user: PolicyKey) -> policies.Resolved:
        """How `user`'s rules see the requested set (made on first use)."""
        state = self._sets.get(request.set_name)
        if state is None:
            bits = self._members(request)
            owners = None
            if _fixed(request):
                keys = block_keys(request)
            else:
                owners = member_keys(self.selectors, request, bit_indices(bits))
                keys = tuple(sorted(owners))
            state = SetState(request, bits, self._place(request, keys), owners, set())
            self._sets[request.set_name] = state
            self._index(request, add=True)
        state.users.add(user)
        return state.resolved

    def release(self, set_name: str, user: PolicyKey) -> None:
        """`user` no longer asks for the set; the last user takes it away."""
        state = self._sets[set_name]
        state.users.discard(user)
        if not state.users:
            del self._sets[set_name]
            self._index(state.request, add=False)
            self._put(("set", set_name), None)

    def refresh(self, dirty: set[str], changed: int, namespaces: bool) -> set[PolicyKey]:
        """Recompute the sets whose members may have changed (pods of the identities in
        `changed`, in namespaces `dirty`; every set when namespace labels changed); return
        the policies that write one of them into their rules and must be rebuilt."""
        todo: set[PolicyKey] = set()
        for set_name in self._candidates(dirty, namespaces):
            state = self._sets[set_name]
            bits = self._members(state.request)
            if bits == state.bits and not bits & changed:
                continue
            resolved = self._patch(state, bits, changed)
            if resolved != state.resolved:
                todo |= state.users
            state.bits, state.resolved = bits, resolved
        return todo

    def _candidates(self, dirty: set[str], namespaces: bool) -> set[str]:
        """The sets a change of pods in `dirty` (or of namespace labels) can touch."""
        if namespaces:
            return {name for name, state in self._sets.items() if state.owners is not None}
        found: set[str] = set()
        for namespace in dirty:
            found |= self._sets_of_ns.get(namespace, set())
        choosers = set(self._open_choosers)
        for namespace in dirty:
            for pair in self.selectors.namespace_labels(namespace).items():
                choosers |= self._choosers_by_pair.get(pair, set())
        for chooser in choosers:
            if chooser is None or any(self.selectors.selects_namespace(chooser, n) for n in dirty):
                found |= self._sets_anywhere[chooser]
        return found

    def _patch(self, state: SetState, bits: int, changed: int) -> policies.Resolved:
        """Bring a set of pods to `bits`, redoing only the identities that moved."""
        request, old = state.request, state.owners
        assert old is not None  # an ipBlock's set never needs a refresh
        redo = changed | (bits ^ state.bits)
        owners = {key: i for key, i in old.items() if not redo >> i & 1}
        fresh = member_keys(self.selectors, request, bit_indices(bits & redo))
        owners.update(fresh)
        state.owners = owners
        if len(owners) <= INLINE_MAX or not isinstance(state.resolved, str):
            return self._place(request, tuple(sorted(owners)))
        key = ("set", request.set_name)
        removed = [k for k in old if k not in owners]
        added = [k for k in fresh if k not in old]
        self._put(key, patched(self._get(key), request.set_name, removed, added))
        return request.set_name

    def _members(self, request: SetRequest) -> int:
        return 0 if _fixed(request) else members(self.selectors, request)

    def _place(self, request: SetRequest, keys: tuple[ElementKey, ...]) -> policies.Resolved:
        """The set's keys when small enough to inline, else its name (its fragment put)."""
        if len(keys) <= INLINE_MAX:
            self._put(("set", request.set_name), None)
            return keys
        self._put(("set", request.set_name), set_fragment(request, keys))
        return request.set_name

    def _index(self, request: SetRequest, *, add: bool) -> None:
        """File the set under the namespace whose pods can change it (or under any)."""
        if _fixed(request):
            return
        local = request.port is not None and request.selected
        local = local or (request.peer is not None and request.peer.namespace_selector is None)
        if local:
            group = self._sets_of_ns.setdefault(request.policy.namespace, set())
        else:
            chooser = None if request.peer is None else request.peer.namespace_selector
            if chooser not in self._sets_anywhere:
                self._sets_anywhere[chooser] = set()
                self._file_chooser(chooser)
            group = self._sets_anywhere[chooser]
        if add:
            group.add(request.set_name)
        else:
            group.discard(request.set_name)

    def _file_chooser(self, chooser: LabelSelector | None) -> None:
        """Index a namespaceSelector by one of its matchLabels pairs: a namespace without
        that pair cannot match it, so a pod change there need not ask."""
        if chooser is None or not chooser.match_labels:
            self._open_choosers.add(chooser)
        else:
            self._choosers_by_pair.setdefault(chooser.match_labels[0], set()).add(chooser)


def _fixed(request: SetRequest) -> bool:
    """An ipBlock's set: its members are addresses, whatever the pods."""
    return request.port is None and request.peer is not None and request.peer.ip_block is not None


def members(selectors: SelectorCache, request: SetRequest) -> int:
    """The identities whose addresses the requested set holds."""
    if request.port is not None and request.selected:
        return selectors.selected(request.policy.namespace, request.policy.pod_selector)
    if request.peer is None:
        return selectors.all_bits
    return selectors.peer(request.policy, request.peer)


def member_keys(
    selectors: SelectorCache, request: SetRequest, indices: Iterable[int]
) -> dict[ElementKey, int]:
    """The elements the given identities put in the requested set (not an ipBlock's), each
    with the identity it comes from. Only IPv4 addresses: the sandbox dataplane is
    single-stack."""
    out: dict[ElementKey, int] = {}
    items = selectors.identities.items
    if request.port is not None:
        assert isinstance(request.port.port, str)
        proto = request.port.protocol.value.lower()
        for index in indices:
            number = items[index].named_port(request.port.port, request.port.protocol)
            for ip in items[index].addresses() if number is not None else ():
                if ip.version == 4:
                    out[(str(ip), proto, str(number))] = index
        return out
    for index in indices:
        for ip in items[index].addresses():
            if ip.version == 4:
                out[(str(ip),)] = index
    return out


def block_keys(request: SetRequest) -> tuple[ElementKey, ...]:
    """The elements of an ipBlock's set: the block minus its excepts, as disjoint ranges
    (none for an IPv6 block)."""
    assert request.peer is not None
    block = request.peer.ip_block
    assert block is not None
    if block.cidr.version != 4:
        return ()
    return tuple((text,) for text in address_texts(block_ranges(block)))


def set_fragment(request: SetRequest, keys: tuple[ElementKey, ...]) -> Ruleset:
    """The fragment of a named set: its definition and its elements."""
    rs = Ruleset()
    what = clip(" ".join(request.key))
    if request.port is not None:
        rs.set(Set(name=request.set_name, key=(V4, PROTO, PORT), comment=clip(f"port {what}")))
    elif request.peer is not None and request.peer.ip_block is not None:
        rs.set(Set(name=request.set_name, key=(V4,), flags=INTERVAL, comment=what))
    else:
        rs.set(Set(name=request.set_name, key=(V4,), comment=what))
    for key in keys:
        rs.element(Element(set=request.set_name, key=key))
    return rs


def patched(
    fragment: Ruleset, set_name: str, removed: Iterable[ElementKey], added: Iterable[ElementKey]
) -> Ruleset:
    """A new fragment: `fragment` (left as it is) with some elements of its set removed and
    some added; what a pod change does to a big set, without rebuilding its thousands of
    elements. Its `patch` names the change, so a diff from `fragment` reads only those."""
    gone, new = tuple(removed), tuple(added)
    elements = dict(fragment.elements[set_name])
    for key in gone:
        del elements[key]
    for key in new:
        elements[key] = Element(set=set_name, key=key)
    return Ruleset(
        sets=dict(fragment.sets),
        elements={set_name: elements},
        patch=Patch(base=weakref.ref(fragment), set_name=set_name, removed=gone, added=new),
    )
