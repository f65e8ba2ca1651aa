"""A ruleset in fragments, and the transaction between two fragmented rulesets.

A fragment owns its chains and sets (a policy's chain, a peer's set, a namespace's class
chains); it may add elements to a map another fragment owns (the verdict maps, the services
map). A compiler reuses the very same fragment object when nothing it depends on changed,
so an update only looks at fragments that are not identical: its cost follows the change,
not the cluster. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from podwall.nft.objects import Chain, Element, Map, Rule, Set
from podwall.nft.ruleset import TABLE, Ruleset, full_script, full_transaction
from podwall.nft.transaction import Transaction

FragmentKey = tuple[str, ...]
Fragments = Mapping[FragmentKey, Ruleset]


def flatten(fragments: Fragments) -> Ruleset:
    """One ruleset holding every fragment, sets and chains in a stable order."""
    whole = Ruleset()
    for key in sorted(fragments):
        whole.merge(fragments[key])
    return whole


def full(fragments: Fragments) -> Transaction:
    return full_transaction(flatten(fragments))


def full_text(fragments: Fragments) -> tuple[str, int]:
    """`full(fragments).render()` and its number of operations, faster (see full_script)."""
    return full_script(flatten(fragments))


@dataclass(kw_only=True)
class _Plan:
    """The operations of an update, grouped in the order nft needs them."""

    add_chains: list[Chain] = field(default_factory=list)
    add_sets: list[Set | Map] = field(default_factory=list)
    del_elements: list[Element] = field(default_factory=list)
    add_elements: list[Element] = field(default_factory=list)
    rewrite: list[tuple[Chain, list[Rule], bool]] = field(default_factory=list)  # flush first?
    del_chains: list[Chain] = field(default_factory=list)
    del_sets: list[Set | Map] = field(default_factory=list)

    def transaction(self) -> Transaction:
        tx = Transaction(TABLE)
        for chain in self.add_chains:
            tx.add(chain)
        for definition in self.add_sets:
            tx.add(definition)
        # Stale elements first: an interval set refuses a new element overlapping a leaving one.
        for element in self.del_elements:
            tx.delete(element)
        for element in self.add_elements:
            tx.add(element)
        for chain, rules, flush in self.rewrite:
            if flush:
                tx.flush(chain)
            for rule in rules:
                tx.add(rule)
        for chain in self.del_chains:  # nothing jumps to them any more: flush, then delete
            tx.flush(chain)
        for chain in self.del_chains:
            tx.delete(chain)
        for definition in self.del_sets:
            tx.delete(definition)
        return tx


def update(
    old: Fragments, new: Fragments, keys: Iterable[FragmentKey] | None = None
) -> Transaction:
    """The batch from `old` to `new`, looking only at fragments that are not the same object;
    only at `keys` when given (every key whose fragment may differ, as `Compiler.touched`)."""
    plan = _Plan()
    empty = Ruleset()
    if keys is None:
        keys = set(new).union(old)
    for key in sorted(keys):
        before, after = old.get(key, empty), new.get(key, empty)
        if before is not after:
            _diff(plan, before, after)
    return plan.transaction()


def _diff(plan: _Plan, old: Ruleset, new: Ruleset) -> None:
    patch = new.patch
    if patch is not None and patch.applies_to(old):
        plan.del_elements += [old.elements[patch.set_name][k] for k in patch.removed]
        plan.add_elements += [new.elements[patch.set_name][k] for k in patch.added]
        return
    plan.add_chains += [c for name, c in new.chains.items() if name not in old.chains]
    plan.add_sets += [s for name, s in new.sets.items() if name not in old.sets]
    for owner, elements in old.elements.items():
        if owner in old.sets and owner not in new.sets:
            continue  # the set goes, and its elements with it
        after = new.elements.get(owner, {})
        # `is` first: a patched set keeps the very Element objects it did not change.
        plan.del_elements += [
            e for k, e in elements.items() if (a := after.get(k)) is not e and a != e
        ]
    for owner, elements in new.elements.items():
        before = old.elements.get(owner, {})
        plan.add_elements += [
            e for k, e in elements.items() if (b := before.get(k)) is not e and b != e
        ]
    for name, rules in new.rules.items():
        if old.rules.get(name) != rules:
            plan.rewrite.append((new.chains[name], rules, name in old.chains))
    plan.del_chains += [c for name, c in old.chains.items() if name not in new.chains]
    plan.del_sets += [s for name, s in old.sets.items() if name not in new.sets]
