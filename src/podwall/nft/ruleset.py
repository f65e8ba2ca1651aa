"""A desired ruleset (or one fragment of it), and the transaction that loads it whole.

A full load replaces the table atomically in one `nft -f` batch; updates between fragmented
rulesets are `fragments.update`. Pure: no I/O here.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from podwall.nft.objects import Chain, Element, Map, Rule, Set, Table, Verb
from podwall.nft.transaction import Operation, Transaction

TABLE = "podwall"
TABLE_COMMENT = "podwall NetworkPolicy dataplane"


@dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    """A fragment is `base` with a few elements of one set removed and added, so a diff from
    `base` reads only those. `base` is held weakly: only the newest step is ever diffed this
    way (from an older base a diff compares every element), and strong links would keep every
    earlier version of a set alive."""

    base: weakref.ref[Ruleset]
    set_name: str
    removed: tuple[tuple[str, ...], ...]
    added: tuple[tuple[str, ...], ...]

    def applies_to(self, old: Ruleset) -> bool:
        return self.base() is old


@dataclass(kw_only=True)
class Ruleset:
    """Chains in creation order with their rules, and sets/maps with their elements."""

    chains: dict[str, Chain] = field(default_factory=dict)
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    sets: dict[str, Set | Map] = field(default_factory=dict)
    elements: dict[str, dict[tuple[str, ...], Element]] = field(default_factory=dict)
    # Set when this fragment is another one with a few elements of one set changed.
    patch: Patch | None = field(default=None, compare=False, repr=False)

    def chain(self, chain: Chain) -> None:
        if chain.name not in self.chains:
            self.chains[chain.name] = chain
            self.rules[chain.name] = []

    def rule(self, rule: Rule) -> None:
        self.rules[rule.chain].append(rule)

    def set(self, definition: Set | Map) -> None:
        if definition.name not in self.sets:
            self.sets[definition.name] = definition
            self.elements[definition.name] = {}

    def element(self, element: Element) -> None:
        """Add an element; its set may belong to another part of the ruleset (a shared map)."""
        self.elements.setdefault(element.owner, {})[element.key] = element

    def merge(self, other: Ruleset) -> None:
        """Add every object of `other` (a fragment) to this ruleset."""
        for chain in other.chains.values():
            self.chain(chain)
            self.rules[chain.name].extend(other.rules[chain.name])
        for definition in other.sets.values():
            self.set(definition)
        for owner, elements in other.elements.items():
            self.elements.setdefault(owner, {}).update(elements)

    def rule_count(self) -> int:
        return sum(len(r) for r in self.rules.values())

    def element_count(self) -> int:
        return sum(len(e) for e in self.elements.values())


def full_transaction(ruleset: Ruleset) -> Transaction:
    """Replace the whole table: add (so delete cannot fail), delete, then build anew."""
    tx = Transaction(TABLE)
    tx.add(Table())
    tx.delete(Table())
    tx.add(Table(comment=TABLE_COMMENT))
    for chain in ruleset.chains.values():
        tx.add(chain)
    for definition in ruleset.sets.values():
        tx.add(definition)
    for elements in ruleset.elements.values():
        for element in elements.values():
            tx.add(element)
    for rules in ruleset.rules.values():
        for rule in rules:
            tx.add(rule)
    return tx


def full_script(ruleset: Ruleset) -> tuple[str, int]:
    """`full_transaction(ruleset).render()` and its number of operations, written straight
    out: at 10k pods, queueing and checking 80k operations one by one cost more than nft's
    own parsing of them. Chains and sets go through the same `command` as a transaction."""
    tx = Transaction(TABLE)
    head = f"{tx.family} {tx.table}"
    lines = [
        f"add table {head}",
        f"delete table {head}",
        tx.command(Operation(Verb.ADD, Table(comment=TABLE_COMMENT))),
    ]
    lines += [tx.command(Operation(Verb.ADD, chain)) for chain in ruleset.chains.values()]
    lines += [tx.command(Operation(Verb.ADD, d)) for d in ruleset.sets.values()]
    operations = len(lines)
    for owner, elements in ruleset.elements.items():
        if elements:
            texts = ", ".join(element.text() for element in elements.values())
            lines.append(f"add element {head} {owner} {{ {texts} }}")
            operations += len(elements)
    for chain, rules in ruleset.rules.items():
        prefix = f"add rule {head} {chain} "
        lines += [prefix + rule.text() for rule in rules]
        operations += len(rules)
    return "".join(line + "\n" for line in lines), operations
