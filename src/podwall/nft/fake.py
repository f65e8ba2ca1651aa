"""FakeNFT: nftables in memory, with the semantics of nft 1.0 / Linux 6 where they matter.

Checked against the real binary in a throwaway network namespace: add is idempotent
(tables, chains, sets, identical elements); create fails if the object exists; delete
fails if it is missing or still referenced (by a jump, a lookup or a verdict-map element);
flush table empties every chain but keeps set elements; overlapping interval elements
fail; a map key cannot be re-added with another value; jumps and lookups need their
target to exist already; jumping to a base chain fails; jump loops, jumps nested over 16
deep and NAT outside a NAT hook fail for chains reachable from a base chain. A transaction
that fails changes nothing. Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from podwall.nft import checks
from podwall.nft.errors import NftError
from podwall.nft.objects import Chain, Element, Family, Map, Object, Rule, Set, Table, Verb
from podwall.nft.transaction import Operation, Transaction
from podwall.nft.values import Interval


@dataclass
class ChainState:
    chain: Chain
    rules: list[Rule] = field(default_factory=list)  # every rule carries its handle


@dataclass
class SetState:
    """A set or map; elements keyed by their parsed key (one interval per component)."""

    definition: Set | Map
    elements: dict[tuple[Interval, ...], Element] = field(default_factory=dict)


@dataclass
class TableState:
    family: Family
    name: str
    table: Table
    chains: dict[str, ChainState] = field(default_factory=dict)
    sets: dict[str, SetState] = field(default_factory=dict)  # sets and maps share names
    next_handle: int = 1

    def clone(self) -> TableState:
        # Objects are frozen, so copying the containers is a full snapshot.
        return dataclasses.replace(
            self,
            chains={n: ChainState(c.chain, list(c.rules)) for n, c in self.chains.items()},
            sets={n: SetState(s.definition, dict(s.elements)) for n, s in self.sets.items()},
        )


class FakeNFT:
    """The ruleset of one network namespace, changed only by whole transactions."""

    def __init__(self) -> None:
        self._tables: dict[tuple[Family, str], TableState] = {}

    @property
    def tables(self) -> tuple[TableState, ...]:
        """Read-only view: tables sorted by family and name."""
        return tuple(self._tables[key] for key in sorted(self._tables))

    def table(self, name: str, family: Family = Family.INET) -> TableState:
        try:
            return self._tables[(family, name)]
        except KeyError:
            raise NftError(f"no such table {family} {name}") from None

    def run(self, tx: Transaction) -> None:
        """Apply `tx` atomically: on NftError the ruleset is exactly as before."""
        tables = {key: state.clone() for key, state in self._tables.items()}
        for op in tx:
            try:
                _apply(tables, tx, op)
            except NftError as err:
                raise NftError(f"{tx.command(op)}: {err}") from None
        for state in tables.values():
            checks.commit(state)
        self._tables = tables

    def dump(self) -> str:
        """The whole ruleset as `nft list ruleset` would print it, sorted."""
        from podwall.nft.listing import render_tables

        return render_tables(self.tables)


def _apply(tables: dict[tuple[Family, str], TableState], tx: Transaction, op: Operation) -> None:
    key = (tx.family, tx.table)
    if isinstance(op.obj, Table):
        _apply_table(tables, key, op.verb, op.obj)
        return
    state = tables.get(key)
    if state is None:
        raise NftError(f"no such table {tx.family} {tx.table}")
    _apply_in_table(state, op.verb, op.obj)


def _apply_table(
    tables: dict[tuple[Family, str], TableState], key: tuple[Family, str], verb: Verb, obj: Table
) -> None:
    exists = key in tables
    if verb is Verb.CREATE and exists:
        raise NftError("File exists")
    if verb in (Verb.DELETE, Verb.FLUSH) and not exists:
        raise NftError("No such file or directory")
    if verb in (Verb.ADD, Verb.CREATE) and not exists:
        tables[key] = TableState(family=key[0], name=key[1], table=obj)
    elif verb is Verb.DELETE:
        del tables[key]
    elif verb is Verb.FLUSH:
        for chain in tables[key].chains.values():
            chain.rules.clear()


def _apply_in_table(state: TableState, verb: Verb, obj: Object) -> None:
    if isinstance(obj, Chain):
        _apply_chain(state, verb, obj)
    elif isinstance(obj, Set | Map):
        _apply_set(state, verb, obj)
    elif isinstance(obj, Element):
        _apply_element(state, verb, obj)
    elif isinstance(obj, Rule):
        _apply_rule(state, verb, obj)


def _apply_chain(state: TableState, verb: Verb, chain: Chain) -> None:
    existing = state.chains.get(chain.name)
    if existing is None:
        if verb not in (Verb.ADD, Verb.CREATE):
            raise NftError(f"No such file or directory: chain {chain.name}")
        state.chains[chain.name] = ChainState(chain)
    elif verb is Verb.CREATE:
        raise NftError("File exists")
    elif verb is Verb.ADD:
        existing.chain = checks.merge_chain(existing.chain, chain)
    elif verb is Verb.FLUSH:
        existing.rules.clear()
    else:
        checks.ensure_unreferenced(state, chain.name, "chain")
        del state.chains[chain.name]


def _apply_set(state: TableState, verb: Verb, definition: Set | Map) -> None:
    existing = state.sets.get(definition.name)
    if existing is not None and verb is Verb.ADD:
        if not checks.same_collection(existing.definition, definition):
            raise NftError("File exists")
        return
    if existing is not None and verb is Verb.CREATE:
        raise NftError("File exists")
    if verb in (Verb.ADD, Verb.CREATE):
        state.sets[definition.name] = SetState(definition)
        return
    if existing is None or type(existing.definition) is not type(definition):
        raise NftError(f"No such file or directory: {type(definition).__name__.lower()}")
    if verb is Verb.FLUSH:
        existing.elements.clear()
    else:
        checks.ensure_unreferenced(state, definition.name, "set")
        del state.sets[definition.name]


def _apply_element(state: TableState, verb: Verb, element: Element) -> None:
    target = state.sets.get(element.owner)
    wanted = Set if element.set is not None else Map
    if target is None or not isinstance(target.definition, wanted):
        raise NftError(f"No such file or directory: {wanted.__name__.lower()} {element.owner}")
    key = checks.parse_key(target.definition, element.key)
    existing = target.elements.get(key)
    if verb is Verb.DELETE:
        if existing is None:
            raise NftError("element does not exist")
        del target.elements[key]
        return
    checks.ensure_element_value(state, target.definition, element)
    if existing is not None:
        if verb is Verb.CREATE or existing.value != element.value:
            raise NftError("File exists")
        return
    checks.ensure_no_overlap(target, key)
    target.elements[key] = checks.canonical_element(target.definition, element)


def _apply_rule(state: TableState, verb: Verb, rule: Rule) -> None:
    chain = state.chains.get(rule.chain)
    if chain is None:
        raise NftError(f"No such file or directory: chain {rule.chain}")
    at = _position(chain, rule.handle)
    if verb is Verb.DELETE:
        del chain.rules[_required(at, rule)]
        return
    checks.ensure_references(state, rule.statements)
    stored = dataclasses.replace(rule, handle=state.next_handle)
    state.next_handle += 1
    if verb is Verb.REPLACE:
        chain.rules[_required(at, rule)] = stored
    elif verb is Verb.INSERT:
        chain.rules.insert(0 if rule.handle is None else _required(at, rule), stored)
    elif rule.handle is None:
        chain.rules.append(stored)
    else:
        chain.rules.insert(_required(at, rule) + 1, stored)


def _position(chain: ChainState, handle: int | None) -> int | None:
    for i, existing in enumerate(chain.rules):
        if handle is not None and existing.handle == handle:
            return i
    return None


def _required(index: int | None, rule: Rule) -> int:
    if index is None:
        raise NftError(f"No such file or directory: rule handle {rule.handle}")
    return index
