"""The nftables ruleset of one node, compiled from a snapshot, incrementally.

Base chains are a data table. Established and related traffic is accepted and invalid
dropped first; then the egress of the source and the ingress of the destination are checked in
two base chains of the forward hook (an `accept` in the first goes on to the second, a `drop`
is final). Pods no policy isolates are not in the verdict maps and pass.

`Compiler` keeps what it built: a fragment whose inputs did not change is returned as the
same object, so `fragments.update` skips it and an update costs what the change touches.
`compile_ruleset` is the one-shot form. Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.engine.rulesets import bit_indices
from podwall.model.cluster import Cluster, Service
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


def base_fragment() -> Ruleset:
    rs = Ruleset()
    for base in BASE_CHAINS:
        chain = Chain(
            name=base.name,
            type=base.type,
            hook=base.hook,
            priority=int(base.priority),
            policy=ChainPolicy.ACCEPT,
            comment=base.comment,
        )
        rs.chain(chain)
    services.base(rs, "nat-prerouting")
    for base in BASE_CHAINS:
        if base.direction is not None:
            _filter_rules(rs, base.name, base.direction)
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


class Compiler:
    """Snapshots in, fragments out; call from one task only."""

    def __init__(self, node: str | None = None) -> None:
        self.node = node
        self.selection = Selection()
        self._base = base_fragment()
        self._policies: dict[
            tuple[str, Direction], tuple[NetworkPolicy, Ruleset, list[SetRequest]]
        ] = {}
        self._classes: dict[tuple[Direction, str], tuple[tuple[NetworkPolicy, ...], Ruleset]] = {}
        self._sets: dict[str, tuple[int, Ruleset]] = {}
        self._services: dict[str, tuple[Service, Ruleset]] = {}

    def compile(self, cluster: Cluster) -> dict[FragmentKey, Ruleset]:
        local = None
        if self.node is not None:
            local = {p.key for p in cluster.pods if p.node in (None, self.node)}
        changes = self.selection.update(cluster, local)
        dirty = {self.selection.items[i].namespace for i in bit_indices(changes.identities)}
        out: dict[FragmentKey, Ruleset] = {("base",): self._base}
        requests: dict[str, SetRequest] = {}
        for direction in DIRECTIONS:
            affecting = [p for p in cluster.policies if p.affects(direction)]
            for policy in affecting:
                fragment, asked = self._policy(policy, direction)
                out[("policy", direction.value, policy.key)] = fragment
                requests.update((r.set_name, r) for r in asked)
            self._add_classes(out, direction, affecting, dirty)
        # Without a pod or namespace change no set's members can have changed.
        quiet = not changes.identities and not changes.namespaces
        for set_name, request in requests.items():
            memo = self._sets.get(set_name) if quiet else None
            out[("set", set_name)] = memo[1] if memo else self._set(request, changes.identities)
        for svc in cluster.services:
            out[("service", svc.key)] = self._service(cluster, svc, dirty)
        self._forget(out)
        return out

    def _policy(
        self, policy: NetworkPolicy, direction: Direction
    ) -> tuple[Ruleset, list[SetRequest]]:
        key = (policy.key, direction)
        memo = self._policies.get(key)
        if memo is not None and (memo[0] is policy or memo[0] == policy):
            return memo[1], memo[2]
        fragment, asked = policies.policy_fragment(policy, direction)
        self._policies[key] = (policy, fragment, asked)
        return fragment, asked

    def _add_classes(
        self,
        out: dict[FragmentKey, Ruleset],
        direction: Direction,
        affecting: list[NetworkPolicy],
        dirty: set[str],
    ) -> None:
        by_namespace: dict[str, list[NetworkPolicy]] = {}
        for policy in affecting:
            by_namespace.setdefault(policy.namespace, []).append(policy)
        for namespace, found in by_namespace.items():
            ordered = tuple(sorted(found, key=lambda p: p.key))
            memo = self._classes.get((direction, namespace))
            if memo is None or namespace in dirty or memo[0] != ordered:
                fragment = policies.classes_fragment(
                    self.selection, direction, namespace, list(ordered)
                )
                memo = (ordered, fragment)
                self._classes[(direction, namespace)] = memo
            out[("classes", direction.value, namespace)] = memo[1]

    def _set(self, request: SetRequest, changed: int) -> Ruleset:
        fixed = (
            request.port is None and request.peer is not None and request.peer.ip_block is not None
        )
        bits = 0 if fixed else policies.members(self.selection, request)
        memo = self._sets.get(request.set_name)
        if memo is not None and memo[0] == bits and not bits & changed:
            return memo[1]
        fragment = policies.set_fragment(self.selection, request, bits)
        self._sets[request.set_name] = (bits, fragment)
        return fragment

    def _service(self, cluster: Cluster, svc: Service, dirty: set[str]) -> Ruleset:
        memo = self._services.get(svc.key)
        if memo is not None and memo[0] == svc and svc.namespace not in dirty:
            return memo[1]
        fragment = services.service_fragment(cluster, svc)
        self._services[svc.key] = (svc, fragment)
        return fragment

    def _forget(self, out: dict[FragmentKey, Ruleset]) -> None:
        """Drop memos of what the snapshot no longer has, so memory follows the cluster."""
        memos = len(self._policies) + len(self._classes) + len(self._sets) + len(self._services)
        if memos <= len(out) - 1:  # every memo is in use (the base fragment has none)
            return
        keep_policies = {(k[2], Direction(k[1])) for k in out if k[0] == "policy"}
        self._policies = {k: v for k, v in self._policies.items() if k in keep_policies}
        keep_classes = {(Direction(k[1]), k[2]) for k in out if k[0] == "classes"}
        self._classes = {k: v for k, v in self._classes.items() if k in keep_classes}
        keep_sets = {k[1] for k in out if k[0] == "set"}
        self._sets = {k: v for k, v in self._sets.items() if k in keep_sets}
        keep_services = {k[1] for k in out if k[0] == "service"}
        self._services = {k: v for k, v in self._services.items() if k in keep_services}


def compile_ruleset(cluster: Cluster, node: str | None = None) -> Ruleset:
    """The whole ruleset for the pods of `node` (every pod when None), in one piece."""
    return flatten(Compiler(node).compile(cluster))


__all__ = ["BASE_CHAINS", "Compiler", "compile_ruleset"]
