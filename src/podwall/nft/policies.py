"""NetworkPolicies as fragments of chains and sets.

Pods selected by the same policies share one class chain, reached from a verdict map keyed by
pod address; it jumps to each selecting policy's chain and ends in the default deny. A policy
chain holds one rule per (peer, port); a peer is a set shared by every policy naming the same
peer, a named port a `daddr . proto . port` set resolved per destination pod.
Pure: no I/O here.
"""

from __future__ import annotations

from podwall.engine.rulesets import bit_indices
from podwall.model.policy import Direction, NetworkPolicy, Peer
from podwall.model.ports import PolicyPort
from podwall.nft import addresses
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element, Set, SetFlag
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.selection import Selection
from podwall.nft.statements import Accept, Counter, Drop, Field, Jump, Lookup, Match, Statement
from podwall.nft.values import NftType

V4, PROTO, PORT = NftType.IPV4_ADDR, NftType.INET_PROTO, NftType.INET_SERVICE
INTERVAL = frozenset({SetFlag.INTERVAL})
SHORT = {Direction.INGRESS: "in", Direction.EGRESS: "out"}
# The other end of the connection, as the rule's peers see it.
_PEER_FIELD = {Direction.INGRESS: Field.IP_SADDR, Direction.EGRESS: Field.IP_DADDR}
_PEERS_WORD = {Direction.INGRESS: "from", Direction.EGRESS: "to"}

# What a peer set or named-port set holds, independent of the policy that names it.
SetKey = tuple[str, ...]


def vmap_name(direction: Direction) -> str:
    return f"{SHORT[direction]}-pods"


def policy_chain(policy: NetworkPolicy, direction: Direction) -> str:
    return name(f"pol-{SHORT[direction]}", policy.namespace, policy.name)


def peer_key(policy: NetworkPolicy, peer: Peer) -> SetKey:
    """What a peer means, independent of the policy holding it: policies share its set."""
    if peer.ip_block is not None:
        return ("ip", str(peer.ip_block.cidr), *(str(e) for e in peer.ip_block.except_))
    pods = "*" if peer.pod_selector is None else peer.pod_selector.render()
    if peer.namespace_selector is None:
        return ("pod", policy.namespace, pods)
    return ("ns", peer.namespace_selector.render(), pods)


def named_key(
    policy: NetworkPolicy, direction: Direction, peer: Peer | None, port: PolicyPort
) -> SetKey:
    """A named port resolves on the destinations: the selected pods (ingress), or the rule's
    peer (egress; every pod when the rule has none)."""
    assert isinstance(port.port, str)
    head = (str(port.port), port.protocol.value.lower())
    if direction is Direction.INGRESS:
        return (*head, "sel", policy.namespace, policy.pod_selector.render())
    if peer is None:
        return (*head, "all")
    return (*head, *peer_key(policy, peer))


class SetRequest:
    """A set a policy chain refers to, with how to find its members."""

    __slots__ = ("key", "peer", "policy", "port", "selected", "set_name")

    def __init__(
        self,
        key: SetKey,
        policy: NetworkPolicy,
        peer: Peer | None,
        port: PolicyPort | None,
        selected: bool,
    ) -> None:
        self.key, self.policy, self.peer, self.port, self.selected = (
            key,
            policy,
            peer,
            port,
            selected,
        )
        self.set_name = name("named" if port is not None else "peer", *key)


def policy_fragment(
    policy: NetworkPolicy, direction: Direction
) -> tuple[Ruleset, list[SetRequest]]:
    """The policy's chain for `direction`, and the sets its rules look up."""
    rs = Ruleset()
    requests: list[SetRequest] = []
    chain = policy_chain(policy, direction)
    rs.chain(Chain(name=chain, comment=clip(f"policy {policy.key} {direction}")))
    for index, rule in enumerate(policy.rules(direction)):
        # One nft rule per (peer, port): a rule's peers are alternatives, and so are its ports.
        peers: list[Peer | None] = list(rule.peers) or [None]
        ports: list[PolicyPort | None] = list(rule.ports) or [None]
        for peer_index, peer in enumerate(peers):
            peer_match: tuple[Statement, ...] = ()
            if peer is not None:
                request = SetRequest(peer_key(policy, peer), policy, peer, None, False)
                requests.append(request)
                peer_match = (Match(_PEER_FIELD[direction], f"@{request.set_name}"),)
            for port_index, port in enumerate(ports):
                port_match = _port(policy, direction, peer, port, requests)
                where = f"policy {policy.key} {direction}[{index}]"
                if peer is not None:
                    where += f" {_PEERS_WORD[direction]}[{peer_index}]"
                if port is not None:
                    where += f" ports[{port_index}]"
                statements = (*peer_match, *port_match, Accept())
                rs.rule(NftRule(chain=chain, statements=statements, comment=clip(where)))
    return rs, requests


def _port(
    policy: NetworkPolicy,
    direction: Direction,
    peer: Peer | None,
    port: PolicyPort | None,
    requests: list[SetRequest],
) -> tuple[Statement, ...]:
    if port is None:
        return ()
    if isinstance(port.port, str):
        # A named port means the destination pod's own container port of that name and
        # protocol, so the set pairs each possible destination address with its number.
        key = named_key(policy, direction, peer, port)
        request = SetRequest(key, policy, peer, port, direction is Direction.INGRESS)
        requests.append(request)
        return (Lookup((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), request.set_name),)
    proto = Match(Field.L4PROTO, port.protocol.value.lower())
    if port.port is None:
        return (proto,)
    end = port.end_port if port.end_port is not None else port.port
    text = str(port.port) if end == port.port else f"{port.port}-{end}"
    return (proto, Match(Field.TH_DPORT, text))


def members(selection: Selection, request: SetRequest) -> int:
    """The identities whose addresses the requested set holds."""
    if request.port is not None and request.selected:
        return selection.selected(request.policy.namespace, request.policy.pod_selector)
    if request.peer is None:
        return selection.all_bits
    return selection.peer(request.policy, request.peer)


def set_fragment(selection: Selection, request: SetRequest, bits: int) -> Ruleset:
    rs = Ruleset()
    what = clip(" ".join(request.key))
    if request.port is not None:
        _named_set(rs, selection, request, bits, what)
    elif request.peer is not None and request.peer.ip_block is not None:
        rs.set(Set(name=request.set_name, key=(V4,), flags=INTERVAL, comment=what))
        for text in addresses.collapse(addresses.block_ranges(request.peer.ip_block)):
            rs.element(Element(set=request.set_name, key=(text,)))
    else:
        rs.set(Set(name=request.set_name, key=(V4,), comment=what))
        for index in bit_indices(bits):
            for net in selection.items[index].nets():
                rs.element(Element(set=request.set_name, key=(str(net.network_address),)))
    return rs


def _named_set(
    rs: Ruleset, selection: Selection, request: SetRequest, bits: int, what: str
) -> None:
    assert request.port is not None
    assert isinstance(request.port.port, str)
    rs.set(Set(name=request.set_name, key=(V4, PROTO, PORT), comment=f"port {what}"))
    proto = request.port.protocol.value.lower()
    for index in bit_indices(bits):
        ident = selection.items[index]
        number = ident.named_port(request.port.port, request.port.protocol)
        for net in ident.nets() if number is not None else ():
            key = (str(net.network_address), proto, str(number))
            rs.element(Element(set=request.set_name, key=key))


def classes_fragment(
    selection: Selection, direction: Direction, namespace: str, policies: list[NetworkPolicy]
) -> Ruleset:
    """The class chains of one namespace and the verdict-map entries of its local pods."""
    rs = Ruleset()
    classes: dict[tuple[NetworkPolicy, ...], list[int]] = {}
    selected = {p.key: selection.selected(p.namespace, p.pod_selector) for p in policies}
    for index in selection.by_namespace.get(namespace, ()):
        ident = selection.items[index]
        if ident.host_network or not ident.local:
            continue  # host-network pods are not subject to NetworkPolicy
        found = tuple(p for p in policies if selected[p.key] >> index & 1)
        if found:
            classes.setdefault(found, []).append(index)
    for found, indices in classes.items():
        _class_chain(rs, selection, direction, found, indices)
    return rs


def _class_chain(
    rs: Ruleset,
    selection: Selection,
    direction: Direction,
    policies: tuple[NetworkPolicy, ...],
    indices: list[int],
) -> None:
    keys = [p.key for p in policies]
    chain = name(f"cls-{SHORT[direction]}", *keys)
    rs.chain(Chain(name=chain))
    for policy in policies:
        target = policy_chain(policy, direction)
        rs.rule(NftRule(chain=chain, statements=(Jump(target),), comment=f"policy {policy.key}"))
    deny = f"default deny {direction}: isolated by {', '.join(keys)}"
    rs.rule(NftRule(chain=chain, statements=(Counter(), Drop()), comment=clip(deny)))
    for index in indices:
        ident = selection.items[index]
        for key in sorted(ident.local):
            for net in ident.pods[key]:
                value = Jump(chain)
                rs.element(
                    Element(map=vmap_name(direction), key=(str(net.network_address),), value=value)
                )


def clip(comment: str) -> str:
    """nft comments hold at most 128 bytes and no double quote."""
    text = comment.replace('"', "'")
    if len(text.encode()) <= 128:
        return text
    return text.encode()[:125].decode(errors="ignore") + "..."
