"""NetworkPolicies as chains: one chain per policy and direction, one per isolation class.

Pods selected by the same policies share one class chain, reached from a verdict map keyed by
pod address; it jumps to each selecting policy's chain and ends in the default deny. A policy
chain holds one rule per (rule, port) with its peers in a named interval set and named ports in
a `daddr . proto . port` set resolved per destination pod. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from podwall.engine.selection import selects
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction, NetworkPolicy, Peer, Rule
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
_SUBJECT_FIELD = {Direction.INGRESS: Field.IP_DADDR, Direction.EGRESS: Field.IP_SADDR}


def vmap_name(direction: Direction) -> str:
    return f"{_SHORT[direction]}-pods"


def policy_chain(policy: NetworkPolicy, direction: Direction) -> str:
    return name(f"pol-{_SHORT[direction]}", policy.namespace, policy.name)


def add_direction(rs: Ruleset, cluster: Cluster, local: list[Pod], direction: Direction) -> None:
    """Chains, sets and the verdict-map entries enforcing `direction` for the `local` pods."""
    rs.set(Map(name=vmap_name(direction), key=(V4,), comment=f"pods isolated for {direction}"))
    classes: dict[tuple[str, ...], list[Pod]] = {}
    for pod in local:
        if pod.host_network:
            continue  # host-network pods are not subject to NetworkPolicy
        keys = tuple(p.key for p in _selecting(cluster, pod, direction))
        if keys:
            classes.setdefault(keys, []).append(pod)
    used = {key for keys in classes for key in keys}
    for policy in cluster.policies:
        if policy.key in used:
            _policy_chain(rs, cluster, policy, direction)
    for keys, pods in classes.items():
        _class_chain(rs, direction, keys, pods, cluster)


def _selecting(cluster: Cluster, pod: Pod, direction: Direction) -> list[NetworkPolicy]:
    return sorted(
        (
            p
            for p in cluster.policies_by_namespace.get(pod.namespace, ())
            if p.affects(direction) and selects(p, pod)
        ),
        key=lambda p: p.key,
    )


def _class_chain(
    rs: Ruleset,
    direction: Direction,
    keys: tuple[str, ...],
    pods: list[Pod],
    cluster: Cluster,
) -> None:
    chain = name(f"cls-{_SHORT[direction]}", *keys)
    rs.chain(Chain(name=chain))
    by_key = {p.key: p for p in cluster.policies}
    for key in keys:
        target = policy_chain(by_key[key], direction)
        rs.rule(NftRule(chain=chain, statements=(Jump(target),), comment=f"policy {key}"))
    deny = f"default deny {direction}: isolated by {', '.join(keys)}"
    rs.rule(NftRule(chain=chain, statements=(Counter(), Drop()), comment=_clip(deny)))
    for pod in pods:
        for ip in pod.ips:
            if addresses.host(ip) is not None:
                rs.element(Element(map=vmap_name(direction), key=(str(ip),), value=Jump(chain)))


def _policy_chain(
    rs: Ruleset, cluster: Cluster, policy: NetworkPolicy, direction: Direction
) -> None:
    chain = policy_chain(policy, direction)
    rs.chain(Chain(name=chain, comment=_clip(f"policy {policy.key} {direction}")))
    for index, rule in enumerate(policy.rules(direction)):
        peer_match = _peers(rs, cluster, policy, direction, index, rule)
        for port_index, port_match in _ports(rs, cluster, policy, direction, index, rule):
            where = f"policy {policy.key} {direction}[{index}]"
            if port_index is not None:
                where += f" ports[{port_index}]"
            statements = (*peer_match, *port_match, Accept())
            rs.rule(NftRule(chain=chain, statements=statements, comment=_clip(where)))


def _peers(
    rs: Ruleset,
    cluster: Cluster,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    rule: Rule,
) -> tuple[Statement, ...]:
    # An empty peer list matches every peer: no address test at all.
    if not rule.peers:
        return ()
    set_name = name(f"peers-{_SHORT[direction]}", policy.namespace, policy.name, str(index))
    rs.set(Set(name=set_name, key=(V4,), flags=INTERVAL))
    networks = []
    for peer in rule.peers:
        networks += list(_peer_networks(cluster, policy, peer))
    for text in addresses.collapse(networks):
        rs.element(Element(set=set_name, key=(text,)))
    return (Match(_PEER_FIELD[direction], f"@{set_name}"),)


def _peer_networks(
    cluster: Cluster, policy: NetworkPolicy, peer: Peer
) -> Iterator[addresses.V4Net]:
    if peer.ip_block is not None:
        yield from addresses.block_networks(peer.ip_block)
        return
    for pod in peer_pods(cluster, policy, peer):
        for ip in pod.ips:
            net = addresses.host(ip)
            if net is not None:
                yield net


def peer_pods(cluster: Cluster, policy: NetworkPolicy, peer: Peer) -> Iterator[Pod]:
    """The pods a selector peer matches (never host-network pods, as in the engine)."""
    for pod in cluster.pods:
        if pod.host_network:
            continue
        if peer.namespace_selector is None:
            if pod.namespace != policy.namespace:
                continue
        elif not peer.namespace_selector.matches(cluster.namespace(pod.namespace).labels):
            continue
        if peer.pod_selector is None or peer.pod_selector.matches(pod.labels):
            yield pod


def _ports(
    rs: Ruleset,
    cluster: Cluster,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    rule: Rule,
) -> Iterator[tuple[int | None, tuple[Statement, ...]]]:
    if not rule.ports:
        yield None, ()
        return
    for port_index, port in enumerate(rule.ports):
        if isinstance(port.port, str):
            yield port_index, _named_port(rs, cluster, policy, direction, (index, port_index), port)
        else:
            yield port_index, _numeric_port(port)


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
    cluster: Cluster,
    policy: NetworkPolicy,
    direction: Direction,
    where: tuple[int, int],
    port: PolicyPort,
) -> tuple[Statement, ...]:
    # A named port means the destination pod's own container port of that name and protocol,
    # so the set pairs each possible destination address with its number.
    assert isinstance(port.port, str)
    set_name = name(f"named-{_SHORT[direction]}", policy.namespace, policy.name, *map(str, where))
    rs.set(Set(name=set_name, key=(V4, PROTO, PORT)))
    proto = port.protocol.value.lower()
    for pod in _destinations(cluster, policy, direction, where[0]):
        number = pod.named_port(port.port, port.protocol)
        if number is None:
            continue
        for ip in pod.ips:
            if addresses.host(ip) is not None:
                rs.element(Element(set=set_name, key=(str(ip), proto, str(number))))
    fields = (Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT)
    return (Lookup(fields, set_name),)


def _destinations(
    cluster: Cluster, policy: NetworkPolicy, direction: Direction, index: int
) -> Iterator[Pod]:
    if direction is Direction.INGRESS:
        yield from (p for p in cluster.pods if selects(policy, p))
        return
    rule = policy.egress[index]
    if not rule.peers:
        yield from cluster.pods
        return
    seen: set[str] = set()
    for peer in rule.peers:
        pods: Iterable[Pod]
        if peer.ip_block is not None:
            pods = (p for p in cluster.pods if any(peer.ip_block.contains(ip) for ip in p.ips))
        else:
            pods = peer_pods(cluster, policy, peer)
        for pod in pods:
            if pod.key not in seen:
                seen.add(pod.key)
                yield pod


def _clip(comment: str) -> str:
    """nft comments hold at most 128 bytes and no double quote."""
    text = comment.replace('"', "'")
    return (
        text if len(text.encode()) <= 128 else text.encode()[:125].decode(errors="ignore") + "..."
    )
