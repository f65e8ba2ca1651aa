"""The nftables ruleset of one node, compiled from a snapshot, incrementally.

Base chains are a data table. Established and related traffic is accepted and invalid
dropped first; then the egress of the source and the ingress of the destination are checked in
two base chains of the forward hook (an `accept` in the first goes on to the second, a `drop`
is final). A pod's new connection to an address of its own node is delivered locally, never
forwarded: the input hook's base chain sends it through the same egress verdict, a regular
chain both base chains jump to (a base chain cannot be jumped to). Pods no policy isolates are
not in the verdict maps and pass. While the snapshot holds ClusterNetworkPolicies, each verdict
runs the Admin tier chain before the verdict map and the Baseline tier chain after it
(`clusterpolicies`).

`Compiler` keeps what it built and rebuilds only the fragments whose inputs changed (a
namespace's class chains, a set, a service); the others are returned as the same objects and
`Compiler.touched` names the rebuilt ones, so an update costs what the change touches.
`compile_ruleset` is the one-shot form. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from podwall.engine.identities import bit_indices
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster, Node, Service
from podwall.model.clusterpolicy import ClusterNetworkPolicy, Tier
from podwall.model.policy import Direction, NetworkPolicy
from podwall.nft import clusterpolicies, policies, services
from podwall.nft.clusterpolicies import TierBook, User
from podwall.nft.flowlog import FlowLog, Logging, lost_fragment
from podwall.nft.fragments import FragmentKey, flatten
from podwall.nft.logtags import TagTable
from podwall.nft.objects import Chain, ChainPolicy, ChainType, Hook, Map, Priority
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.setbook import PolicyKey, SetBook
from podwall.nft.statements import Accept, CtState, Drop, Field, Jump, Log, Match, VMap
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
# A pod's connection to an address of its own node (a `nodes` peer, a host-network pod) is
# delivered locally and never forwarded, yet "egress" applies to every destination (only
# ingress from the pod's own node is exempt): its new connections meet the same egress verdict
# on the input hook. Only local pods' sources are in the verdict maps and tier sets; the node's
# own traffic and replies to its connections into its pods (not new) pass untouched.
TO_NODE = BaseChain(
    "egress-node",
    ChainType.FILTER,
    Hook.INPUT,
    Priority.FILTER,
    Direction.EGRESS,
    "egress of the source pod to this node's own addresses",
)
# The egress verdict of the source pod, which both the forward and the input hook jump to.
EGRESS_VERDICT = Chain(name="egress-verdict", comment="the egress verdict of the source pod")


# Node ports: a connection to a node's address is DNATed on the client's node, from its pods
# (prerouting, beside the ClusterIP lookup) and from its own processes (output).
NODE_PORT_CHAINS = (
    BaseChain("nodeports-prerouting", ChainType.NAT, Hook.PREROUTING, Priority.DSTNAT, None,
              "node ports: DNAT to an endpoint"),
    BaseChain("nodeports-output", ChainType.NAT, Hook.OUTPUT, Priority.DSTNAT, None,
              "node ports dialled from this node: DNAT to an endpoint"),
)  # fmt: skip


def _base_chain(base: BaseChain) -> Chain:
    return Chain(
        name=base.name,
        type=base.type,
        hook=base.hook,
        priority=int(base.priority),
        policy=ChainPolicy.ACCEPT,
        comment=base.comment,
    )


def base_fragment(tiers: bool = False) -> Ruleset:
    """The filter base chains, the egress verdict chain and the verdict maps; with `tiers`,
    their jumps to the tier chains (which the tier fragments own)."""
    rs = Ruleset()
    for base in (*BASE_CHAINS, TO_NODE):
        if base.direction is not None:
            rs.chain(_base_chain(base))
    rs.chain(EGRESS_VERDICT)
    _verdict_rules(rs, EGRESS_VERDICT.name, Direction.EGRESS, tiers)
    for base in BASE_CHAINS:
        if base.direction is None:
            continue
        _conntrack_rules(rs, base.name)
        if base.direction is Direction.EGRESS:
            jump = (Jump(EGRESS_VERDICT.name),)
            rs.rule(NftRule(chain=base.name, statements=jump, comment="the source pod's egress"))
        else:
            _verdict_rules(rs, base.name, base.direction, tiers)
    # Only a pod's new connections are judged: replies to the node's own connections into its
    # pods, and whatever else reaches the node, are the node's business, not a pod's egress.
    new = (Match(Field.CT_STATE, CtState.NEW.value), Jump(EGRESS_VERDICT.name))
    rs.rule(NftRule(chain=TO_NODE.name, statements=new, comment="new connections of local pods"))
    return rs


# The node's own processes dial ClusterIPs too (a shell on the node, a host-network pod): their
# connections are DNATed at output, as kube-proxy does.
SERVICES_OUTPUT = BaseChain(
    "nat-output", ChainType.NAT, Hook.OUTPUT, Priority.DSTNAT, None,
    "ClusterIP services dialled from this node: DNAT to an endpoint",
)  # fmt: skip


def nat_fragment() -> Ruleset:
    """The NAT base chains and the services map, loaded only while a service has endpoints:
    a NAT chain makes the kernel set up NAT for every new connection, even unmatched."""
    rs = Ruleset()
    (base,) = [b for b in BASE_CHAINS if b.type is ChainType.NAT]
    rs.chain(_base_chain(base))
    services.base(rs, base.name)
    rs.chain(_base_chain(SERVICES_OUTPUT))
    services.lookup(rs, SERVICES_OUTPUT.name)
    return rs


def nodeports_fragment(addresses: Iterable[str]) -> Ruleset:
    """The node port base chains, the node addresses and the node ports map, loaded only while
    a Service with node ports has endpoints (as the NAT base chain, for the same reason)."""
    rs = Ruleset()
    for base in NODE_PORT_CHAINS:
        rs.chain(_base_chain(base))
    services.nodeports_base(rs, [b.name for b in NODE_PORT_CHAINS], addresses)
    return rs


def node_addresses(nodes: Iterable[Node]) -> tuple[str, ...]:
    """The IPv4 addresses of the nodes, sorted: the addresses node ports are served on."""
    found = {str(a) for node in nodes for a in node.addresses if a.version == 4}
    return tuple(sorted(found))


def _conntrack_rules(rs: Ruleset, chain: str) -> None:
    established = (Match(Field.CT_STATE, ("established", "related")), Accept())
    invalid = (Match(Field.CT_STATE, CtState.INVALID.value), Drop())
    rs.rule(NftRule(chain=chain, statements=established, comment="replies of allowed flows"))
    rs.rule(NftRule(chain=chain, statements=invalid, comment="conntrack: invalid"))


def _verdict_rules(rs: Ruleset, chain: str, direction: Direction, tiers: bool) -> None:
    vmap = policies.vmap_name(direction)
    rs.set(Map(name=vmap, key=(NftType.IPV4_ADDR,), comment=f"pods isolated for {direction}"))
    field = Field.IP_SADDR if direction is Direction.EGRESS else Field.IP_DADDR
    if tiers:
        # "If Admin tier has made a final decision (Accept or Deny) on a connection, then no
        # further evaluation is done"; a Pass, or no rule matching, returns here.
        admin = Jump(clusterpolicies.tier_chain(Tier.ADMIN, direction))
        rs.rule(NftRule(chain=chain, statements=(admin,), comment="Admin tier"))
    comment = f"pods isolated for {direction}: their class chain"
    rs.rule(NftRule(chain=chain, statements=(VMap((field,), vmap),), comment=comment))
    if not tiers:
        return
    # "v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation
    # only happens for Pods not selected by a v1.NetworkPolicy": a class chain ends in a
    # verdict, so only pods no enforced NetworkPolicy isolates get here.
    baseline = Jump(clusterpolicies.tier_chain(Tier.BASELINE, direction))
    rs.rule(NftRule(chain=chain, statements=(baseline,), comment="Baseline tier"))
    audit = policies.audit_vmap_name(direction)
    what = f"pods only audited policies isolate for {direction}"
    rs.set(Map(name=audit, key=(NftType.IPV4_ADDR,), comment=what))
    statements = (VMap((field,), audit),)
    rs.rule(NftRule(chain=chain, statements=statements, comment=f"{what}: their class chain"))


class Compiler:
    """Snapshots in, fragments out; call from one task only.

    It keeps the fragments it built and, per snapshot, rebuilds only those whose inputs
    changed: the policies that changed, the sets whose members did (and the policies that
    write a small set into their rules), the class chains and services of the namespaces
    whose pods or policies changed. The snapshot's ClusterNetworkPolicies (`Cluster.
    cluster_policies`) likewise: a changed one rebuilds its own chains and sets, and its tier
    chain when its place or a Pass rule changed. `touched` names the fragment keys the last
    `compile` replaced, added or removed, so an update need not look at the others.

    With `flow_log`, every verdict rule reports the connections it decides (`flowlog`), and
    `tags` maps each report's prefix back to its rule.
    """

    def __init__(self, node: str | None = None, *, flow_log: FlowLog | None = None) -> None:
        self.node = node
        self.tags = TagTable()
        self._logging = None if flow_log is None else Logging(flow_log, self.tags)
        self.selectors = SelectorCache()
        self.touched: set[FragmentKey] = set()
        self._out: dict[FragmentKey, Ruleset] = {("base",): base_fragment()}
        self._policies: dict[str, NetworkPolicy] = {}
        self._policy_ids: dict[int, str] = {}  # id() of each object in _policies -> its key
        self._asked: dict[PolicyKey, tuple[str, ...]] = {}  # set names each policy looks up
        self._bodies: dict[PolicyKey, tuple[policies.RuleBody, ...]] = {}
        self._sets = SetBook(self.selectors, self._put, self._out.__getitem__)
        self._last_policies: tuple[NetworkPolicy, ...] = ()
        self._by_ns: dict[tuple[Direction, str], dict[str, NetworkPolicy]] = {}
        self._services: dict[str, Service] = {}
        self._nat = nat_fragment()
        self._serving: set[str] = set()  # services with endpoints: DNAT chains in the ruleset
        self._node_ports: set[str] = set()  # those of them with node ports
        self._nodeports_nodes: tuple[Node, ...] = ()
        self._nodeports_addresses: tuple[str, ...] = ()
        self._nodeports = nodeports_fragment(())
        self._tiers = False  # ClusterNetworkPolicies in force: the tier chains are loaded
        self._cnps: dict[str, ClusterNetworkPolicy] = {}
        self._last_cnps: tuple[ClusterNetworkPolicy, ...] = ()
        self._last_nodes: tuple[Node, ...] = ()
        self._tier_book = TierBook(self.selectors, self._put)
        self._cnp_asked: dict[User, tuple[str, ...]] = {}
        self._cnp_bodies: dict[User, tuple[policies.RuleBody, ...]] = {}
        self._placed: dict[User, Placement | None] = {}  # where each policy's chain was put
        if self._logging is not None:
            self._out[("flows",)] = lost_fragment()

    def compile(self, cluster: Cluster) -> dict[FragmentKey, Ruleset]:
        self.touched = set()
        local = None
        if self.node is not None:
            local = {p.key for p in cluster.pods if p.node in (None, self.node)}
        changes = self.selectors.update(cluster, local)
        items = self.selectors.identities.items
        dirty = {items[i].namespace for i in bit_indices(changes.identities)}
        todo, class_dirty = self._changed_policies(cluster)
        if changes.identities or changes.namespaces:
            todo |= self._sets.refresh(dirty, changes.identities, changes.namespaces)
        for key, direction in sorted(todo, key=lambda k: (k.policy, k.direction.value)):
            if self._rebuild_policy(key, direction):
                class_dirty.add((direction, key.split("/", 1)[0]))
        class_dirty |= {(d, ns) for ns in dirty for d in DIRECTIONS}
        if self._update_tiers(cluster, changes.identities, changes.namespaces):
            class_dirty |= set(self._by_ns)  # audited classes move between the verdict maps
        for direction, namespace in class_dirty:
            self._rebuild_classes(direction, namespace)
        self._update_services(cluster, dirty)
        if self._logging is not None:  # tags of rules gone are retired, later released
            self.tags.commit({key: _log_prefixes(self._out.get(key)) for key in self.touched})
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
            todo.add(PolicyKey(key, direction))
            for policy in (before, after):
                if policy is not None:
                    class_dirty.add((direction, policy.namespace))
                    self._by_ns.get((direction, policy.namespace), {}).pop(key, None)
            if after is not None and after.affects(direction):
                self._by_ns.setdefault((direction, after.namespace), {})[key] = after

    def _rebuild_policy(self, key: str, direction: Direction) -> bool:
        """Recompute the policy's rules for `direction`; say whether they changed."""
        policy = self._policies.get(key)
        user = PolicyKey(key, direction)
        old = self._asked.pop(user, ())
        bodies: tuple[policies.RuleBody, ...] | None = None
        if policy is not None and policy.affects(direction):
            asked = policies.policy_requests(policy, direction)
            resolved = {r.set_name: self._sets.use(r, user) for r in asked}
            bodies = policies.policy_rules(policy, direction, asked, resolved, self._logging)
            self._asked[user] = tuple(resolved)
        for set_name in set(old) - set(self._asked.get(user, ())):
            self._sets.release(set_name, user)
        before = self._bodies.pop(user, None)
        if bodies is not None:
            self._bodies[user] = bodies
        return before != bodies

    def _rebuild_classes(self, direction: Direction, namespace: str) -> None:
        found = self._by_ns.get((direction, namespace))
        fragment = None
        if found:
            ordered = sorted(found.values(), key=lambda p: p.key)
            bodies = {p.key: self._bodies[PolicyKey(p.key, direction)] for p in ordered}
            fragment = policies.classes_fragment(
                self.selectors, direction, namespace, ordered, bodies, self._logging, self._tiers
            )
        self._put(("classes", direction.value, namespace), fragment)

    def _update_tiers(self, cluster: Cluster, identities: int, namespaces: bool) -> bool:
        """Bring the tier chains to the snapshot's ClusterNetworkPolicies, rebuilding only the
        policies that changed (and those a changed set is written into); say whether the tiers
        came or went."""
        on = bool(cluster.cluster_policies)
        toggled = on != self._tiers
        if toggled:
            self._tiers = on
            self._put(("base",), base_fragment(tiers=on))
        todo: set[User] = set()
        dirty: set[tuple[Tier, Direction]] = set()
        if cluster.cluster_policies is not self._last_cnps:
            self._last_cnps = cluster.cluster_policies
            self._changed_cluster_policies(cluster, todo, dirty)
        nodes = cluster.nodes is not self._last_nodes and cluster.nodes != self._last_nodes
        self._last_nodes = self._tier_book.nodes = cluster.nodes
        if identities or namespaces or nodes:
            todo |= self._tier_book.refresh(identities, namespaces, nodes)
        for user in sorted(todo, key=lambda u: (u[0], u[1].value)):
            self._rebuild_cluster_policy(user, dirty)
        if toggled:
            dirty = {(t, d) for t in Tier for d in DIRECTIONS}
        for tier, direction in dirty:
            self._rebuild_tier(tier, direction)
        return toggled

    def _changed_cluster_policies(
        self, cluster: Cluster, todo: set[User], dirty: set[tuple[Tier, Direction]]
    ) -> None:
        current = {p.key: p for p in cluster.cluster_policies}
        changed: list[tuple[str, ClusterNetworkPolicy | None, ClusterNetworkPolicy | None]] = []
        for key, policy in current.items():
            before = self._cnps.get(key)
            self._cnps[key] = policy
            if before is not policy and before != policy:
                changed.append((key, before, policy))
        for key in [k for k in self._cnps if k not in current]:
            changed.append((key, self._cnps.pop(key), None))
        for key, before, after in changed:
            for direction in DIRECTIONS:
                todo.add((key, direction))
                if _placed(before, direction) != _placed(after, direction):
                    for side in (before, after):
                        if side is not None and side.rules(direction):
                            dirty.add((side.tier, direction))

    def _rebuild_cluster_policy(self, user: User, dirty: set[tuple[Tier, Direction]]) -> None:
        key, direction = user
        policy = self._cnps.get(key)
        old = self._cnp_asked.pop(user, ())
        bodies: tuple[policies.RuleBody, ...] | None = None
        if policy is not None and policy.rules(direction):
            sources = clusterpolicies.policy_sources(policy, direction)
            book = self._tier_book
            resolved = {clusterpolicies.set_name(s): book.use(s, user) for s in sources}
            bodies = clusterpolicies.policy_rules(policy, direction, resolved, self._logging)
            self._cnp_asked[user] = tuple(resolved)
        for set_name in set(old) - set(self._cnp_asked.get(user, ())):
            self._tier_book.release(set_name, user)
        before = self._cnp_bodies.pop(user, None)
        fragment = None
        if bodies is not None:
            assert policy is not None
            self._cnp_bodies[user] = bodies
            fragment = self._out.get(clusterpolicies.policy_key(key, direction))
            if bodies != before or self._placed.get(user) != _placed(policy, direction):
                fragment = clusterpolicies.policy_fragment(policy, direction, bodies)
        self._placed[user] = _placed(policy, direction)
        self._put(clusterpolicies.policy_key(key, direction), fragment)
        passes = clusterpolicies.passes
        if policy is not None and passes(before or ()) != passes(bodies or ()):
            dirty.add((policy.tier, direction))

    def _rebuild_tier(self, tier: Tier, direction: Direction) -> None:
        key = clusterpolicies.tier_key(tier, direction)
        if not self._tiers:
            self._put(key, None)
            return
        found = [p for p in self._cnps.values() if p.tier is tier and p.rules(direction)]
        ordered = sorted(found, key=lambda p: p.order)
        passes = {
            p.key: clusterpolicies.passes(self._cnp_bodies.get((p.key, direction), ()))
            for p in ordered
        }
        self._put(key, clusterpolicies.tier_fragment(tier, direction, ordered, passes))

    def _update_services(self, cluster: Cluster, dirty: set[str]) -> None:
        current: dict[str, Service] = {}
        for svc in cluster.services:
            current[svc.key] = svc
            before = self._services.get(svc.key)
            if (before is svc or before == svc) and svc.namespace not in dirty:
                continue
            self._services[svc.key] = svc
            fragment = services.service_fragment(cluster, svc, self._logging)
            self._put(("service", svc.key), fragment)
            if fragment.chains:
                self._serving.add(svc.key)
            else:
                self._serving.discard(svc.key)
            if fragment.chains and services.node_ports(svc):
                self._node_ports.add(svc.key)
            else:
                self._node_ports.discard(svc.key)
        for key in [k for k in self._services if k not in current]:
            del self._services[key]
            self._serving.discard(key)
            self._node_ports.discard(key)
            self._put(("service", key), None)
        self._put(("nat",), self._nat if self._serving else None)
        self._update_nodeports(cluster)

    def _update_nodeports(self, cluster: Cluster) -> None:
        if cluster.nodes is not self._nodeports_nodes:
            self._nodeports_nodes = cluster.nodes
            addresses = node_addresses(cluster.nodes)
            if addresses != self._nodeports_addresses:
                self._nodeports_addresses = addresses
                self._nodeports = nodeports_fragment(addresses)
        self._put(("nodeports",), self._nodeports if self._node_ports else None)


# Where a policy's chain is, in its tier chain: what the tier chain must be rewritten for.
Placement = tuple[Tier, int, str]


def _placed(policy: ClusterNetworkPolicy | None, direction: Direction) -> Placement | None:
    if policy is None or not policy.rules(direction):
        return None
    return (policy.tier, policy.priority, policy.key)


def compile_ruleset(
    cluster: Cluster, node: str | None = None, *, flow_log: FlowLog | None = None
) -> Ruleset:
    """The whole ruleset for the pods of `node` (every pod when None), in one piece."""
    return flatten(Compiler(node, flow_log=flow_log).compile(cluster))


__all__ = ["BASE_CHAINS", "Compiler", "compile_ruleset"]


def _log_prefixes(fragment: Ruleset | None) -> set[str]:
    """The log tags a fragment's rules carry (none when it is gone)."""
    if fragment is None:
        return set()
    return {
        stmt.prefix
        for rules in fragment.rules.values()
        for rule in rules
        for stmt in rule.statements
        if isinstance(stmt, Log)
    }
