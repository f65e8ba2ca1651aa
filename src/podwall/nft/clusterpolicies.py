"""ClusterNetworkPolicies as tier chains, and the sets their rules ask for.

Each filter base chain runs, after conntrack, the Admin tier chain of its direction, then the
NetworkPolicy verdict map, then the Baseline tier chain, then its accept policy:

    "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further
    evaluation is done. ... v1.NetworkPolicy always makes a final decision for selected pods.
    Further evaluation only happens for Pods not selected by a v1.NetworkPolicy. ... If a given
    connection wasn't allowed or denied by any of the tiers, the default kubernetes policy is
    applied, which says that all pods can communicate with each other."

Each policy has a chain per direction with its rules in order: one nft rule per (peer,
protocol) of each rule, matching the policy's subject, the peer and the ports. Accept is
`accept`, which ends only this base chain: an egress Accept still meets the destination's
ingress in the next one, as the engine has it. Deny is `drop`. The tier chain jumps to its
policies' chains in evaluation order (priority, then name). Pass "skips all further
ClusterNetworkPolicy rules in the current tier": in the policy's chain it is `return`, and the
tier chain repeats each Pass rule's matches after the jump, with `return`, to the base chain,
which goes on with the NetworkPolicy stage (Admin) or its accept policy (Baseline). (A packet
that returned there matched that Pass rule before any other rule of the policy, and one that
fell through the chain matched none, so the repeat decides exactly the Pass.) A policy's change
rewrites its own chain, and the tier chain only when its order, or a Pass rule, changed.
A class chain (a pod a NetworkPolicy isolates) ends in a verdict, so Baseline never sees it.

Subjects are the local pods the subject selects, never host-network ones; `namespaces` and
`pods` peers are pods' addresses (never host-network pods'), `nodes` peers the addresses of
the selected Nodes, `networks` peers their CIDRs. A peer with no field (one a newer API adds)
fails closed: an Accept rule's matches nothing, a Deny or Pass rule's everything. A named port
is the destination pod's container port of that name, in whichever protocol it is declared.

A set is written into the rules while it holds at most `setbook.INLINE_MAX` elements (named
ports are always a named set); `TierBook` keeps them across snapshots. Pure: no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from podwall.engine.identities import Identity, bit_indices
from podwall.engine.selectorcache import SelectorCache
from podwall.model.addressing import block_ranges
from podwall.model.cluster import Node
from podwall.model.clusterpolicy import (
    KIND,
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    NamespacedPod,
    Subject,
    Tier,
)
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction, IPAddress
from podwall.nft import setbook
from podwall.nft.flowlog import Logging
from podwall.nft.fragments import FragmentKey
from podwall.nft.logtags import LogTag, TagKind
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element, Set, SetFlag
from podwall.nft.objects import Rule as NftRule
from podwall.nft.policies import SHORT, RuleBody, clip
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import (
    Accept,
    Counter,
    Drop,
    Field,
    Jump,
    Lookup,
    Match,
    Return,
    Statement,
)
from podwall.nft.values import NftType, address_texts

# The other end of the connection, and the subject's end, as a rule of `direction` sees them.
_PEER_FIELD = {Direction.INGRESS: Field.IP_SADDR, Direction.EGRESS: Field.IP_DADDR}
_SUBJECT_FIELD = {Direction.INGRESS: Field.IP_DADDR, Direction.EGRESS: Field.IP_SADDR}
_PEERS_WORD = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
_NAMED_FIELDS = (Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT)


def tier_chain(tier: Tier, direction: Direction) -> str:
    return name("tier", tier.value.lower(), SHORT[direction])


def tier_key(tier: Tier, direction: Direction) -> FragmentKey:
    return ("tier", tier.value.lower(), SHORT[direction])


def policy_chain(policy: ClusterNetworkPolicy, direction: Direction) -> str:
    # The key's prefix (admin, baseline, anp, banp) keeps same-named policies of the
    # ClusterNetworkPolicy tiers and of the v1alpha1 kinds apart.
    return name(f"cnp-{SHORT[direction]}", *policy.key.split("/", 1))


def policy_key(key: str, direction: Direction) -> FragmentKey:
    return ("cnp", key, SHORT[direction])


def passes(bodies: tuple[RuleBody, ...]) -> tuple[RuleBody, ...]:
    """The Pass rules among a policy's rules: what the tier chain repeats."""
    return tuple(body for body in bodies if isinstance(body[0][-1], Return))


TIER_COMMENTS = {
    Tier.ADMIN: "Admin tier: ClusterNetworkPolicies before NetworkPolicy",
    Tier.BASELINE: "Baseline tier: ClusterNetworkPolicies for pods no NetworkPolicy isolates",
}


# What a set holds: a subject's local pods, a peer's addresses, or a named port's (address,
# protocol, number) on every pod that declares it.
SetSource = Subject | ClusterPeer | str
ElementKey = tuple[str, ...]
# How a rule sees a set: its name (loaded as a named set), or the elements written in.
Resolved = str | tuple[ElementKey, ...]
# The rules of one ClusterNetworkPolicy for one direction: a user of sets.
User = tuple[str, Direction]


@functools.lru_cache(maxsize=1 << 12)
def set_name(source: SetSource) -> str:
    if isinstance(source, str):
        return name("cnp-port", source)
    kind = "cnp-subj" if isinstance(source, Subject) else "cnp-peer"
    return name(kind, source.render())


@dataclass(slots=True)
class _SetState:
    source: SetSource
    keys: tuple[ElementKey, ...]
    bits: int
    resolved: Resolved
    users: set[User]


class TierBook:
    """Every set the tier chains use; `put` places (or, with None, removes) a set's fragment."""

    def __init__(
        self, selectors: SelectorCache, put: Callable[[FragmentKey, Ruleset | None], None]
    ) -> None:
        self.selectors = selectors
        self.nodes: tuple[Node, ...] = ()
        self._put = put
        self._sets: dict[str, _SetState] = {}

    def use(self, source: SetSource, user: User) -> Resolved:
        key = set_name(source)
        state = self._sets.get(key)
        if state is None:
            bits = self._bits(source)
            keys = self._keys(source, bits)
            state = _SetState(source, keys, bits, self._place(source, keys), set())
            self._sets[key] = state
        state.users.add(user)
        return state.resolved

    def release(self, key: str, user: User) -> None:
        state = self._sets[key]
        state.users.discard(user)
        if not state.users:
            del self._sets[key]
            self._put(("set", key), None)

    def refresh(self, changed: int, namespaces: bool, nodes: bool) -> set[User]:
        """Recompute the sets the change can touch; return the users whose rules must be
        rebuilt because a set written into them changed."""
        todo: set[User] = set()
        for state in self._sets.values():
            source = state.source
            bits = self._bits(source)
            members = bits != state.bits or bool(bits & changed)
            if not _may_change(source, members, namespaces, nodes):
                continue
            keys = self._keys(source, bits)
            state.bits = bits
            if keys == state.keys:
                continue
            state.keys = keys
            resolved = self._place(source, keys)
            if resolved != state.resolved:
                todo |= state.users
            state.resolved = resolved
        return todo

    def _bits(self, source: SetSource) -> int:
        if isinstance(source, str):
            return self.selectors.all_bits
        if isinstance(source, Subject):
            if source.pods is not None:
                return self._pods(source.pods)
            assert source.namespaces is not None
            return self._namespaces(source.namespaces)
        if source.pods is not None:
            return self._pods(source.pods)
        if source.namespaces is not None:
            return self._namespaces(source.namespaces)
        return 0

    def _namespaces(self, selector: LabelSelector) -> int:
        bits = 0
        for ns in self.selectors.namespaces(selector):
            bits |= self.selectors.ns_bits.get(ns, 0)  # never host-network identities
        return bits

    def _pods(self, sel: NamespacedPod) -> int:
        bits = 0
        for ns in self.selectors.namespaces(sel.namespace_selector):
            bits |= self.selectors.selected(ns, sel.pod_selector)
        return bits

    def _keys(self, source: SetSource, bits: int) -> tuple[ElementKey, ...]:
        """The set's elements, sorted. Only IPv4: the sandbox dataplane is single-stack."""
        items = self.selectors.identities.items
        found: set[ElementKey] = set()
        if isinstance(source, str):
            for ident in items:
                for port in ident.named_ports:
                    if port.name == source:
                        proto = port.protocol.value.lower()
                        found |= {(str(ip), proto, str(port.number)) for ip in _v4(ident)}
            return tuple(sorted(found))
        if isinstance(source, ClusterPeer) and source.networks:
            blocks = [b for b in source.networks if b.cidr.version == 4]
            ranges = [r for b in blocks for r in block_ranges(b)]
            return tuple((text,) for text in address_texts(ranges))
        if isinstance(source, ClusterPeer) and source.nodes is not None:
            for node in self.nodes:
                if source.nodes.matches(node.labels):
                    found |= {(str(ip),) for ip in node.addresses if ip.version == 4}
            return tuple(sorted(found))
        local = isinstance(source, Subject)  # a node enforces the subject side of its pods
        for index in bit_indices(bits):
            ident = items[index]
            if local:
                found |= {
                    (str(ip),) for k in ident.local for ip in ident.members[k] if ip.version == 4
                }
            else:
                found |= {(str(ip),) for ip in _v4(ident)}
        return tuple(sorted(found))

    def _place(self, source: SetSource, keys: tuple[ElementKey, ...]) -> Resolved:
        key = set_name(source)
        if not isinstance(source, str) and len(keys) <= setbook.INLINE_MAX:
            self._put(("set", key), None)
            return keys
        self._put(("set", key), _set_fragment(source, keys))
        return key


def _may_change(source: SetSource, members: bool, namespaces: bool, nodes: bool) -> bool:
    """Whether a set's elements can differ after a change: of its pods' identities
    (`members`), of the namespaces, or of the Nodes."""
    if isinstance(source, str):
        return True  # any pod's named ports
    if isinstance(source, ClusterPeer):
        if source.networks or source.domain_names:
            return False  # fixed addresses
        if source.nodes is not None:
            # The Nodes' addresses: no identity follows them, so a `nodes` peer's bits are
            # always 0 and would never tell that the Nodes changed.
            return nodes
    return members or namespaces


def _v4(ident: Identity) -> Iterable[IPAddress]:
    return [ip for ip in ident.addresses() if ip.version == 4]


def _set_fragment(source: SetSource, keys: tuple[ElementKey, ...]) -> Ruleset:
    rs = Ruleset()
    key = set_name(source)
    v4 = NftType.IPV4_ADDR
    if isinstance(source, str):
        what = f"named port {source} of every pod"
        rs.set(
            Set(name=key, key=(v4, NftType.INET_PROTO, NftType.INET_SERVICE), comment=clip(what))
        )
    elif isinstance(source, ClusterPeer) and source.networks:
        flags = frozenset({SetFlag.INTERVAL})
        rs.set(Set(name=key, key=(v4,), flags=flags, comment=clip(source.render())))
    else:
        what = source.render() if isinstance(source, ClusterPeer) else f"subject {source.render()}"
        rs.set(Set(name=key, key=(v4,), comment=clip(what)))
    for element in keys:
        rs.element(Element(set=key, key=element))
    return rs


def policy_sources(policy: ClusterNetworkPolicy, direction: Direction) -> list[SetSource]:
    """Every set the policy's rules for `direction` look up: its subject's, its peers', and
    its named ports'."""
    out: list[SetSource] = [policy.subject]
    for rule in policy.rules(direction):
        for peer in rule.peers:
            if not peer.is_empty and not peer.domain_names:
                out.append(peer)
        out += [port.name for port in rule.ports if port.name is not None]
    return out


def policy_rules(
    policy: ClusterNetworkPolicy,
    direction: Direction,
    resolved: dict[str, Resolved],
    logging: Logging | None = None,
) -> tuple[RuleBody, ...]:
    """The policy's rules for `direction`, each set seen as `resolved` (by set name) says."""
    subject = _set_match(resolved[set_name(policy.subject)], set_name(policy.subject),
                         _SUBJECT_FIELD[direction])  # fmt: skip
    if subject is None:
        return ()  # it selects no pod of this node
    bodies: list[RuleBody] = []
    for index, rule in enumerate(policy.rules(direction)):
        for peer_index, peer in enumerate(rule.peers):
            peer_match = _peer_match(peer, rule.action, direction, resolved)
            if peer_match is None:
                continue
            ports: list[ClusterPort | None] = list(rule.ports) or [None]
            for port_index, port in enumerate(ports):
                where = (
                    f"{_ranked(policy)} "
                    f"{direction}[{index}] '{rule.name}' {policy.action_name(rule.action)} "
                    f"{_PEERS_WORD[direction]}[{peer_index}]"
                )
                if port is not None:
                    where += f" ports[{port_index}]"
                matches = (*subject, *peer_match, *_port_match(port))
                tag = LogTag(
                    kind=TagKind.ALLOW if rule.action is Action.ACCEPT else TagKind.DENY,
                    direction=direction,
                    policies=(policy.key,),
                    rule=index,
                    peer=peer_index,
                    port=None if port is None else port_index,
                    rule_name=rule.name,
                    action=policy.action_name(rule.action),
                )
                bodies += _verdict(matches, rule.action, tag, clip(where), logging)
    return tuple(bodies)


_VERDICTS: dict[Action, tuple[Statement, ...]] = {
    Action.ACCEPT: (Accept(),),
    Action.DENY: (Counter(), Drop()),
    Action.PASS: (Return(),),
}


def _verdict(
    matches: tuple[Statement, ...],
    action: Action,
    tag: LogTag,
    comment: str,
    logging: Logging | None,
) -> list[RuleBody]:
    # Pass decides nothing: it is never reported, its connection is by what decides next.
    if logging is None or action is Action.PASS:
        return [((*matches, *_VERDICTS[action]), comment)]
    pair = logging.allow(matches, tag) if action is Action.ACCEPT else logging.refuse(matches, tag)
    return [(statements, comment) for statements in pair]


def _set_match(found: Resolved, key: str, field: Field) -> tuple[Statement, ...] | None:
    """Membership in a set: None when it is written in and empty (nothing can match)."""
    if isinstance(found, str):
        return (Match(field, f"@{key}"),)
    if not found:
        return None
    if len(found) == 1:
        return (Match(field, found[0][0]),)
    return (Match(field, tuple(k[0] for k in found)),)


def _peer_match(
    peer: ClusterPeer, action: Action, direction: Direction, resolved: dict[str, Resolved]
) -> tuple[Statement, ...] | None:
    if peer.is_empty:
        # "For "Accept" rules, "fail closed" means: "treat the rule as matching no traffic".
        # For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all'
        # rule"."
        return None if action is Action.ACCEPT else ()
    if peer.domain_names:
        return None  # refused by validation; never matched, never pretended
    key = set_name(peer)
    return _set_match(resolved[key], key, _PEER_FIELD[direction])


def _port_match(port: ClusterPort | None) -> tuple[Statement, ...]:
    if port is None:
        return ()
    if port.name is not None:
        # "selects a destination port on a pod based on the ContainerPort name": the
        # destination address, protocol and port, as the pods declare them.
        return (Lookup(_NAMED_FIELDS, set_name(port.name)),)
    assert port.protocol is not None
    proto = Match(Field.L4PROTO, port.protocol.value.lower())
    if port.start is None:
        return (proto,)
    end = port.end if port.end is not None else port.start
    text = str(port.start) if end == port.start else f"{port.start}-{end}"
    return (proto, Match(Field.TH_DPORT, text))


def _kind(policy: ClusterNetworkPolicy) -> str:
    """`Admin` (a ClusterNetworkPolicy's tier), or `AdminNetworkPolicy` (a v1alpha1 kind)."""
    return policy.tier.value if policy.kind == KIND else policy.kind


def _ranked(policy: ClusterNetworkPolicy) -> str:
    """`Admin prio 5 guard`; the BaselineAdminNetworkPolicy has no priority."""
    ranking = f" prio {policy.priority}" if policy.ranking else ""
    return f"{_kind(policy)}{ranking} {policy.name}"


def policy_fragment(
    policy: ClusterNetworkPolicy, direction: Direction, bodies: tuple[RuleBody, ...]
) -> Ruleset:
    """The policy's chain for `direction`: its rules, in order."""
    rs = Ruleset()
    chain = policy_chain(policy, direction)
    # Not the priority: a chain's comment is set when it is added, and a new priority moves
    # the same chain (its rules' comments say the priority).
    what = f"{_kind(policy)} {policy.name} {direction}"
    rs.chain(Chain(name=chain, comment=clip(what)))
    rs.rules[chain].extend(NftRule.placed(chain, s, c) for s, c in bodies)
    return rs


def tier_fragment(
    tier: Tier,
    direction: Direction,
    ordered: list[ClusterNetworkPolicy],
    pass_bodies: dict[str, tuple[RuleBody, ...]],
) -> Ruleset:
    """The tier chain of `direction`: a jump to each policy's chain of `ordered` (in evaluation
    order), each followed by the policy's Pass rules (`pass_bodies`)."""
    rs = Ruleset()
    chain = tier_chain(tier, direction)
    rs.chain(Chain(name=chain, comment=f"{TIER_COMMENTS[tier]} ({direction})"))
    rules = rs.rules[chain]
    for policy in ordered:
        target = policy_chain(policy, direction)
        what = _ranked(policy)
        rules.append(NftRule.placed(chain, (Jump(target),), clip(what)))
        rules.extend(NftRule.placed(chain, s, c) for s, c in pass_bodies.get(policy.key, ()))
    return rs
