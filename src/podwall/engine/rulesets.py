"""Policies compiled to bitsets over identities and masks over port atoms.

Which identities a selector or peer selects is the selector cache's answer, computed once per
(namespace, selector) and shared. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress

from podwall.engine.atoms import Atoms
from podwall.engine.identities import Identities, Identity
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster
from podwall.model.policy import NetworkPolicy, PolicyType, Rule
from podwall.model.ports import Protocol
from podwall.model.record import Record, field

# A contribution: the sources (or, for egress, the senders) it covers, and the atoms it opens.
Contribution = tuple[int, int]
# A port range the atoms must not split: (protocol, first, last).
Cut = tuple[Protocol, int, int]
# A contribution as the lists hold it: an index into `RuleSet.values`.
Cell = int
# A rule that makes a cell, to find its bits again over more identities: the policy, and for
# ingress the rule whose peers they are (None: egress, whose bits are the policy's pods).
Recipe = tuple[NetworkPolicy, Rule | None]


# A result read field by field, never compared or hashed: identity equality is enough.
class RuleSet(Record, frozen=False, eq=False):
    """Every policy rule compiled to bitsets over identities and port atoms, per direction.

    The lists hold cells, one per distinct contribution: a destination's rules are keyed by
    small ints (`key_of`), not by hashing each (bits, mask) pair of big ints per
    destination. The two sides of a review share their cells, so keys agree across the
    sides; a side with more identities (a review that relabels pods) keeps the other's lists
    and gives the cells their bits over its identities (`values`), found again from the
    rules that make them (`recipes`)."""

    atoms: Atoms
    all_bits: int
    not_egress_isolated: int = 0
    # Egress rules whose peers are every identity and whose ports do not depend on the
    # destination: (sender bits, atoms), shared by every destination.
    egress_to_all: list[Cell] = field(default_factory=list)
    egress_to: list[list[Cell]] = field(default_factory=list)  # per destination
    ingress_of: list[list[Cell] | None] = field(default_factory=list)  # None: open
    values: list[Contribution] = field(default_factory=list)  # cell -> its value here
    cells: dict[Contribution, Cell] = field(default_factory=dict)  # value -> its cell here
    recipes: list[list[Recipe]] = field(default_factory=list)  # cell -> the rules making it
    policies: tuple[NetworkPolicy, ...] = ()  # those compiled, for `compile_rules(earlier=)`
    ingress_isolated: int = 0  # the identities some policy isolates for ingress

    def key_of(self, cells: list[Cell] | None) -> tuple[Cell, ...] | None:
        """A key equal for two lists of the same contributions in the same order."""
        return None if cells is None else tuple(cells)

    def contributions(self, cells: list[Cell]) -> list[Contribution]:
        return list(map(self.values.__getitem__, cells))

    def ingress(self, dst: int) -> list[Contribution] | None:
        """The ingress contributions of identity `dst`; None when no policy isolates it."""
        cells = self.ingress_of[dst]
        return None if cells is None else self.contributions(cells)

    def egress(self, dst: int) -> list[Contribution]:
        """The egress contributions that reach identity `dst` (besides `to_all`)."""
        return self.contributions(self.egress_to[dst])

    def to_all(self) -> list[Contribution]:
        return self.contributions(self.egress_to_all)


def compile_rules(
    cluster: Cluster,
    selectors: SelectorCache,
    cuts: Iterable[Cut] = (),
    other: RuleSet | None = None,
    earlier: RuleSet | None = None,
) -> RuleSet:
    """The rules of the snapshot's policies; `selectors` follows that snapshot. Ports also
    split at `cuts` (the ClusterNetworkPolicies' ports); `other` is the other side of a
    pair, whose cells this side shares.

    `earlier` is the other side's rules over a prefix of these identities (the same
    selector cache, namespaces alike: an identity's selectors match it alike on both
    sides). When its atoms already cut at every port the policies only this side has (and
    its new identities) name, only what differs is compiled, over its atoms: finer than
    this side alone needs where a policy it lacks named ports, which changes no set of
    ports, only how many atoms spell it. Its lists are kept: the policies that differ are
    patched in (`_patched`), and the identities it lacks are compiled on their own
    (`_grown`)."""
    identities = selectors.identities
    cuts = list(cuts)
    if earlier is not None:
        found = _from_earlier(earlier, cluster.policies, selectors, cuts)
        if found is not None:
            return found
    atoms = Atoms([*_policy_cuts(cluster.policies), *_named_cuts(identities.items), *cuts])
    rules = _empty(atoms, identities, other)
    _compile_into(rules, selectors, cluster.policies)
    return rules


def _from_earlier(
    earlier: RuleSet,
    policies: tuple[NetworkPolicy, ...],
    selectors: SelectorCache,
    cuts: list[Cut],
) -> RuleSet | None:
    """`earlier` patched into this side's rules, or None when it cannot be."""
    items = selectors.identities.items
    grown = items[len(earlier.egress_to) :]
    gone, new = _difference(earlier.policies, policies)
    needed = (*_policy_cuts(new), *_named_cuts(grown), *cuts)
    if not all(earlier.atoms.cut_along(*cut) for cut in needed):
        return None
    rules = _grown(earlier, selectors) if grown else _kept(earlier)
    if rules is None:
        return None
    return _patched(rules, earlier, policies, gone, new, selectors)


def _empty(atoms: Atoms, identities: Identities, other: RuleSet | None) -> RuleSet:
    n = len(identities.items)
    rules = RuleSet(atoms=atoms, all_bits=identities.all_bits)
    rules.egress_to = [[] for _ in range(n)]
    rules.ingress_of = [None] * n
    if other is not None:
        _share_cells(rules, other)
    return rules


def _share_cells(rules: RuleSet, other: RuleSet) -> None:
    rules.values, rules.cells, rules.recipes = other.values, other.cells, other.recipes


def _compile_into(
    rules: RuleSet,
    selectors: SelectorCache,
    policies: tuple[NetworkPolicy, ...],
    only: int | None = None,
) -> None:
    """The contributions of `policies`, to the destinations in `only` (None: all)."""
    egress_isolated = 0
    for policy in policies:
        selected = selectors.selected(policy.namespace, policy.pod_selector)
        if not selected:
            continue
        if PolicyType.INGRESS in policy.policy_types:
            rules.ingress_isolated |= selected
            dsts = selected if only is None else selected & only
            if dsts:
                _add_ingress(rules, selectors, policy, dsts)
        if PolicyType.EGRESS in policy.policy_types:
            egress_isolated |= selected
            _add_egress(rules, selectors, policy, selected, only)
    rules.not_egress_isolated = rules.all_bits & ~egress_isolated
    rules.policies = policies


def _kept(earlier: RuleSet) -> RuleSet:
    """`earlier`'s rules as this side's, over the same identities: its lists (copied when
    changed, `_apply`) and its cells."""
    rules = RuleSet(
        atoms=earlier.atoms,
        all_bits=earlier.all_bits,
        egress_to_all=list(earlier.egress_to_all),
        egress_to=list(earlier.egress_to),  # the lists themselves are copied when changed
        ingress_of=list(earlier.ingress_of),
        policies=earlier.policies,
        ingress_isolated=earlier.ingress_isolated,
    )
    _share_cells(rules, earlier)
    return rules


def _grown(earlier: RuleSet, selectors: SelectorCache) -> RuleSet | None:
    """`earlier`'s policies over this side's identities, which are `earlier`'s and more:
    an identity's selectors match it alike on both sides, so the lists of `earlier`'s
    identities hold the same cells, whose bits gain only the new identities (found again
    from their recipes), and the new identities' lists are compiled on their own. None when
    two rules making one cell disagree on the new identities (a cell is one value), or
    when a policy with egress rules selects new identities and selected none before."""
    identities = selectors.identities
    new = identities.all_bits & ~earlier.all_bits
    for policy in earlier.policies:
        if policy.egress and PolicyType.EGRESS in policy.policy_types:
            selected = selectors.selected(policy.namespace, policy.pod_selector)
            if selected & new and not selected & earlier.all_bits:
                return None  # it selected no pod there: its egress cells were never made
    values = _regrown(earlier, selectors)
    if values is None:
        return None
    # Distinct on `earlier`'s identities, so distinct here too: one cell per value still.
    cells = {value: cell for cell, value in enumerate(values)}
    more = len(identities.items) - len(earlier.egress_to)
    rules = RuleSet(
        atoms=earlier.atoms,
        all_bits=identities.all_bits,
        egress_to_all=list(earlier.egress_to_all),
        egress_to=[*earlier.egress_to, *([] for _ in range(more))],
        ingress_of=[*earlier.ingress_of, *([None] * more)],
        values=values,
        cells=cells,
        recipes=earlier.recipes,
        ingress_isolated=earlier.ingress_isolated,
    )
    _compile_into(rules, selectors, earlier.policies, only=new)
    return rules


def _regrown(earlier: RuleSet, selectors: SelectorCache) -> list[Contribution] | None:
    """Each cell's value over the selector cache's identities now; None on a disagreement."""
    all_bits = selectors.identities.all_bits
    values: list[Contribution] = []
    for (_, mask), recipes in zip(earlier.values, earlier.recipes, strict=True):
        found = -1
        for policy, rule in recipes:
            if rule is None:
                bits = selectors.selected(policy.namespace, policy.pod_selector)
            else:
                bits = _peer_bits(all_bits, selectors, policy, rule)
            if found != bits:
                if found >= 0:
                    return None
                found = bits
        values.append((found, mask))
    return values


def _patched(
    rules: RuleSet,
    earlier: RuleSet,
    policies: tuple[NetworkPolicy, ...],
    gone: tuple[NetworkPolicy, ...],
    new: tuple[NetworkPolicy, ...],
    selectors: SelectorCache,
) -> RuleSet:
    """`rules` (`earlier`'s policies over this side's identities) less the contributions of
    the policies `policies` lacks, plus those of the policies only `policies` has. The two
    sides of a review differ in a few policies; copying the other side's lists (only those
    that change) costs far less than compiling every rule again. The lists' order may
    differ from a full compile's; what a destination is allowed does not depend on it."""
    was_isolated = rules.ingress_isolated
    isolated = egress_isolated = 0
    for policy in policies:
        selected = selectors.selected(policy.namespace, policy.pod_selector)
        if PolicyType.INGRESS in policy.policy_types:
            isolated |= selected
        if PolicyType.EGRESS in policy.policy_types:
            egress_isolated |= selected
    rules.ingress_isolated = isolated
    rules.not_egress_isolated = rules.all_bits & ~egress_isolated
    rules.policies = policies
    for dst in selectors.indices(was_isolated & ~isolated):
        rules.ingress_of[dst] = None  # no policy isolates it any more
    for dst in selectors.indices(isolated & ~was_isolated):
        rules.ingress_of[dst] = []
    for delta, removing in ((gone, True), (new, False)):
        if delta:
            part = _empty(rules.atoms, selectors.identities, rules)
            _compile_into(part, selectors, delta)
            _apply(rules, part, removing)
    return rules


def _difference(
    before: tuple[NetworkPolicy, ...], after: tuple[NetworkPolicy, ...]
) -> tuple[tuple[NetworkPolicy, ...], tuple[NetworkPolicy, ...]]:
    """(the policies only `before` has, those only `after` has), as multisets of values."""
    left: dict[tuple[str, str], list[NetworkPolicy]] = {}
    for policy in before:
        left.setdefault((policy.namespace, policy.name), []).append(policy)
    new: list[NetworkPolicy] = []
    for policy in after:
        same = left.get((policy.namespace, policy.name), [])
        for i, candidate in enumerate(same):
            if candidate is policy or candidate == policy:
                del same[i]
                break
        else:
            new.append(policy)
    return tuple(p for ps in left.values() for p in ps), tuple(new)


def _apply(rules: RuleSet, part: RuleSet, removing: bool) -> None:
    """Take `part`'s contributions out of `rules` (or add them), copying each list changed."""
    if removing:
        rules.egress_to_all = _without(rules.egress_to_all, part.egress_to_all)
    else:
        rules.egress_to_all += part.egress_to_all
    for table, changes in ((rules.egress_to, part.egress_to), (rules.ingress_of, part.ingress_of)):
        # Only the destinations `part` has contributions for, found at C speed.
        for dst, entries in compress(enumerate(changes), changes):
            current = table[dst]
            if current is None or entries is None:  # ingress: no longer isolated, or never
                continue
            table[dst] = _without(current, entries) if removing else [*current, *entries]


def _without(entries: list[Cell], gone: list[Cell]) -> list[Cell]:
    """`entries` less one occurrence of each of `gone`."""
    kept = list(entries)
    for entry in gone:
        kept.remove(entry)
    return kept


def _policy_cuts(policies: Iterable[NetworkPolicy]) -> list[Cut]:
    """The port ranges the policies name by number."""
    cuts: list[Cut] = []
    for policy in policies:
        for rule in (*policy.ingress, *policy.egress):
            for port in rule.ports:
                if isinstance(port.port, int):
                    end = port.end_port if port.end_port is not None else port.port
                    cuts.append((port.protocol, port.port, end))
    return cuts


def _named_cuts(items: Iterable[Identity]) -> list[Cut]:
    """The ports the identities' named ports stand for."""
    cuts: list[Cut] = []
    for ident in items:
        cuts += [(port.protocol, port.number, port.number) for port in ident.named_ports]
    return cuts


def _cell(rules: RuleSet, value: Contribution, recipe: Recipe) -> Cell:
    """The cell of `value`, made by `recipe` (among others)."""
    cell = rules.cells.get(value)
    if cell is None:
        cell = rules.cells[value] = len(rules.values)
        rules.values.append(value)
        rules.recipes.append([recipe])
    else:
        made = rules.recipes[cell]
        if made[-1] is not recipe:  # a named-port rule asks once per destination
            made.append(recipe)
    return cell


def _peer_bits(all_bits: int, selectors: SelectorCache, policy: NetworkPolicy, rule: Rule) -> int:
    if not rule.peers:
        return all_bits
    bits = 0
    for peer in rule.peers:
        bits |= selectors.peer(policy, peer)
    return bits


def _static_mask(atoms: Atoms, rule: Rule) -> tuple[int, tuple[tuple[str, Protocol], ...]]:
    """The atoms a rule opens whatever the destination, and its named ports."""
    if not rule.ports:
        return atoms.all_mask, ()
    mask = 0
    named: list[tuple[str, Protocol]] = []
    for port in rule.ports:
        if port.port is None:
            mask |= atoms.protocol_mask(port.protocol)
        elif isinstance(port.port, str):
            named.append((port.port, port.protocol))
        else:
            end = port.end_port if port.end_port is not None else port.port
            mask |= atoms.range_mask(port.protocol, port.port, end)
    return mask, tuple(named)


def _mask_for(
    rules: RuleSet, ids: Identities, dst: int, static: int, named: tuple[tuple[str, Protocol], ...]
) -> int:
    mask = static
    for name, proto in named:
        number = ids.items[dst].named_port(name, proto)
        if number is not None:
            mask |= rules.atoms.port_mask(proto, number)
    return mask


def _add_ingress(
    rules: RuleSet, selectors: SelectorCache, policy: NetworkPolicy, selected: int
) -> None:
    dsts = selectors.indices(selected)
    for dst in dsts:
        if rules.ingress_of[dst] is None:
            rules.ingress_of[dst] = []
    ingress_of = rules.ingress_of
    for rule in policy.ingress:
        # Added even when no source matches: with more identities (`_grown`) some may.
        sources = _peer_bits(rules.all_bits, selectors, policy, rule)
        static, named = _static_mask(rules.atoms, rule)
        recipe = (policy, rule)
        if not named:  # the same ports for every destination: one entry, shared
            if static:
                shared = _cell(rules, (sources, static), recipe)
                for dst in dsts:
                    ingress_of[dst].append(shared)  # type: ignore[union-attr]
            continue
        for dst in dsts:
            mask = _mask_for(rules, selectors.identities, dst, static, named)
            if mask:
                ingress_of[dst].append(_cell(rules, (sources, mask), recipe))  # type: ignore[union-attr]


def _add_egress(
    rules: RuleSet,
    selectors: SelectorCache,
    policy: NetworkPolicy,
    selected: int,
    only: int | None = None,
) -> None:
    """Egress contributions to the destinations in `only` (None: all, and to every one)."""
    recipe: Recipe = (policy, None)
    for rule in policy.egress:
        reached = _peer_bits(rules.all_bits, selectors, policy, rule)
        if only is not None:
            reached &= only
            if not reached:  # most rules, when only a few new identities are compiled
                continue
        static, named = _static_mask(rules.atoms, rule)
        if not rule.peers and not named:
            if only is None:
                rules.egress_to_all.append(_cell(rules, (selected, static), recipe))
            continue
        dsts = selectors.indices(reached)
        if not named:  # the same ports for every destination: one entry, shared
            if static:
                egress_to, shared = rules.egress_to, _cell(rules, (selected, static), recipe)
                for dst in dsts:
                    egress_to[dst].append(shared)
            continue
        for dst in dsts:
            mask = _mask_for(rules, selectors.identities, dst, static, named)
            if mask:
                rules.egress_to[dst].append(_cell(rules, (selected, mask), recipe))
