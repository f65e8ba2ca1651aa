"""The consistency rules FakeNFT enforces, each one observed with the real nft/kernel.

Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from podwall.nft.errors import NftError
from podwall.nft.objects import Chain, ChainType, Element, Hook, Map, Set, SetFlag
from podwall.nft.statements import (
    DNAT,
    KEY_TYPES,
    NAT,
    SNAT,
    Field,
    Goto,
    Jump,
    Lookup,
    Masquerade,
    Match,
    Statement,
    VMap,
    jump_targets,
)
from podwall.nft.values import Interval, NftType, canonical, component_interval, overlaps
from podwall.nft.values import is_interval_syntax as is_interval

if TYPE_CHECKING:
    from podwall.nft.fake import SetState, TableState

_NAT_HOOKS: dict[type[Statement], frozenset[Hook]] = {
    DNAT: frozenset({Hook.PREROUTING, Hook.OUTPUT}),
    SNAT: frozenset({Hook.POSTROUTING, Hook.INPUT}),
    Masquerade: frozenset({Hook.POSTROUTING}),
}
MAX_JUMP_DEPTH = 16  # the kernel's NFT_JUMP_STACK_SIZE


def merge_chain(existing: Chain, new: Chain) -> Chain:
    """`add chain` on an existing chain: a base chain may only change its policy."""
    if not new.is_base:
        return existing
    same_hook = (existing.type, existing.hook, existing.priority) == (
        new.type,
        new.hook,
        new.priority,
    )
    if not same_hook:
        raise NftError("Operation not supported: cannot change a chain's type, hook or priority")
    return dataclasses.replace(existing, policy=new.policy or existing.policy)


def same_collection(old: Set | Map, new: Set | Map) -> bool:
    """Whether `add set`/`add map` of `new` over `old` is a no-op (comments may differ)."""
    return dataclasses.replace(old, comment=None) == dataclasses.replace(new, comment=None)


def parse_key(definition: Set | Map, key: tuple[str, ...]) -> tuple[Interval, ...]:
    if len(key) != len(definition.key):
        raise NftError(f"key {' . '.join(key)} does not match type {definition.type_text()}")
    interval = SetFlag.INTERVAL in definition.flags
    parsed = []
    for nft_type, text in zip(definition.key, key, strict=True):
        if is_interval(nft_type, text) and not interval:
            raise NftError(f"{text}: add 'flags interval' to the set to use prefixes/ranges")
        try:
            parsed.append(component_interval(nft_type, text))
        except ValueError as err:
            raise NftError(f"{text}: {err}") from None
    return tuple(parsed)


def canonical_element(definition: Set | Map, element: Element) -> Element:
    key = tuple(canonical(t, text) for t, text in zip(definition.key, element.key, strict=True))
    return dataclasses.replace(element, key=key)


def ensure_no_overlap(target: SetState, key: tuple[Interval, ...]) -> None:
    if SetFlag.INTERVAL not in target.definition.flags:
        return
    for other in target.elements:
        if overlaps(other, key):
            raise NftError("interval overlaps with an existing one")


def ensure_element_value(state: TableState, definition: Set | Map, element: Element) -> None:
    if not isinstance(definition, Map) or element.value is None:
        return
    is_verdict = not isinstance(element.value, str)
    if is_verdict != (definition.value is NftType.VERDICT):
        raise NftError(f"value of {element.text()} does not match type {definition.type_text()}")
    if isinstance(element.value, Jump | Goto):
        _ensure_jump_target(state, element.value.chain)


def ensure_references(state: TableState, statements: tuple[Statement, ...]) -> None:
    """A rule may only name chains, sets and maps that exist, with matching key types."""
    for stmt in statements:
        for chain in jump_targets(stmt):
            _ensure_jump_target(state, chain)
        if isinstance(stmt, Lookup):
            _ensure_collection(state, stmt.set_name, Set, stmt.fields)
        elif isinstance(stmt, Match) and stmt.set_name is not None:
            if stmt.field not in KEY_TYPES:
                raise NftError(f"{stmt.field} cannot be looked up in a set")
            _ensure_collection(state, stmt.set_name, Set, (stmt.field,))
        elif isinstance(stmt, VMap):
            _ensure_collection(state, stmt.map_name, Map, stmt.fields)


def _ensure_jump_target(state: TableState, name: str) -> None:
    target = state.chains.get(name)
    if target is None:
        raise NftError(f"No such file or directory: chain {name}")
    if target.chain.is_base:
        raise NftError(f"Operation not supported: cannot jump to base chain {name}")


def _ensure_collection(
    state: TableState, name: str, kind: type[Set | Map], fields: tuple[Field, ...]
) -> None:
    target = state.sets.get(name)
    if target is None or not isinstance(target.definition, kind):
        raise NftError(f"No such file or directory: {kind.__name__.lower()} {name}")
    wanted = tuple(KEY_TYPES[f] for f in fields)
    if target.definition.key != wanted:
        raise NftError(f"datatype mismatch: {name} is {target.definition.type_text()}")
    if isinstance(target.definition, Map) and target.definition.value is not NftType.VERDICT:
        raise NftError(f"{name} is not a verdict map")


def references(state: TableState, skip_chain: str | None = None) -> Iterator[str]:
    """Every chain/set/map name used by a rule (outside `skip_chain`) or a map element."""
    for name, chain in state.chains.items():
        if name == skip_chain:
            continue
        for rule in chain.rules:
            for stmt in rule.statements:
                yield from jump_targets(stmt)
                if isinstance(stmt, Lookup | Match) and stmt.set_name is not None:
                    yield stmt.set_name
                elif isinstance(stmt, VMap):
                    yield stmt.map_name
    for target in state.sets.values():
        yield from _element_targets(target)


def _element_targets(target: SetState) -> Iterator[str]:
    for element in target.elements.values():
        if isinstance(element.value, Jump | Goto):
            yield element.value.chain


def ensure_unreferenced(state: TableState, name: str, kind: str) -> None:
    # A chain's own rules go away with it, so they do not keep it busy.
    if name in references(state, skip_chain=name if kind == "chain" else None):
        raise NftError(f"Device or resource busy: {kind} {name} is in use")


def successors(state: TableState, chain: str) -> Iterator[str]:
    """Chains `chain` can jump or goto, directly or through a verdict map."""
    for rule in state.chains[chain].rules:
        for stmt in rule.statements:
            yield from jump_targets(stmt)
            if isinstance(stmt, VMap):
                yield from _element_targets(state.sets[stmt.map_name])


def commit(state: TableState) -> None:
    """Checks the kernel makes when the transaction commits: loops, depth, NAT placement.

    Like the kernel, only chains reachable from a base chain are checked: a loop among
    unreachable chains is accepted until a base chain jumps into it.
    """
    depths: dict[str, int] = {}
    for name, chain in state.chains.items():
        if chain.chain.is_base:
            _depth(state, name, depths, ())
            for reached in _reachable(state, name):
                _check_nat(state, reached, chain.chain)


def _depth(state: TableState, name: str, memo: dict[str, int], path: tuple[str, ...]) -> int:
    # Longest jump path below `name`, memoised so shared policy chains are walked once.
    if name in path:
        raise NftError(f"Too many links: loop {' -> '.join((*path, name))}")
    if name not in memo:
        below = [_depth(state, t, memo, (*path, name)) for t in set(successors(state, name))]
        memo[name] = 1 + max(below, default=0)
        if memo[name] > MAX_JUMP_DEPTH:
            raise NftError(f"Too many links: jumps from {name} nest deeper than {MAX_JUMP_DEPTH}")
    return memo[name]


def _reachable(state: TableState, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in successors(state, todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check_nat(state: TableState, name: str, base: Chain) -> None:
    for rule in state.chains[name].rules:
        for stmt in rule.statements:
            if isinstance(stmt, NAT) and not _nat_allowed(stmt, base):
                raise NftError(
                    f"Operation not supported: {stmt.render()} in chain {name},"
                    f" reached from {base.type} {base.hook} chain {base.name}"
                )


def _nat_allowed(stmt: Statement, base: Chain) -> bool:
    return base.type is ChainType.NAT and base.hook in _NAT_HOOKS[type(stmt)]
