"""A Transaction: operations on one table, rendered as a single `nft -f -` script.

nft applies a script atomically, so a transaction is also the unit of atomicity of the
fake. Verb/object pairs are checked when queued (see `objects.VERBS`), not when run, so
a mistake points at the line that made it. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from podwall.nft.naming import check_name
from podwall.nft.objects import (
    Chain,
    Element,
    Family,
    Map,
    Object,
    Rule,
    Set,
    Table,
    Verb,
    check_operation,
    collection_spec,
)


@dataclass(frozen=True, slots=True)
class Operation:
    verb: Verb
    obj: Object


class Transaction:
    """Queued operations on table `table` of family `family`, in order."""

    def __init__(self, table: str, family: Family = Family.INET) -> None:
        check_name(table, "table")
        self.table = table
        self.family = family
        self._operations: list[Operation] = []

    def add(self, obj: Object) -> None:
        """Make `obj` exist (no-op if it does); append a rule (after `handle` if set)."""
        self._queue(Verb.ADD, obj)

    def create(self, obj: Object) -> None:
        """Like add, but the transaction fails if `obj` already exists."""
        self._queue(Verb.CREATE, obj)

    def insert(self, rule: Rule) -> None:
        """Prepend a rule to its chain (or put it before the rule `handle`)."""
        self._queue(Verb.INSERT, rule)

    def replace(self, rule: Rule) -> None:
        """Replace the rule `handle` of the chain."""
        self._queue(Verb.REPLACE, rule)

    def delete(self, obj: Object) -> None:
        self._queue(Verb.DELETE, obj)

    def flush(self, obj: Table | Chain | Set | Map) -> None:
        """Empty `obj`: rules of a chain (all chains, for a table) or elements of a set."""
        self._queue(Verb.FLUSH, obj)

    def _queue(self, verb: Verb, obj: Object) -> None:
        check_operation(verb, obj)
        self._operations.append(Operation(verb, obj))

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self._operations)

    def __len__(self) -> int:
        return len(self._operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def render(self) -> str:
        """The script for `nft -f -`: one command per line, in queued order."""
        return "".join(self.command(op) + "\n" for op in self._operations)

    def command(self, op: Operation) -> str:
        """One operation as an nft command line (no trailing newline)."""
        where = f"{self.family} {self.table}"
        return f"{op.verb} {_kind(op.obj)} {where}{_tail(op.verb, op.obj)}"


def _kind(obj: Object) -> str:
    return type(obj).__name__.lower()


def _tail(verb: Verb, obj: Object) -> str:
    """What follows `<verb> <kind> <family> <table>`."""
    defining = verb in (Verb.ADD, Verb.CREATE)
    if isinstance(obj, Table):
        return f' {{ comment "{obj.comment}" ; }}' if defining and obj.comment else ""
    if isinstance(obj, Chain):
        return f" {obj.name}" + (_chain_block(obj) if defining else "")
    if isinstance(obj, Set | Map):
        return f" {obj.name}" + (f" {{ {' '.join(collection_spec(obj))} }}" if defining else "")
    if isinstance(obj, Element):
        text = obj.text() if defining else " . ".join(obj.key)
        return f" {obj.owner} {{ {text} }}"
    return _rule_tail(verb, obj)


def _chain_block(chain: Chain) -> str:
    parts = [chain.spec()] if chain.is_base else []
    if chain.comment is not None:
        parts.append(f'comment "{chain.comment}" ;')
    return f" {{ {' '.join(p for p in parts if p)} }}" if parts else ""


def _rule_tail(verb: Verb, rule: Rule) -> str:
    position = f" handle {rule.handle}" if rule.handle is not None else ""
    body = "" if verb is Verb.DELETE else f" {rule.text()}"
    return f" {rule.chain}{position}{body}"
