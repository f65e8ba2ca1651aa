"""Typed nft rule statements: matches, lookups, verdicts, NAT.

A rule is a tuple of these, never free text, so the renderer prints them and the tracer
evaluates them from the same data. Only what a NetworkPolicy + ClusterIP dataplane needs
is here. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from podwall.nft.errors import InvalidOperation
from podwall.nft.naming import check_name
from podwall.nft.values import NftType, component_interval


class Field(StrEnum):
    """Packet fields a rule can match on, spelled as nft spells them."""

    IP_SADDR = "ip saddr"
    IP_DADDR = "ip daddr"
    IP6_SADDR = "ip6 saddr"
    IP6_DADDR = "ip6 daddr"
    L4PROTO = "meta l4proto"
    TH_DPORT = "th dport"
    TH_SPORT = "th sport"
    IIFNAME = "iifname"
    OIFNAME = "oifname"
    MARK = "meta mark"
    CT_STATE = "ct state"
    FIB_DADDR_TYPE = "fib daddr type"


# Fields usable in set lookups and verdict maps, with the key type nft derives for them.
KEY_TYPES: dict[Field, NftType] = {
    Field.IP_SADDR: NftType.IPV4_ADDR,
    Field.IP_DADDR: NftType.IPV4_ADDR,
    Field.IP6_SADDR: NftType.IPV6_ADDR,
    Field.IP6_DADDR: NftType.IPV6_ADDR,
    Field.L4PROTO: NftType.INET_PROTO,
    Field.TH_DPORT: NftType.INET_SERVICE,
    Field.TH_SPORT: NftType.INET_SERVICE,
}


class Op(StrEnum):
    EQ = "=="
    NE = "!="


class CtState(StrEnum):
    NEW = "new"
    ESTABLISHED = "established"
    RELATED = "related"
    INVALID = "invalid"
    UNTRACKED = "untracked"


def _op_text(op: Op) -> str:
    # nft prints equality as juxtaposition (`ip daddr 10.0.0.1`), so we do too.
    return " != " if op is Op.NE else " "


def _quoted(field: Field, value: str) -> str:
    # Interface names are strings; nft lists them quoted, and quoting keeps a name like
    # `ip6` from being lexed as a keyword.
    return f'"{value}"' if field in (Field.IIFNAME, Field.OIFNAME) else value


@dataclass(frozen=True, slots=True)
class Match:
    """`field [!=] value`: a literal, an anonymous set (a tuple) or a named set `@name`."""

    field: Field
    value: str | tuple[str, ...]
    op: Op = Op.EQ

    def __post_init__(self) -> None:
        if isinstance(self.value, tuple):
            if not self.value or any(v.startswith("@") for v in self.value):
                raise InvalidOperation("an anonymous set needs literals, at least one")
        elif not self.value:
            raise InvalidOperation(f"empty value for {self.field}")
        elif self.set_name is not None:
            check_name(self.set_name, "set")
        for literal in self.literals:
            _check_literal(self.field, literal)

    @property
    def set_name(self) -> str | None:
        """The named set this match looks up, if the value is `@name`."""
        if isinstance(self.value, str) and self.value.startswith("@"):
            return self.value[1:]
        return None

    @property
    def literals(self) -> tuple[str, ...]:
        """The literal values compared (empty for a named-set lookup)."""
        if isinstance(self.value, tuple):
            return self.value
        if self.set_name is not None:
            return ()
        if self.field is Field.CT_STATE:
            return tuple(self.value.split(","))
        return (self.value,)

    def render(self) -> str:
        if isinstance(self.value, str):
            return f"{self.field}{_op_text(self.op)}{_quoted(self.field, self.value)}"
        if self.field is Field.CT_STATE:  # ct state is a bitmask: nft lists `a,b`
            return f"{self.field}{_op_text(self.op)}{','.join(self.value)}"
        items = ", ".join(_quoted(self.field, v) for v in self.value)
        return f"{self.field}{_op_text(self.op)}{{ {items} }}"


FIB_TYPES = frozenset({"local", "unicast", "multicast", "broadcast", "anycast", "blackhole"})


_GOOD_LITERALS: set[tuple[Field, str]] = set()


def _check_literal(field: Field, literal: str) -> None:
    """Refuse, when the rule is built, a literal nft would refuse when it is loaded."""
    if (field, literal) in _GOOD_LITERALS:
        return
    _check_literal_once(field, literal)
    _GOOD_LITERALS.add((field, literal))


def _check_literal_once(field: Field, literal: str) -> None:
    try:
        if field in KEY_TYPES:
            component_interval(KEY_TYPES[field], literal)
        elif field is Field.MARK:
            int(literal, 0)
        elif field is Field.CT_STATE:
            CtState(literal)
        elif field is Field.FIB_DADDR_TYPE and literal not in FIB_TYPES:
            raise ValueError(f"unknown address type {literal!r}")
        elif field in (Field.IIFNAME, Field.OIFNAME):
            _check_string(literal, "interface name", limit=15)
    except ValueError as err:
        raise InvalidOperation(f"{field} {literal!r}: {err}") from None


def _check_key_fields(fields: tuple[Field, ...]) -> None:
    if not fields:
        raise InvalidOperation("a lookup needs at least one field")
    for field in fields:
        if field not in KEY_TYPES:
            raise InvalidOperation(f"{field} cannot be part of a set/map key")


@dataclass(frozen=True, slots=True)
class Lookup:
    """`f1 . f2 [!=] @set`: membership of a (concatenated) key in a named set."""

    fields: tuple[Field, ...]
    set_name: str
    op: Op = Op.EQ

    def __post_init__(self) -> None:
        _check_key_fields(self.fields)
        check_name(self.set_name, "set")

    def render(self) -> str:
        return f"{' . '.join(self.fields)}{_op_text(self.op)}@{self.set_name}"


@dataclass(frozen=True, slots=True)
class VMap:
    """`f1 . f2 vmap @map`: run the verdict stored for the key; no element, no match."""

    fields: tuple[Field, ...]
    map_name: str

    def __post_init__(self) -> None:
        _check_key_fields(self.fields)
        check_name(self.map_name, "map")

    def render(self) -> str:
        return f"{' . '.join(self.fields)} vmap @{self.map_name}"


@dataclass(frozen=True, slots=True)
class Accept:
    def render(self) -> str:
        return "accept"


@dataclass(frozen=True, slots=True)
class Drop:
    def render(self) -> str:
        return "drop"


@dataclass(frozen=True, slots=True)
class Reject:
    """Drop and tell the sender (ICMP unreachable / TCP reset), so clients fail fast."""

    def render(self) -> str:
        return "reject"


@dataclass(frozen=True, slots=True)
class Return:
    def render(self) -> str:
        return "return"


@dataclass(frozen=True, slots=True)
class Jump:
    chain: str

    def __post_init__(self) -> None:
        check_name(self.chain, "chain")

    def render(self) -> str:
        return f"jump {self.chain}"


@dataclass(frozen=True, slots=True)
class Goto:
    chain: str

    def __post_init__(self) -> None:
        check_name(self.chain, "chain")

    def render(self) -> str:
        return f"goto {self.chain}"


@dataclass(frozen=True, slots=True)
class Counter:
    def render(self) -> str:
        return "counter"


@dataclass(frozen=True, slots=True)
class Log:
    """`log prefix "P"`, to the kernel log; with `group`, to NFLOG group N (nfnetlink_log),
    where a reader in the same network namespace receives the packet."""

    prefix: str
    group: int | None = None

    def __post_init__(self) -> None:
        _check_string(self.prefix, "log prefix", limit=127)
        if self.group is not None and not 0 <= self.group <= 0xFFFF:
            raise InvalidOperation(f"log group {self.group} is not in 0-65535")

    def render(self) -> str:
        if self.group is None:
            return f'log prefix "{self.prefix}"'
        return f'log prefix "{self.prefix}" group {self.group}'


@dataclass(frozen=True, slots=True)
class Limit:
    """`limit rate N/second burst B packets`: matches while the rule's own token bucket has a
    token (each rule has its bucket). The tracer models no time: there it always matches."""

    rate: int
    burst: int

    def __post_init__(self) -> None:
        if self.rate < 1 or self.burst < 1:
            raise InvalidOperation(f"limit rate {self.rate} burst {self.burst}: both must be >= 1")

    def render(self) -> str:
        return f"limit rate {self.rate}/second burst {self.burst} packets"


@dataclass(frozen=True, slots=True)
class SetMark:
    mark: int

    def render(self) -> str:
        return f"meta mark set 0x{self.mark:08x}"


def _host(addr: str) -> tuple[str, str]:
    """(nft family keyword, address text as it goes before `:port`)."""
    parsed = ipaddress.ip_address(addr)
    if parsed.version == 4:
        return "ip", str(parsed)
    return "ip6", f"[{parsed}]"


@dataclass(frozen=True, slots=True)
class DNAT:
    """`dnat ip to A[:P]`; a port needs an earlier `meta l4proto` match in the rule."""

    addr: str
    port: int | None = None

    def render(self) -> str:
        family, host = _host(self.addr)
        if self.port is None:
            return f"dnat {family} to {host.strip('[]')}"
        return f"dnat {family} to {host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SNAT:
    addr: str

    def render(self) -> str:
        family, host = _host(self.addr)
        return f"snat {family} to {host.strip('[]')}"


@dataclass(frozen=True, slots=True)
class Masquerade:
    def render(self) -> str:
        return "masquerade"


@dataclass(frozen=True, slots=True)
class NumgenVMap:
    """`numgen random mod N vmap { 0 : goto a, ... }`: pick one endpoint chain at random."""

    chains: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.chains:
            raise InvalidOperation("numgen needs at least one target chain")
        for chain in self.chains:
            check_name(chain, "chain")

    def render(self) -> str:
        arms = ", ".join(f"{i} : goto {chain}" for i, chain in enumerate(self.chains))
        return f"numgen random mod {len(self.chains)} vmap {{ {arms} }}"


Verdict = Accept | Drop | Return | Jump | Goto
Statement = (
    Match
    | Lookup
    | VMap
    | Accept
    | Drop
    | Reject
    | Return
    | Jump
    | Goto
    | Counter
    | Log
    | Limit
    | SetMark
    | DNAT
    | SNAT
    | Masquerade
    | NumgenVMap
)
# Statements after which nothing in the same rule can run; nft wants them last.
TERMINAL = (Accept, Drop, Reject, Return, Jump, Goto, VMap, NumgenVMap, DNAT, SNAT, Masquerade)
NAT = (DNAT, SNAT, Masquerade)


def _check_string(text: str, what: str, *, limit: int) -> None:
    # nft strings have no escapes: a double quote or newline cannot be written at all.
    if '"' in text or "\n" in text:
        raise InvalidOperation(f"{what} cannot contain a double quote or newline: {text!r}")
    if len(text.encode()) > limit:
        raise InvalidOperation(f"{what} longer than {limit} bytes: {text!r}")


def check_comment(text: str) -> None:
    """nft limits comments to 128 bytes and cannot quote a `"`."""
    _check_string(text, "comment", limit=128)


def jump_targets(statement: Statement) -> tuple[str, ...]:
    """Chains a statement can transfer control to (not counting verdict-map elements)."""
    if isinstance(statement, Jump | Goto):
        return (statement.chain,)
    if isinstance(statement, NumgenVMap):
        return statement.chains
    return ()
