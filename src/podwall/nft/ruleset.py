"""A desired ruleset, and the one transaction that moves nft from one ruleset to another.

A full load replaces the table atomically; an update touches only what changed: set and map
elements, the rules of changed chains, new and removed chains and sets. Either way it is one
`nft -f` batch, so nft applies all of it or nothing. Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podwall.nft.objects import Chain, Element, Map, Rule, Set, Table
from podwall.nft.transaction import Transaction

TABLE = "podwall"


@dataclass(kw_only=True)
class Ruleset:
    """Chains in creation order with their rules, and sets/maps with their elements."""

    chains: dict[str, Chain] = field(default_factory=dict)
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    sets: dict[str, Set | Map] = field(default_factory=dict)
    elements: dict[str, dict[tuple[str, ...], Element]] = field(default_factory=dict)

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
        self.elements[element.owner][element.key] = element

    def rule_count(self) -> int:
        return sum(len(r) for r in self.rules.values())

    def element_count(self) -> int:
        return sum(len(e) for e in self.elements.values())


def full_transaction(ruleset: Ruleset) -> Transaction:
    """Replace the whole table: add (so delete cannot fail), delete, then build anew."""
    tx = Transaction(TABLE)
    tx.add(Table())
    tx.delete(Table())
    tx.add(Table(comment="podwall NetworkPolicy dataplane"))
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


def update_transaction(old: Ruleset, new: Ruleset) -> Transaction:
    """The smallest batch from `old` to `new`; empty when nothing changed."""
    tx = Transaction(TABLE)
    for name, chain in new.chains.items():
        if name not in old.chains:
            tx.add(chain)
    for name, definition in new.sets.items():
        if name not in old.sets:
            tx.add(definition)
    # Stale elements go first: an interval set refuses a new element that overlaps an old one
    # (198.18.0.0/30 becoming 198.18.0.2), and within one batch nothing is ever open.
    _remove_stale_elements(tx, old, new)
    _add_elements(tx, old, new)
    for name, rules in new.rules.items():
        if name in old.rules and old.rules[name] == rules:
            continue
        if name in old.chains:
            tx.flush(new.chains[name])
        for rule in rules:
            tx.add(rule)
    _remove_stale(tx, old, new)
    return tx


def _add_elements(tx: Transaction, old: Ruleset, new: Ruleset) -> None:
    for name, elements in new.elements.items():
        before = old.elements.get(name, {})
        for key, element in elements.items():
            previous = before.get(key)
            if previous == element:
                continue
            if previous is not None:  # a map element whose verdict changed
                tx.delete(previous)
            tx.add(element)


def _remove_stale_elements(tx: Transaction, old: Ruleset, new: Ruleset) -> None:
    for name, elements in old.elements.items():
        if name not in new.sets:
            continue
        after = new.elements[name]
        for key, element in elements.items():
            if key not in after:
                tx.delete(element)


def _remove_stale(tx: Transaction, old: Ruleset, new: Ruleset) -> None:
    # Rules referencing a stale chain or set are gone by now: flush, then delete.
    for name, chain in old.chains.items():
        if name not in new.chains:
            tx.flush(chain)
    for name, chain in old.chains.items():
        if name not in new.chains:
            tx.delete(chain)
    for name, definition in old.sets.items():
        if name not in new.sets:
            tx.delete(definition)
