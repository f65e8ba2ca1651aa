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
        """The script for `nft -f -`, in queued order: one command per line, except that a run
        of element operations with the same verb on the same set is one command, as nft
        loads one batched command far faster than thousands (10k pods: 4.5 s -> 3.3 s)."""
        lines: list[str] = []
        run: list[Operation] = []
        for op in self._operations:
            if run and not _same_run(run[-1], op):
                lines.append(self._elements(run))
                run = []
            if isinstance(op.obj, Element) and op.verb in _ELEMENT_VERBS:
                run.append(op)
            else:
                lines.append(self.command(op))
        if run:
            lines.append(self._elements(run))
        return "".join(line + "\n" for line in lines)

    def _elements(self, run: list[Operation]) -> str:
        if len(run) == 1:
            return self.command(run[0])
        first = run[0]
        assert isinstance(first.obj, Element)
        texts = [_element_text(op.verb, op.obj) for op in run if isinstance(op.obj, Element)]
        where = f"{self.family} {self.table} {first.obj.owner}"
        return f"{first.verb} element {where} {{ {', '.join(texts)} }}"

    def command(self, op: Operation) -> str:
        """One operation as an nft command line (no trailing newline)."""
        where = f"{self.family} {self.table}"
        return f"{op.verb} {_kind(op.obj)} {where}{_tail(op.verb, op.obj)}"


_ELEMENT_VERBS = (Verb.ADD, Verb.CREATE, Verb.DELETE)


def _same_run(last: Operation, op: Operation) -> bool:
    return (
        isinstance(last.obj, Element)
        and isinstance(op.obj, Element)
        and last.verb is op.verb
        and last.obj.owner == op.obj.owner
    )


def _element_text(verb: Verb, element: Element) -> str:
    return element.text() if verb in (Verb.ADD, Verb.CREATE) else " . ".join(element.key)


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
        return f" {obj.owner} {{ {_element_text(verb, obj)} }}"
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
