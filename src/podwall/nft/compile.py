"""The nftables ruleset of one node, compiled from a snapshot, incrementally.

Base chains are a data table. Established and related traffic is accepted and invalid
dropped first; then the egress of the source and the ingress of the destination are checked in
two base chains of the forward hook (an `accept` in the first goes on to the second, a `drop`
is final). Pods no policy isolates are not in the verdict maps and pass.

`Compiler` keeps what it built and rebuilds only the fragments whose inputs changed (a
namespace's class chains, a set, a service); the others are returned as the same objects and
`Compiler.touched` names the rebuilt ones, so an update costs what the change touches.
`compile_ruleset` is the one-shot form. Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.engine.rulesets import bit_indices
from podwall.model.cluster import Cluster, Service
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction, NetworkPolicy
from podwall.nft import policies, services
from podwall.nft.fragments import FragmentKey, flatten
from podwall.nft.objects import Chain, ChainPolicy, ChainType, Hook, Map, Priority
from podwall.nft.objects import Rule as NftRule
from podwall.nft.policies import SetRequest
from podwall.nft.ruleset import Ruleset
from podwall.nft.selection import Selection
from podwall.nft.statements import Accept, CtState, Drop, Field, Match, VMap
from podwall.nft.values import NftType


@dataclass(frozen=True, slots=True)
class BaseChain:
    name: str
    type: ChainType
    hook: Hook
    priority: int
    direction: Direction | None  # the policy direction it enforces; None for NAT
    comment: str


BASE_CHAINS = (
    BaseChain("nat-prerouting", ChainType.NAT, Hook.PREROUTING, Priority.DSTNAT, None,
              "ClusterIP services: DNAT to an endpoint"),
    BaseChain("egress", ChainType.FILTER, Hook.FORWARD, Priority.FILTER, Direction.EGRESS,
              "egress of the source pod"),
    BaseChain("ingress", ChainType.FILTER, Hook.FORWARD, Priority.FILTER + 10, Direction.INGRESS,
              "ingress of the destination pod"),
)  # fmt: skip
DIRECTIONS = (Direction.EGRESS, Direction.INGRESS)


def _base_chain(base: BaseChain) -> Chain:
    return Chain(
        name=base.name,
        type=base.type,
        hook=base.hook,
        priority=int(base.priority),
        policy=ChainPolicy.ACCEPT,
        comment=base.comment,
    )


def base_fragment() -> Ruleset:
    """The filter base chains and their verdict maps."""
    rs = Ruleset()
    for base in BASE_CHAINS:
        if base.direction is not None:
            rs.chain(_base_chain(base))
    for base in BASE_CHAINS:
        if base.direction is not None:
            _filter_rules(rs, base.name, base.direction)
    return rs


def nat_fragment() -> Ruleset:
    """The NAT base chain and the services map, loaded only while a service has endpoints:
    a NAT chain makes the kernel set up NAT for every new connection, even unmatched."""
    rs = Ruleset()
    (base,) = [b for b in BASE_CHAINS if b.type is ChainType.NAT]
    rs.chain(_base_chain(base))
    services.base(rs, base.name)
    return rs


def _filter_rules(rs: Ruleset, chain: str, direction: Direction) -> None:
    vmap = policies.vmap_name(direction)
    rs.set(Map(name=vmap, key=(NftType.IPV4_ADDR,), comment=f"pods isolated for {direction}"))
    field = Field.IP_SADDR if direction is Direction.EGRESS else Field.IP_DADDR
    established = (Match(Field.CT_STATE, ("established", "related")), Accept())
    invalid = (Match(Field.CT_STATE, CtState.INVALID.value), Drop())
    rs.rule(NftRule(chain=chain, statements=established, comment="replies of allowed flows"))
    rs.rule(NftRule(chain=chain, statements=invalid, comment="conntrack: invalid"))
    comment = f"pods isolated for {direction}: their class chain"
    rs.rule(NftRule(chain=chain, statements=(VMap((field,), vmap),), comment=comment))


@dataclass(slots=True)
class _SetState:
    """A set some policy rules ask for: its members, and how those rules see it."""

    request: SetRequest
    bits: int
    resolved: policies.Resolved
    owners: dict[tuple[str, ...], int] | None  # element -> its identity (None: an ipBlock)
    users: set[tuple[str, Direction]]


PolicyKey = tuple[str, Direction]


class Compiler:
    """Snapshots in, fragments out; call from one task only.

    It keeps the fragments it built and, per snapshot, rebuilds only those whose inputs
    changed: the policies that changed, the sets whose members did (and the policies that
    write a small set into their rules), the class chains and services of the namespaces
    whose pods or policies changed. `touched` names the fragment keys the last `compile`
    replaced, added or removed, so an update need not look at the others.
    """

    def __init__(self, node: str | None = None) -> None:
        self.node = node
        self.selection = Selection()
        self.touched: set[FragmentKey] = set()
        self._out: dict[FragmentKey, Ruleset] = {("base",): base_fragment()}
        self._policies: dict[str, NetworkPolicy] = {}
        self._policy_ids: dict[int, str] = {}  # id() of each object in _policies -> its key
        self._asked: dict[PolicyKey, tuple[str, ...]] = {}  # set names each policy looks up
        self._bodies: dict[PolicyKey, tuple[policies.RuleBody, ...]] = {}
        self._sets: dict[str, _SetState] = {}
        self._sets_of_ns: dict[str, set[str]] = {}  # sets of pods of one namespace
        # Sets of pods of any namespace, by the namespaceSelector choosing them (None: all).
        self._sets_anywhere: dict[LabelSelector | None, set[str]] = {}
        self._open_choosers: set[LabelSelector | None] = set()  # no matchLabels to index by
        self._choosers_by_pair: dict[tuple[str, str], set[LabelSelector]] = {}
        self._last_policies: tuple[NetworkPolicy, ...] = ()
        self._by_ns: dict[tuple[Direction, str], dict[str, NetworkPolicy]] = {}
        self._services: dict[str, Service] = {}
        self._nat = nat_fragment()
        self._serving: set[str] = set()  # services with endpoints: DNAT chains in the ruleset

    def compile(self, cluster: Cluster) -> dict[FragmentKey, Ruleset]:
        self.touched = set()
        local = None
        if self.node is not None:
            local = {p.key for p in cluster.pods if p.node in (None, self.node)}
        changes = self.selection.update(cluster, local)
        items = self.selection.items
        dirty = {items[i].namespace for i in bit_indices(changes.identities)}
        todo, class_dirty = self._changed_policies(cluster)
        if changes.identities or changes.namespaces:
            todo |= self._refresh_sets(dirty, changes.identities, changes.namespaces)
        for key, direction in sorted(todo, key=lambda k: (k[0], k[1].value)):
            if self._rebuild_policy(key, direction):
                class_dirty.add((direction, key.split("/", 1)[0]))
        class_dirty |= {(d, ns) for ns in dirty for d in DIRECTIONS}
        for direction, namespace in class_dirty:
            self._rebuild_classes(direction, namespace)
        self._update_services(cluster, dirty)
        return dict(self._out)

    def _put(self, key: FragmentKey, fragment: Ruleset | None) -> None:
        if fragment is None:
            if self._out.pop(key, None) is not None:
                self.touched.add(key)
        elif self._out.get(key) is not fragment:
            self._out[key] = fragment
            self.touched.add(key)

    def _changed_policies(
        self, cluster: Cluster
    ) -> tuple[set[PolicyKey], set[tuple[Direction, str]]]:
        """Record the snapshot's policies; return the chains and class namespaces to redo."""
        todo: set[PolicyKey] = set()
        class_dirty: set[tuple[Direction, str]] = set()
        if cluster.policies is self._last_policies:
            return todo, class_dirty  # the very same policies as last time
        self._last_policies = cluster.policies
        # By object identity, at C speed: only policies that are not the very objects of the
        # last snapshot are looked at.
        by_id = dict(zip(map(id, cluster.policies), cluster.policies, strict=True))
        fresh = [by_id[i] for i in by_id.keys() - self._policy_ids.keys()]
        gone = [self._policy_ids.pop(i) for i in self._policy_ids.keys() - by_id.keys()]
        for policy in sorted(fresh, key=lambda p: p.key):
            before = self._policies.get(policy.key)
            self._policies[policy.key] = policy
            self._policy_ids[id(policy)] = policy.key
            if before is None or before != policy:
                self._mark(policy.key, before, policy, todo, class_dirty)
        for key in gone:  # unless a new object of that policy took its place above
            current = self._policies.get(key)
            if current is not None and id(current) not in by_id:
                self._mark(key, self._policies.pop(key), None, todo, class_dirty)
        return todo, class_dirty

    def _mark(
        self,
        key: str,
        before: NetworkPolicy | None,
        after: NetworkPolicy | None,
        todo: set[PolicyKey],
        class_dirty: set[tuple[Direction, str]],
    ) -> None:
        for direction in DIRECTIONS:
            todo.add((key, direction))
            for policy in (before, after):
                if policy is not None:
                    class_dirty.add((direction, policy.namespace))
                    self._by_ns.get((direction, policy.namespace), {}).pop(key, None)
            if after is not None and after.affects(direction):
                self._by_ns.setdefault((direction, after.namespace), {})[key] = after

    def _refresh_sets(self, dirty: set[str], changed: int, namespaces: bool) -> set[PolicyKey]:
        """Recompute the sets whose members may have changed; return the policies that
        write one of them into their rules and must be rebuilt."""
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

    def _patch(self, state: _SetState, bits: int, changed: int) -> policies.Resolved:
        """Bring a set of pods to `bits`, redoing only the identities that moved."""
        request, old = state.request, state.owners
        assert old is not None  # an ipBlock's set never needs a refresh
        redo = changed | (bits ^ state.bits)
        owners = {key: i for key, i in old.items() if not redo >> i & 1}
        fresh = policies.member_keys(self.selection, request, bit_indices(bits & redo))
        owners.update(fresh)
        state.owners = owners
        if len(owners) <= policies.INLINE_MAX or not isinstance(state.resolved, str):
            return self._place_set(request, tuple(sorted(owners)))
        key = ("set", request.set_name)
        removed = [k for k in old if k not in owners]
        added = [k for k in fresh if k not in old]
        self._put(key, policies.patched(self._out[key], request.set_name, removed, added))
        return request.set_name

    @staticmethod
    def _fixed(request: SetRequest) -> bool:
        """An ipBlock's set: its members are addresses, whatever the pods."""
        return (
            request.port is None and request.peer is not None and request.peer.ip_block is not None
        )

    def _members(self, request: SetRequest) -> int:
        return 0 if self._fixed(request) else policies.members(self.selection, request)

    def _place_set(
        self, request: SetRequest, keys: tuple[tuple[str, ...], ...]
    ) -> policies.Resolved:
        """The set's keys when small enough to inline, else its name (its fragment put)."""
        if len(keys) <= policies.INLINE_MAX:
            self._put(("set", request.set_name), None)
            return keys
        self._put(("set", request.set_name), policies.set_fragment(request, keys))
        return request.set_name

    def _rebuild_policy(self, key: str, direction: Direction) -> bool:
        """Recompute the policy's rules for `direction`; say whether they changed."""
        policy = self._policies.get(key)
        old = self._asked.pop((key, direction), ())
        bodies: tuple[policies.RuleBody, ...] | None = None
        if policy is not None and policy.affects(direction):
            asked = policies.policy_requests(policy, direction)
            resolved = {r.set_name: self._use(r, (key, direction)) for r in asked}
            bodies = policies.policy_rules(policy, direction, asked, resolved)
            self._asked[(key, direction)] = tuple(resolved)
        for set_name in set(old) - set(self._asked.get((key, direction), ())):
            self._release(set_name, (key, direction))
        before = self._bodies.pop((key, direction), None)
        if bodies is not None:
            self._bodies[(key, direction)] = bodies
        return before != bodies

    def _use(self, request: SetRequest, user: PolicyKey) -> policies.Resolved:
        state = self._sets.get(request.set_name)
        if state is None:
            bits = self._members(request)
            owners = None
            if self._fixed(request):
                keys = policies.block_keys(request)
            else:
                owners = policies.member_keys(self.selection, request, bit_indices(bits))
                keys = tuple(sorted(owners))
            state = _SetState(request, bits, self._place_set(request, keys), owners, set())
            self._sets[request.set_name] = state
            self._index(request, add=True)
        state.users.add(user)
        return state.resolved

    def _release(self, set_name: str, user: PolicyKey) -> None:
        state = self._sets[set_name]
        state.users.discard(user)
        if not state.users:
            del self._sets[set_name]
            self._index(state.request, add=False)
            self._put(("set", set_name), None)

    def _index(self, request: SetRequest, *, add: bool) -> None:
        """File the set under the namespace whose pods can change it (or under any)."""
        if self._fixed(request):
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

    def _rebuild_classes(self, direction: Direction, namespace: str) -> None:
        found = self._by_ns.get((direction, namespace))
        fragment = None
        if found:
            ordered = sorted(found.values(), key=lambda p: p.key)
            bodies = {p.key: self._bodies[(p.key, direction)] for p in ordered}
            fragment = policies.classes_fragment(
                self.selection, direction, namespace, ordered, bodies
            )
        self._put(("classes", direction.value, namespace), fragment)

    def _update_services(self, cluster: Cluster, dirty: set[str]) -> None:
        current: dict[str, Service] = {}
        for svc in cluster.services:
            current[svc.key] = svc
            before = self._services.get(svc.key)
            if (before is svc or before == svc) and svc.namespace not in dirty:
                continue
            self._services[svc.key] = svc
            fragment = services.service_fragment(cluster, svc)
            self._put(("service", svc.key), fragment)
            if fragment.chains:
                self._serving.add(svc.key)
            else:
                self._serving.discard(svc.key)
        for key in [k for k in self._services if k not in current]:
            del self._services[key]
            self._serving.discard(key)
            self._put(("service", key), None)
        self._put(("nat",), self._nat if self._serving else None)


def compile_ruleset(cluster: Cluster, node: str | None = None) -> Ruleset:
    """The whole ruleset for the pods of `node` (every pod when None), in one piece."""
    return flatten(Compiler(node).compile(cluster))


__all__ = ["BASE_CHAINS", "Compiler", "compile_ruleset"]
