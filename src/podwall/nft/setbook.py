"""The sets policy rules ask for: their members, their users, and how the rules see them.

A set is shared by every policy naming the same peer (or named port). It is written into the
rules as compares while it holds at most `policies.INLINE_MAX` elements, else loaded as a
named set. Each set is filed under what can change it: the namespace of its pods, or the
namespaceSelector choosing its namespaces (indexed by one matchLabels pair), so a pod change
looks only at the sets it can touch, and a big set is patched element by element. Pure: no
I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from podwall.engine.rulesets import bit_indices
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction
from podwall.nft import policies
from podwall.nft.fragments import FragmentKey
from podwall.nft.policies import SetRequest
from podwall.nft.ruleset import Ruleset
from podwall.nft.selection import Selection

PolicyKey = tuple[str, Direction]
# Put (or, with None, remove) a fragment of the compiled ruleset.
Put = Callable[[FragmentKey, Ruleset | None], None]


@dataclass(slots=True)
class SetState:
    """A set some policy rules ask for: its members, and how those rules see it."""

    request: SetRequest
    bits: int
    resolved: policies.Resolved
    owners: dict[tuple[str, ...], int] | None  # element -> its identity (None: an ipBlock)
    users: set[PolicyKey]


class SetBook:
    """Every set in use; `put` and `get` reach the compiled fragments it owns."""

    def __init__(
        self, selection: Selection, put: Put, get: Callable[[FragmentKey], Ruleset]
    ) -> None:
        self.selection = selection
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
                keys = policies.block_keys(request)
            else:
                owners = policies.member_keys(self.selection, request, bit_indices(bits))
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
            for pair in self.selection.namespace_labels(namespace).items():
                choosers |= self._choosers_by_pair.get(pair, set())
        for chooser in choosers:
            if chooser is None or any(self.selection.selects_namespace(chooser, n) for n in dirty):
                found |= self._sets_anywhere[chooser]
        return found

    def _patch(self, state: SetState, bits: int, changed: int) -> policies.Resolved:
        """Bring a set of pods to `bits`, redoing only the identities that moved."""
        request, old = state.request, state.owners
        assert old is not None  # an ipBlock's set never needs a refresh
        redo = changed | (bits ^ state.bits)
        owners = {key: i for key, i in old.items() if not redo >> i & 1}
        fresh = policies.member_keys(self.selection, request, bit_indices(bits & redo))
        owners.update(fresh)
        state.owners = owners
        if len(owners) <= policies.INLINE_MAX or not isinstance(state.resolved, str):
            return self._place(request, tuple(sorted(owners)))
        key = ("set", request.set_name)
        removed = [k for k in old if k not in owners]
        added = [k for k in fresh if k not in old]
        self._put(key, policies.patched(self._get(key), request.set_name, removed, added))
        return request.set_name

    def _members(self, request: SetRequest) -> int:
        return 0 if _fixed(request) else policies.members(self.selection, request)

    def _place(self, request: SetRequest, keys: tuple[tuple[str, ...], ...]) -> policies.Resolved:
        """The set's keys when small enough to inline, else its name (its fragment put)."""
        if len(keys) <= policies.INLINE_MAX:
            self._put(("set", request.set_name), None)
            return keys
        self._put(("set", request.set_name), policies.set_fragment(request, keys))
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
