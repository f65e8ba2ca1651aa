"""nftables objects (table, chains, sets, maps, elements, rules) and which verbs apply.

Objects do not name their table: a Transaction is bound to one table, as a knftables
Interface is. Frozen, so the fake can share them between snapshots. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from podwall.nft.errors import InvalidOperation
from podwall.nft.naming import check_name
from podwall.nft.statements import (
    DNAT,
    TERMINAL,
    Field,
    Match,
    Statement,
    Verdict,
    check_comment,
)
from podwall.nft.values import NftType


class Family(StrEnum):
    INET = "inet"


class ChainType(StrEnum):
    FILTER = "filter"
    NAT = "nat"


class Hook(StrEnum):
    PREROUTING = "prerouting"
    INPUT = "input"
    FORWARD = "forward"
    OUTPUT = "output"
    POSTROUTING = "postrouting"


class Priority(IntEnum):
    """Standard base-chain priorities; rendered as numbers (portable across nft versions)."""

    RAW = -300
    MANGLE = -150
    DSTNAT = -100
    FILTER = 0
    SECURITY = 50
    SRCNAT = 100


class ChainPolicy(StrEnum):
    ACCEPT = "accept"
    DROP = "drop"


class SetFlag(StrEnum):
    INTERVAL = "interval"
    CONSTANT = "constant"


class Verb(StrEnum):
    ADD = "add"
    CREATE = "create"
    INSERT = "insert"
    REPLACE = "replace"
    DELETE = "delete"
    FLUSH = "flush"


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.comment is not None:
            check_comment(self.comment)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chain:
    """A regular chain, or a base chain when `type`, `hook` and `priority` are all set."""

    name: str
    type: ChainType | None = None
    hook: Hook | None = None
    priority: int | None = None
    policy: ChainPolicy | None = None
    comment: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "chain")
        base = (self.type, self.hook, self.priority)
        if any(part is not None for part in base) and any(part is None for part in base):
            raise InvalidOperation(f"base chain {self.name!r} needs type, hook and priority")
        if self.policy is not None and self.hook is None:
            raise InvalidOperation(f"regular chain {self.name!r} cannot have a policy")
        if self.type is ChainType.NAT and self.hook is Hook.FORWARD:
            raise InvalidOperation(f"nat chain {self.name!r} cannot hook forward")
        if self.comment is not None:
            check_comment(self.comment)

    @property
    def is_base(self) -> bool:
        return self.hook is not None

    def spec(self) -> str | None:
        """`type filter hook forward priority 0 ; policy drop ;` for a base chain."""
        if not self.is_base:
            return None
        text = f"type {self.type} hook {self.hook} priority {self.priority} ;"
        return text + (f" policy {self.policy} ;" if self.policy else "")


def _check_key(name: str, key: tuple[NftType, ...], comment: str | None) -> None:
    check_name(name, "set")
    if not key or NftType.VERDICT in key:
        raise InvalidOperation(f"set/map {name!r} needs a key made of data types")
    if comment is not None:
        check_comment(comment)


@dataclass(frozen=True, slots=True, kw_only=True)
class Set:
    name: str
    key: tuple[NftType, ...]
    flags: frozenset[SetFlag] = field(default_factory=frozenset)
    comment: str | None = None

    def __post_init__(self) -> None:
        _check_key(self.name, self.key, self.comment)

    def type_text(self) -> str:
        return " . ".join(self.key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Map:
    name: str
    key: tuple[NftType, ...]
    value: NftType = NftType.VERDICT
    flags: frozenset[SetFlag] = field(default_factory=frozenset)
    comment: str | None = None

    def __post_init__(self) -> None:
        _check_key(self.name, self.key, self.comment)

    def type_text(self) -> str:
        return f"{' . '.join(self.key)} : {self.value}"


def collection_spec(obj: Set | Map) -> list[str]:
    """The `type ... ;` / `flags ... ;` / `comment ... ;` parts of a set or map."""
    parts = [f"type {obj.type_text()} ;"]
    if obj.flags:
        parts.append(f"flags {','.join(sorted(obj.flags))} ;")
    if obj.comment is not None:
        parts.append(f'comment "{obj.comment}" ;')
    return parts


@dataclass(frozen=True, slots=True, kw_only=True)
class Element:
    """An element of the set `set` or of the map `map` (exactly one is given)."""

    set: str | None = None
    map: str | None = None
    key: tuple[str, ...]
    value: Verdict | str | None = None

    def __post_init__(self) -> None:
        if (self.set is None) == (self.map is None):
            raise InvalidOperation("an element belongs to exactly one set or map")
        if not self.key or not all(self.key):
            raise InvalidOperation("an element needs a non-empty key")
        check_name(self.owner, "set/map")
        if self.set is not None and self.value is not None:
            raise InvalidOperation(f"element of set {self.set!r} cannot have a value")

    @property
    def owner(self) -> str:
        return self.set if self.set is not None else str(self.map)

    def text(self) -> str:
        """`k1 . k2` or `k1 . k2 : value`, as inside `{ }`."""
        key = " . ".join(self.key)
        if self.value is None:
            return key
        value = self.value if isinstance(self.value, str) else self.value.render()
        return f"{key} : {value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A rule in `chain`. `handle` positions add/insert and selects replace/delete."""

    chain: str
    statements: tuple[Statement, ...] = ()
    comment: str | None = None
    handle: int | None = None

    def __post_init__(self) -> None:
        check_name(self.chain, "chain")
        if self.comment is not None:
            check_comment(self.comment)
        for stmt in self.statements[:-1]:
            if isinstance(stmt, TERMINAL):
                raise InvalidOperation(f"{stmt.render()!r} must be the last statement")
        for i, stmt in enumerate(self.statements):
            if isinstance(stmt, DNAT) and stmt.port is not None:
                _check_l4proto_before(self.statements[:i])

    @classmethod
    def placed(cls, chain: str, statements: tuple[Statement, ...], comment: str) -> Rule:
        """A rule from parts already checked (a policy's rule written into a chain whose name
        was checked): skips the checks, which cost more than the rule at 10k policies."""
        rule = object.__new__(cls)
        object.__setattr__(rule, "chain", chain)
        object.__setattr__(rule, "statements", statements)
        object.__setattr__(rule, "comment", comment)
        object.__setattr__(rule, "handle", None)
        return rule

    def text(self) -> str:
        body = " ".join(stmt.render() for stmt in self.statements)
        return body + (f' comment "{self.comment}"' if self.comment is not None else "")


def _check_l4proto_before(statements: tuple[Statement, ...]) -> None:
    # nft: "transport protocol mapping is only valid after transport protocol match".
    if not any(isinstance(s, Match) and s.field is Field.L4PROTO for s in statements):
        raise InvalidOperation("dnat to a port needs a `meta l4proto` match before it")


Object = Table | Chain | Set | Map | Element | Rule

# Which verbs nft accepts for which object (knftables' table, minus destroy/reset).
VERBS: Mapping[type[Object], frozenset[Verb]] = {
    Table: frozenset({Verb.ADD, Verb.CREATE, Verb.DELETE, Verb.FLUSH}),
    Chain: frozenset({Verb.ADD, Verb.CREATE, Verb.DELETE, Verb.FLUSH}),
    Set: frozenset({Verb.ADD, Verb.CREATE, Verb.DELETE, Verb.FLUSH}),
    Map: frozenset({Verb.ADD, Verb.CREATE, Verb.DELETE, Verb.FLUSH}),
    Element: frozenset({Verb.ADD, Verb.CREATE, Verb.DELETE}),
    Rule: frozenset({Verb.ADD, Verb.INSERT, Verb.REPLACE, Verb.DELETE}),
}


def check_operation(verb: Verb, obj: Object) -> None:
    """Raise InvalidOperation for a verb/object pair nft would reject outright."""
    kind = type(obj).__name__.lower()
    if verb not in VERBS[type(obj)]:
        allowed = ", ".join(sorted(VERBS[type(obj)]))
        raise InvalidOperation(f"cannot {verb} {kind}s (valid verbs: {allowed})")
    if isinstance(obj, Rule):
        if verb in (Verb.REPLACE, Verb.DELETE) and obj.handle is None:
            raise InvalidOperation(f"{verb} rule needs the rule's handle")
        if verb is not Verb.DELETE and not obj.statements:
            raise InvalidOperation(f"{verb} rule needs at least one statement")
    if (
        isinstance(obj, Element)
        and obj.map is not None
        and verb is not Verb.DELETE
        and obj.value is None
    ):
        raise InvalidOperation(f"{verb} element of map {obj.map!r} needs a value")
