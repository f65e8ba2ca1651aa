"""NetworkPolicies as chains: one chain per policy and direction, one per isolation class.

Pods selected by the same policies share one class chain, reached from a verdict map keyed by
pod address; it jumps to each selecting policy's chain and ends in the default deny. A policy
chain holds one rule per (rule, port) with its peers in a named interval set and named ports in
a `daddr . proto . port` set resolved per destination pod. Selection is computed once per
identity with the engine's selector cache, so compile time follows identities, not pods.
Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from podwall.engine.identities import Identities, group
from podwall.engine.rulesets import SelectorCache, bit_indices
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction, NetworkPolicy, Peer
from podwall.model.ports import PolicyPort
from podwall.nft import addresses
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element, Map, Set, SetFlag
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import Accept, Counter, Drop, Field, Jump, Lookup, Match, Statement
from podwall.nft.values import NftType

V4, PROTO, PORT = NftType.IPV4_ADDR, NftType.INET_PROTO, NftType.INET_SERVICE
INTERVAL = frozenset({SetFlag.INTERVAL})
_SHORT = {Direction.INGRESS: "in", Direction.EGRESS: "out"}
# The other end of the connection, as the rule's peers see it.
_PEER_FIELD = {Direction.INGRESS: Field.IP_SADDR, Direction.EGRESS: Field.IP_DADDR}


def vmap_name(direction: Direction) -> str:
    return f"{_SHORT[direction]}-pods"


def policy_chain(policy: NetworkPolicy, direction: Direction) -> str:
    return name(f"pol-{_SHORT[direction]}", policy.namespace, policy.name)


@dataclass(frozen=True, slots=True)
class Context:
    """What every chain of one compile shares: identities, selector cache, their addresses."""

    cluster: Cluster
    ids: Identities
    selectors: SelectorCache
    nets: tuple[tuple[addresses.V4Net, ...], ...]  # per identity, its pods' IPv4 /32s
    local: frozenset[int]  # identities with a pod on this node

    @staticmethod
    def of(cluster: Cluster, local: list[Pod]) -> Context:
        ids = group(cluster)
        local_keys = {p.key for p in local}
        nets = tuple(
            tuple(n for i in ident.pods for ip in ids.pods[i].ips if (n := addresses.host(ip)))
            for ident in ids.items
        )
        local_ids = frozenset(
            ident.index
            for ident in ids.items
            if any(ids.pods[i].key in local_keys for i in ident.pods)
        )
        return Context(cluster, ids, SelectorCache(cluster, ids), nets, local_ids)

    def pods_of(self, bits: int) -> Iterator[Pod]:
        for index in bit_indices(bits):
            for i in self.ids.items[index].pods:
                yield self.ids.pods[i]


def add_direction(rs: Ruleset, ctx: Context, direction: Direction) -> None:
    """Chains, sets and the verdict-map entries enforcing `direction` for the local pods."""
    rs.set(Map(name=vmap_name(direction), key=(V4,), comment=f"pods isolated for {direction}"))
    affecting = [p for p in ctx.cluster.policies if p.affects(direction)]
    selected = {p.key: ctx.selectors.pods(p.namespace, p.pod_selector) for p in affecting}
    by_namespace: dict[str, list[NetworkPolicy]] = {}
    for policy in affecting:
        by_namespace.setdefault(policy.namespace, []).append(policy)
    classes: dict[tuple[NetworkPolicy, ...], list[int]] = {}
    for ident in ctx.ids.items:
        if ident.index not in ctx.local or ident.host_network:
            continue  # host-network pods are not subject to NetworkPolicy
        bit = 1 << ident.index
        # A policy only ever selects pods of its own namespace.
        found = [p for p in by_namespace.get(ident.namespace, ()) if selected[p.key] & bit]
        if found:
            classes.setdefault(tuple(sorted(found, key=lambda p: p.key)), []).append(ident.index)
    used = {policy.key for policies in classes for policy in policies}
    for policy in affecting:
        if policy.key in used:
            _policy_chain(rs, ctx, policy, direction, selected[policy.key])
    for policies, members in classes.items():
        _class_chain(rs, ctx, direction, policies, members)


def _class_chain(
    rs: Ruleset,
    ctx: Context,
    direction: Direction,
    policies: tuple[NetworkPolicy, ...],
    members: list[int],
) -> None:
    keys = [p.key for p in policies]
    chain = name(f"cls-{_SHORT[direction]}", *keys)
    rs.chain(Chain(name=chain))
    for policy in policies:
        target = policy_chain(policy, direction)
        rs.rule(NftRule(chain=chain, statements=(Jump(target),), comment=f"policy {policy.key}"))
    deny = f"default deny {direction}: isolated by {', '.join(keys)}"
    rs.rule(NftRule(chain=chain, statements=(Counter(), Drop()), comment=_clip(deny)))
    for index in members:
        for net in ctx.nets[index]:
            element = Element(
                map=vmap_name(direction), key=(str(net.network_address),), value=Jump(chain)
            )
            rs.element(element)


def _policy_chain(
    rs: Ruleset, ctx: Context, policy: NetworkPolicy, direction: Direction, selected: int
) -> None:
    chain = policy_chain(policy, direction)
    rs.chain(Chain(name=chain, comment=_clip(f"policy {policy.key} {direction}")))
    for index, rule in enumerate(policy.rules(direction)):
        # One nft rule per (peer, port): a rule's peers are alternatives, and so are its ports.
        peers: list[Peer | None] = list(rule.peers) or [None]
        ports: list[PolicyPort | None] = list(rule.ports) or [None]
        for peer_index, peer in enumerate(peers):
            peer_match = () if peer is None else _peer(rs, ctx, policy, direction, peer)
            for port_index, port in enumerate(ports):
                port_match = _port(rs, ctx, policy, direction, selected, peer, port)
                if port_match is None:
                    continue
                where = f"policy {policy.key} {direction}[{index}]"
                if peer is not None:
                    where += f" {_PEERS_WORD[direction]}[{peer_index}]"
                if port is not None:
                    where += f" ports[{port_index}]"
                statements = (*peer_match, *port_match, Accept())
                rs.rule(NftRule(chain=chain, statements=statements, comment=_clip(where)))


_PEERS_WORD = {Direction.INGRESS: "from", Direction.EGRESS: "to"}


def _peer_key(policy: NetworkPolicy, peer: Peer) -> tuple[str, ...]:
    """What a peer means, independent of the policy holding it: policies share its set."""
    if peer.ip_block is not None:
        return ("ip", str(peer.ip_block.cidr), *(str(e) for e in peer.ip_block.except_))
    pods = "*" if peer.pod_selector is None else peer.pod_selector.render()
    if peer.namespace_selector is None:
        return ("pod", policy.namespace, pods)
    return ("ns", peer.namespace_selector.render(), pods)


def _peer(
    rs: Ruleset, ctx: Context, policy: NetworkPolicy, direction: Direction, peer: Peer
) -> tuple[Statement, ...]:
    key = _peer_key(policy, peer)
    set_name = name("peer", *key)
    if set_name not in rs.sets:
        _peer_set(rs, ctx, policy, peer, set_name, " ".join(key))
    return (Match(_PEER_FIELD[direction], f"@{set_name}"),)


def _peer_set(
    rs: Ruleset, ctx: Context, policy: NetworkPolicy, peer: Peer, set_name: str, what: str
) -> None:
    if peer.ip_block is not None:
        rs.set(Set(name=set_name, key=(V4,), flags=INTERVAL, comment=_clip(what)))
        for text in addresses.collapse(addresses.block_ranges(peer.ip_block)):
            rs.element(Element(set=set_name, key=(text,)))
        return
    rs.set(Set(name=set_name, key=(V4,), comment=_clip(what)))
    for i in bit_indices(ctx.selectors.peer(policy, peer)):
        for net in ctx.nets[i]:
            rs.element(Element(set=set_name, key=(str(net.network_address),)))


def _port(
    rs: Ruleset,
    ctx: Context,
    policy: NetworkPolicy,
    direction: Direction,
    selected: int,
    peer: Peer | None,
    port: PolicyPort | None,
) -> tuple[Statement, ...] | None:
    if port is None:
        return ()
    if not isinstance(port.port, str):
        return _numeric_port(port)
    return _named_port(rs, ctx, policy, direction, selected, peer, port)


def _numeric_port(port: PolicyPort) -> tuple[Statement, ...]:
    proto = Match(Field.L4PROTO, port.protocol.value.lower())
    if port.port is None:
        return (proto,)
    assert isinstance(port.port, int)
    end = port.end_port if port.end_port is not None else port.port
    text = str(port.port) if end == port.port else f"{port.port}-{end}"
    return (proto, Match(Field.TH_DPORT, text))


def _named_port(
    rs: Ruleset,
    ctx: Context,
    policy: NetworkPolicy,
    direction: Direction,
    selected: int,
    peer: Peer | None,
    port: PolicyPort,
) -> tuple[Statement, ...]:
    # A named port means the destination pod's own container port of that name and protocol,
    # so the set pairs each possible destination address with its number. The destinations
    # are the selected pods (ingress) or the rule's peer (egress; every pod when none).
    assert isinstance(port.port, str)
    proto = port.protocol.value.lower()
    if direction is Direction.INGRESS:
        where: tuple[str, ...] = ("sel", policy.namespace, policy.pod_selector.render())
        destinations = selected
    elif peer is None:
        where, destinations = ("all",), (1 << len(ctx.ids.items)) - 1
    else:
        where, destinations = _peer_key(policy, peer), ctx.selectors.peer(policy, peer)
    set_name = name("named", port.port, proto, *where)
    if set_name not in rs.sets:
        what = f"port {port.port}/{proto} of {' '.join(where)}"
        rs.set(Set(name=set_name, key=(V4, PROTO, PORT), comment=_clip(what)))
        for index in bit_indices(destinations):
            number = ctx.ids.items[index].named_port(port.port, port.protocol)
            for net in ctx.nets[index] if number is not None else ():
                key = (str(net.network_address), proto, str(number))
                rs.element(Element(set=set_name, key=key))
    return (Lookup((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), set_name),)


def _clip(comment: str) -> str:
    """nft comments hold at most 128 bytes and no double quote."""
    text = comment.replace('"', "'")
    if len(text.encode()) <= 128:
        return text
    return text.encode()[:125].decode(errors="ignore") + "..."
