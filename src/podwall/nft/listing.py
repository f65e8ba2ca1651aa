"""Render fake state as `nft list ruleset` prints it: sets, maps, then chains, sorted.

The output is also valid `nft -f` input. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from podwall.nft.objects import Map, Set

if TYPE_CHECKING:
    from podwall.nft.fake import ChainState, SetState, TableState


def render_tables(tables: Iterable[TableState]) -> str:
    return "".join(_table(state) for state in tables)


def _table(state: TableState) -> str:
    blocks = [_collection(s) for s in _sorted_sets(state, Set)]
    blocks += [_collection(s) for s in _sorted_sets(state, Map)]
    blocks += [_chain(state.chains[name]) for name in sorted(state.chains)]
    head = f"table {state.family} {state.name} {{\n"
    if state.table.comment is not None:
        head += f'\tcomment "{state.table.comment}"\n'
    return head + "\n".join(blocks) + "}\n"


def _sorted_sets(state: TableState, kind: type[Set | Map]) -> list[SetState]:
    return [
        state.sets[name]
        for name in sorted(state.sets)
        if isinstance(state.sets[name].definition, kind)
    ]


def _collection(target: SetState) -> str:
    definition = target.definition
    kind = "map" if isinstance(definition, Map) else "set"
    lines = [f"type {definition.type_text()}"]
    if definition.flags:
        lines.append(f"flags {','.join(sorted(definition.flags))}")
    if definition.comment is not None:
        lines.append(f'comment "{definition.comment}"')
    if target.elements:
        texts = [target.elements[key].text() for key in sorted(target.elements)]
        lines.append(f"elements = {{ {', '.join(texts)} }}")
    return _block(f"{kind} {definition.name}", lines)


def _chain(state: ChainState) -> str:
    chain = state.chain
    lines = [f'comment "{chain.comment}"'] if chain.comment is not None else []
    if chain.is_base:
        policy = chain.policy or "accept"  # nft always lists the (default) policy
        lines.append(
            f"type {chain.type} hook {chain.hook} priority {chain.priority}; policy {policy};"
        )
    lines += [rule.text() for rule in state.rules]
    return _block(f"chain {chain.name}", lines)


def _block(header: str, lines: list[str]) -> str:
    return f"\t{header} {{\n" + "".join(f"\t\t{line}\n" for line in lines) + "\t}\n"
