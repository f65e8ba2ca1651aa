"""NetworkPolicies as class chains, and the sets their rules ask for.

Pods selected by the same policies share one class chain, reached from a verdict map keyed by
pod address; it holds the rules of each selecting policy and ends in the default deny. A
policy has one rule per (peer, port); a peer is a set shared by every policy naming the same
peer, a named port a `daddr . proto . port` set resolved per destination pod. Which elements a
set holds, and whether it is written into the rules or loaded by name, is `setbook`'s.
Pure: no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from podwall.engine.selectorcache import SelectorCache
from podwall.model.policy import Direction, NetworkPolicy, Peer
from podwall.model.ports import PolicyPort
from podwall.nft.flowlog import Logging
from podwall.nft.logtags import LogTag, TagKind
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import Accept, Counter, Drop, Field, Jump, Lookup, Match, Statement

SHORT = {Direction.INGRESS: "in", Direction.EGRESS: "out"}
# The other end of the connection, as the rule's peers see it.
_PEER_FIELD = {Direction.INGRESS: Field.IP_SADDR, Direction.EGRESS: Field.IP_DADDR}
_PEERS_WORD = {Direction.INGRESS: "from", Direction.EGRESS: "to"}

# What a peer set or named-port set holds, independent of the policy that names it.
SetKey = tuple[str, ...]


def vmap_name(direction: Direction) -> str:
    return f"{SHORT[direction]}-pods"


def audit_vmap_name(direction: Direction) -> str:
    """Pods only audited policies isolate, while ClusterNetworkPolicies are in force: their
    class chains run after the Baseline tier, which has the say before them."""
    return f"{SHORT[direction]}-audit-pods"


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


# How a policy rule sees a set it asked for: by name, or as the literal keys it holds.
Resolved = str | tuple[tuple[str, ...], ...]


def policy_requests(policy: NetworkPolicy, direction: Direction) -> list[SetRequest]:
    """The sets the policy's rules for `direction` look up, in rule order."""
    requests: list[SetRequest] = []
    for rule in policy.rules(direction):
        peers: list[Peer | None] = list(rule.peers) or [None]
        for peer in peers:
            if peer is not None:
                requests.append(SetRequest(peer_key(policy, peer), policy, peer, None, False))
            for port in rule.ports:
                if isinstance(port.port, str):
                    key = named_key(policy, direction, peer, port)
                    selected = direction is Direction.INGRESS
                    requests.append(SetRequest(key, policy, peer, port, selected))
    return requests


# A rule of a policy, before it is placed in a chain: its statements and its comment.
RuleBody = tuple[tuple[Statement, ...], str]


def policy_rules(
    policy: NetworkPolicy,
    direction: Direction,
    requests: list[SetRequest],
    resolved: dict[str, Resolved],
    logging: Logging | None = None,
) -> tuple[RuleBody, ...]:
    """The policy's rules for `direction`. `requests` is its `policy_requests`, and each set
    it names is looked up or inlined as `resolved` says; with `logging`, each rule reports
    what it admits (`flowlog`)."""
    bodies: list[RuleBody] = []
    asked = iter(requests)  # in the order policy_requests made them
    for index, rule in enumerate(policy.rules(direction)):
        # One nft rule per (peer, port): a rule's peers are alternatives, and so are its ports.
        peers: list[Peer | None] = list(rule.peers) or [None]
        ports: list[PolicyPort | None] = list(rule.ports) or [None]
        for peer_index, peer in enumerate(peers):
            peer_match: list[Alternative] = [()]
            if peer is not None:
                set_name = next(asked).set_name
                peer_match = _alternatives(resolved[set_name], set_name, direction)
            for port_index, port in enumerate(ports):
                where = f"policy {policy.key} {direction}[{index}]"
                if peer is not None:
                    where += f" {_PEERS_WORD[direction]}[{peer_index}]"
                if port is not None:
                    where += f" ports[{port_index}]"
                if port is not None and isinstance(port.port, str):
                    port_match = _named(next(asked).set_name, resolved)
                else:
                    port_match = _numbered(port)
                comment = clip(where)
                alternatives = _combine(peer_match, port_match)
                if logging is None:
                    bodies += [((*statements, ACCEPT), comment) for statements in alternatives]
                    continue
                tag = LogTag(
                    kind=TagKind.ALLOW,
                    direction=direction,
                    policies=(policy.key,),
                    rule=index,
                    peer=None if peer is None else peer_index,
                    port=None if port is None else port_index,
                    audited=policy.audit,
                )
                for statements in alternatives:
                    bodies += [(pair, comment) for pair in logging.allow(statements, tag)]
    return tuple(bodies)


ACCEPT = Accept()

# One way for a packet to match a peer or a port: the statements all hold.
Alternative = tuple[Statement, ...]


@functools.lru_cache(maxsize=1 << 17)
def _match(field: Field, value: str) -> Match:
    """One shared object per compare: a 10k-pod ruleset repeats the same ones."""
    return Match(field, value)


def _alternatives(resolved: Resolved, set_name: str, direction: Direction) -> list[Alternative]:
    field = _PEER_FIELD[direction]
    if isinstance(resolved, str):
        return [(_match(field, f"@{set_name}"),)]
    return [(_match(field, key[0]),) for key in resolved]


def _combine(peers: list[Alternative], ports: list[Alternative]) -> list[Alternative]:
    """Every (peer, port) pair of alternatives, but for those that cannot both hold: a peer
    address and a named port's destination address that differ (egress)."""
    if not any(isinstance(s, Match) and s.field is Field.IP_DADDR for p in ports for s in p):
        return [peer + port for peer in peers for port in ports]  # nothing can clash
    out: list[Alternative] = []
    for peer in peers:
        for port in ports:
            both = _merged(peer, port)
            if both is not None:
                out.append(both)
    return out


def _merged(first: Alternative, second: Alternative) -> Alternative | None:
    exact: dict[Field, str] = {}
    for stmt in first:
        if isinstance(stmt, Match) and isinstance(stmt.value, str) and _single(stmt.value):
            exact[stmt.field] = stmt.value
    kept: list[Statement] = list(first)
    for stmt in second:
        if (
            isinstance(stmt, Match)
            and stmt.field in exact
            and isinstance(stmt.value, str)
            and _single(stmt.value)
        ):
            if exact[stmt.field] != stmt.value:
                return None
            continue  # the same compare twice
        kept.append(stmt)
    return tuple(kept)


def _single(text: str) -> bool:
    """A literal address (not a set, prefix or range)."""
    return not text.startswith("@") and "/" not in text and "-" not in text


def _named(set_name: str, resolved: dict[str, Resolved]) -> list[Alternative]:
    # A named port means the destination pod's own container port of that name and
    # protocol, so the set pairs each possible destination address with its number.
    found = resolved[set_name]
    if isinstance(found, str):
        return [(Lookup((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), set_name),)]
    return [
        (_match(Field.IP_DADDR, a), _match(Field.L4PROTO, p), _match(Field.TH_DPORT, n))
        for a, p, n in found
    ]


def _numbered(port: PolicyPort | None) -> list[Alternative]:
    if port is None:
        return [()]
    return [_port_match(port.protocol.value.lower(), port.port, port.end_port)]


@functools.lru_cache(maxsize=1 << 12)
def _port_match(proto: str, number: int | str | None, end: int | None) -> Alternative:
    if number is None:
        return (_match(Field.L4PROTO, proto),)
    last = end if end is not None else number
    text = str(number) if last == number else f"{number}-{last}"
    return (_match(Field.L4PROTO, proto), _match(Field.TH_DPORT, text))


def classes_fragment(
    selectors: SelectorCache,
    direction: Direction,
    namespace: str,
    policies: list[NetworkPolicy],
    bodies: Mapping[str, tuple[RuleBody, ...]],
    logging: Logging | None = None,
    tiers: bool = False,
) -> Ruleset:
    """The class chains of one namespace and the verdict-map entries of its local pods;
    `bodies` holds each policy's rules. With `tiers` (ClusterNetworkPolicies in force), a
    class of only audited policies is entered from the audit map, after the Baseline tier."""
    rs = Ruleset()
    classes: dict[tuple[NetworkPolicy, ...], list[int]] = {}
    selected = {p.key: selectors.selected(p.namespace, p.pod_selector) for p in policies}
    items = selectors.identities.items
    for index in selectors.identities.by_namespace.get(namespace, ()):
        ident = items[index]
        if ident.host_network or not ident.local:
            continue  # host-network pods are not subject to NetworkPolicy
        found = tuple(p for p in policies if selected[p.key] >> index & 1)
        if found:
            classes.setdefault(found, []).append(index)
    for found, indices in classes.items():
        _class_chain(rs, selectors, direction, found, indices, bodies, logging, tiers)
    return rs


def _class_chain(
    rs: Ruleset,
    selectors: SelectorCache,
    direction: Direction,
    policies: tuple[NetworkPolicy, ...],
    indices: list[int],
    bodies: Mapping[str, tuple[RuleBody, ...]],
    logging: Logging | None,
    tiers: bool,
) -> None:
    keys = [p.key for p in policies]
    chain = name(f"cls-{SHORT[direction]}", *keys)
    rs.chain(Chain(name=chain))
    # Policies in audit mode decide nothing while an enforced one isolates the pod; alone,
    # their rules report what they admit and the end lets the rest through, as AUDIT.
    deciding = [p for p in policies if not p.audit] or list(policies)
    # The policies' rules are written into the chain, not jumped to: every chain makes each
    # later `nft` command slower (it reads every chain back first), and a policy's rules in
    # a few chains cost less than one more chain per policy.
    rules = rs.rules[chain]
    for policy in deciding:
        # Each body was built from checked statements and ends in its verdict.
        rules.extend(
            NftRule.placed(chain, statements, comment) for statements, comment in bodies[policy.key]
        )
    for statements, comment in _class_end(direction, deciding, logging):
        rs.rule(NftRule(chain=chain, statements=statements, comment=comment))
    items = selectors.identities.items
    # Audited policies alone decide nothing while a Baseline tier may: "NetworkPolicies in
    # audit mode alone isolate nothing" (engine.tiers).
    vmap = audit_vmap_name(direction) if tiers and deciding[0].audit else vmap_name(direction)
    for index in indices:
        ident = items[index]
        for key in sorted(ident.local):
            for ip in ident.members[key]:
                if ip.version == 4:  # the sandbox dataplane is single-stack
                    value = Jump(chain)
                    rs.element(Element(map=vmap, key=(str(ip),), value=value))


def _class_end(
    direction: Direction, deciding: list[NetworkPolicy], logging: Logging | None
) -> list[RuleBody]:
    """The default deny of the deciding policies, or the audit of audited ones."""
    keys = tuple(p.key for p in deciding)
    audit = deciding[0].audit
    plain: tuple[Statement, ...]
    if audit:
        comment = clip(f"audit {direction}: would be denied by {', '.join(keys)}")
        kind, plain = TagKind.AUDIT, (ACCEPT,)
    else:
        comment = clip(f"default deny {direction}: isolated by {', '.join(keys)}")
        kind, plain = TagKind.DENY, (Counter(), Drop())
    if logging is None:
        return [(plain, comment)]
    tag = LogTag(kind=kind, direction=direction, policies=keys)
    pair = logging.audit(tag) if audit else logging.deny(tag)
    return [(statements, comment) for statements in pair]


def clip(comment: str) -> str:
    """nft comments hold at most 128 bytes and no double quote."""
    text = comment.replace('"', "'")
    if len(text.encode()) <= 128:
        return text
    return text.encode()[:125].decode(errors="ignore") + "..."
