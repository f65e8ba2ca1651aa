"""A desired ruleset (or one fragment of it), and the transaction that loads it whole.

A full load replaces the table atomically in one `nft -f` batch; updates between fragmented
rulesets are `fragments.update`. Pure: no I/O here.
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
