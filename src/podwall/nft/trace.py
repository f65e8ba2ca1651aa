"""Trace a packet through a FakeNFT ruleset, as the kernel would evaluate it.

Like kube-proxy's nftables test tracer, but over typed rules instead of regexps: base
chains of a hook run in priority order; jump/goto/return, verdict maps, numgen, set
lookups (prefixes, ranges, concatenations) and NAT are followed. Every rule that matched
is recorded with its comment, so a failing test can print the path. Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum

from podwall.model.policy import IPAddress
from podwall.nft.checks import MAX_JUMP_DEPTH
from podwall.nft.fake import FakeNFT, SetState, TableState
from podwall.nft.objects import Chain, ChainType, Element, Hook, Rule
from podwall.nft.statements import (
    DNAT,
    KEY_TYPES,
    SNAT,
    TERMINAL,
    Accept,
    CtState,
    Drop,
    Field,
    Goto,
    Jump,
    Lookup,
    Masquerade,
    Match,
    NumgenVMap,
    Op,
    Reject,
    Return,
    SetMark,
    Statement,
    VMap,
)
from podwall.nft.values import component_interval, contains, protocol_number


class Verdict(StrEnum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """The fields rules look at. `numgen` is the bucket `numgen random` yields: tests pick."""

    saddr: str
    daddr: str
    l4proto: str = "tcp"
    sport: int | None = None
    dport: int | None = None
    iifname: str = ""
    oifname: str = ""
    ct_state: CtState = CtState.NEW
    mark: int = 0
    numgen: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "ct_state", CtState(self.ct_state))  # accept plain strings
        if ipaddress.ip_address(self.saddr).version != ipaddress.ip_address(self.daddr).version:
            raise ValueError("saddr and daddr must be of the same IP version")
        protocol_number(self.l4proto)


@dataclass(frozen=True, slots=True)
class Step:
    """A matched rule (or, with `rule` None, a chain policy or note) on the packet's path."""

    table: str
    chain: str
    rule: Rule | None
    note: str = ""

    @property
    def comment(self) -> str | None:
        return self.rule.comment if self.rule is not None else None

    def render(self) -> str:
        text = self.rule.text() if self.rule is not None else ""
        return f"{self.table}/{self.chain}: " + "  ".join(p for p in (text, self.note) if p)


@dataclass(frozen=True, slots=True)
class Trace:
    packet: Packet  # as it leaves the traced hooks, NAT applied
    verdict: Verdict
    steps: tuple[Step, ...]

    @property
    def comments(self) -> tuple[str, ...]:
        return tuple(step.comment for step in self.steps if step.comment is not None)

    def render(self) -> str:
        return "\n".join([*(step.render() for step in self.steps), f"=> {self.verdict}"])


def trace(
    ruleset: FakeNFT,
    packet: Packet,
    hook: Hook = Hook.FORWARD,
    *,
    local_addrs: Iterable[str] = (),
) -> Trace:
    """Evaluate `packet` through every base chain of `hook`, lowest priority first."""
    hook = Hook(hook)  # accept "forward" as well as Hook.FORWARD
    tracer = _Tracer(packet, frozenset(ipaddress.ip_address(a) for a in local_addrs))
    return tracer.hook(ruleset, hook)


def trace_path(ruleset: FakeNFT, packet: Packet, *, local_addrs: Iterable[str] = ()) -> Trace:
    """A routed packet: prerouting (where DNAT rewrites it), then forward."""
    first = trace(ruleset, packet, Hook.PREROUTING, local_addrs=local_addrs)
    if first.verdict is not Verdict.ACCEPT:
        return first
    second = trace(ruleset, first.packet, Hook.FORWARD, local_addrs=local_addrs)
    return Trace(second.packet, second.verdict, first.steps + second.steps)


class _Next(Enum):
    """How a rule hands control back when it reaches no final verdict."""

    RULE = "next rule"  # did not match, or matched without a verdict, or a jump returned
    CALLER = "return"  # `return`, or the end of a chain entered by goto


_Outcome = Verdict | _Next
_ADDRESSES = {
    Field.IP_SADDR: ("saddr", 4),
    Field.IP_DADDR: ("daddr", 4),
    Field.IP6_SADDR: ("saddr", 6),
    Field.IP6_DADDR: ("daddr", 6),
}
_FINAL = {Accept: Verdict.ACCEPT, Drop: Verdict.DROP, Reject: Verdict.REJECT}


class _Tracer:
    def __init__(self, packet: Packet, local: frozenset[IPAddress]) -> None:
        self.packet = packet
        self.local = local
        self.steps: list[Step] = []

    def hook(self, ruleset: FakeNFT, hook: Hook) -> Trace:
        for state, chain in _base_chains(ruleset, hook):
            if chain.type is ChainType.NAT and self.packet.ct_state is not CtState.NEW:
                # NAT chains only see a connection's first packet; conntrack does the rest.
                self.steps.append(Step(state.name, chain.name, None, "skipped: not ct state new"))
                continue
            verdict = self.chain(state, chain.name, 0)
            if verdict is None:
                verdict = Verdict(chain.policy or "accept")
                self.steps.append(Step(state.name, chain.name, None, f"policy {verdict}"))
            if verdict is not Verdict.ACCEPT:  # accept only ends this base chain
                return Trace(self.packet, verdict, tuple(self.steps))
        return Trace(self.packet, Verdict.ACCEPT, tuple(self.steps))

    def chain(self, state: TableState, name: str, depth: int) -> Verdict | None:
        """Run a chain: a final verdict, or None when it ends or returns."""
        if depth > MAX_JUMP_DEPTH:
            raise RuntimeError(f"jump stack overflow at {name}")  # FakeNFT prevents this
        for rule in state.chains[name].rules:
            outcome = self.rule(state, name, rule, depth)
            if outcome is _Next.CALLER:
                return None
            if isinstance(outcome, Verdict):
                return outcome
        return None

    def rule(self, state: TableState, chain: str, rule: Rule, depth: int) -> _Outcome:
        for stmt in rule.statements:
            if isinstance(stmt, Match | Lookup):
                if not self.matches(state, stmt):
                    return _Next.RULE
            elif isinstance(stmt, SetMark):
                self.packet = dataclasses.replace(self.packet, mark=stmt.mark)
            elif isinstance(stmt, VMap):
                return self.vmap(state, chain, rule, stmt, depth)
            elif isinstance(stmt, TERMINAL):
                self.steps.append(Step(state.name, chain, rule, _numgen_note(stmt, self.packet)))
                return self.act(state, stmt, depth)
        self.steps.append(Step(state.name, chain, rule))  # e.g. a counter- or log-only rule
        return _Next.RULE

    def vmap(self, state: TableState, chain: str, rule: Rule, stmt: VMap, depth: int) -> _Outcome:
        key = self.key(stmt.fields)
        found = _find(state.sets[stmt.map_name], key) if key is not None else None
        if found is None or found.value is None or isinstance(found.value, str):
            return _Next.RULE  # no element: the rule does not match
        self.steps.append(Step(state.name, chain, rule, f"@{stmt.map_name}[{found.text()}]"))
        return self.act(state, found.value, depth)

    def act(self, state: TableState, stmt: Statement, depth: int) -> _Outcome:
        if isinstance(stmt, NumgenVMap):
            stmt = Goto(stmt.chains[self.packet.numgen % len(stmt.chains)])
        if isinstance(stmt, Jump | Goto):
            verdict = self.chain(state, stmt.chain, depth + 1)
            if verdict is not None:
                return verdict
            return _Next.RULE if isinstance(stmt, Jump) else _Next.CALLER
        if isinstance(stmt, DNAT | SNAT | Masquerade):
            self.nat(stmt)
            return Verdict.ACCEPT  # nft NAT statements end the base chain with accept
        if isinstance(stmt, Return):
            return _Next.CALLER
        return _FINAL[type(stmt)]

    def nat(self, stmt: DNAT | SNAT | Masquerade) -> None:
        """Rewrite the packet; masquerade's address comes from routing, so it is kept."""
        if isinstance(stmt, DNAT):
            port = stmt.port if stmt.port is not None else self.packet.dport
            self.packet = dataclasses.replace(self.packet, daddr=stmt.addr, dport=port)
        elif isinstance(stmt, SNAT):
            self.packet = dataclasses.replace(self.packet, saddr=stmt.addr)

    def matches(self, state: TableState, stmt: Match | Lookup) -> bool:
        if isinstance(stmt, Match) and stmt.set_name is not None:
            stmt = Lookup((stmt.field,), stmt.set_name, stmt.op)
        if isinstance(stmt, Lookup):
            key = self.key(stmt.fields)
            if key is None:
                return False  # nft's implicit protocol dependency fails first
            return (_find(state.sets[stmt.set_name], key) is not None) == (stmt.op is Op.EQ)
        value = self.scalar(stmt.field)
        if value is None:
            return False
        hit = any(_literal_matches(stmt.field, lit, value) for lit in stmt.literals)
        return hit == (stmt.op is Op.EQ)

    def scalar(self, field: Field) -> int | str | None:
        if field is Field.FIB_DADDR_TYPE:
            daddr = ipaddress.ip_address(self.packet.daddr)
            if daddr in self.local:
                return "local"
            return "multicast" if daddr.is_multicast else "unicast"
        strings = {
            Field.IIFNAME: self.packet.iifname,
            Field.OIFNAME: self.packet.oifname,
            Field.CT_STATE: self.packet.ct_state.value,
        }
        return strings[field] if field in strings else self.field_value(field)

    def field_value(self, field: Field) -> int | None:
        """A numeric field; None when the packet has no such field (IPv6 vs `ip`, no ports)."""
        if field in _ADDRESSES:
            attr, version = _ADDRESSES[field]
            addr = ipaddress.ip_address(getattr(self.packet, attr))
            return int(addr) if addr.version == version else None
        return {
            Field.L4PROTO: protocol_number(self.packet.l4proto),
            Field.TH_DPORT: self.packet.dport,
            Field.TH_SPORT: self.packet.sport,
            Field.MARK: self.packet.mark,
        }[field]

    def key(self, fields: tuple[Field, ...]) -> tuple[int, ...] | None:
        values = tuple(self.field_value(f) for f in fields)
        return None if None in values else typing.cast(tuple[int, ...], values)


def _numgen_note(stmt: Statement, packet: Packet) -> str:
    if not isinstance(stmt, NumgenVMap):
        return ""
    return f"numgen -> {stmt.chains[packet.numgen % len(stmt.chains)]}"


def _literal_matches(field: Field, literal: str, value: int | str) -> bool:
    if isinstance(value, str):
        if field in (Field.IIFNAME, Field.OIFNAME) and literal.endswith("*"):
            return value.startswith(literal[:-1])
        return value == literal
    if field is Field.MARK:
        return value == int(literal, 0)
    lo, hi = component_interval(KEY_TYPES[field], literal)
    return lo <= value <= hi


def _find(target: SetState, key: tuple[int, ...]) -> Element | None:
    for parsed, element in target.elements.items():
        if contains(parsed, key):
            return element
    return None


def _base_chains(ruleset: FakeNFT, hook: Hook) -> list[tuple[TableState, Chain]]:
    found = [
        (state, c.chain)
        for state in ruleset.tables
        for c in state.chains.values()
        if c.chain.hook is hook
    ]
    # Equal priorities run in an unspecified order in the kernel; we fix one.
    return sorted(found, key=lambda sc: (sc[1].priority or 0, sc[0].family, sc[0].name, sc[1].name))
