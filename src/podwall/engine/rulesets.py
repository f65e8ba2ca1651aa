"""Policies compiled to bitsets over identities and masks over port atoms.

Which identities a selector or peer selects is the selector cache's answer, computed once per
(namespace, selector) and shared. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress

from podwall.engine.atoms import Atoms
from podwall.engine.identities import Identities
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster
from podwall.model.policy import NetworkPolicy, PolicyType, Rule
from podwall.model.ports import Protocol
from podwall.model.record import Record, field

# A contribution: the sources (or, for egress, the senders) it covers, and the atoms it opens.
Contribution = tuple[int, int]
# A port range the atoms must not split: (protocol, first, last).
Cut = tuple[Protocol, int, int]


# A result read field by field, never compared or hashed: identity equality is enough.
class RuleSet(Record, frozen=False, eq=False):
    """Every policy rule compiled to bitsets over identities and port atoms, per direction."""

    atoms: Atoms
    all_bits: int
    not_egress_isolated: int = 0
    # Egress rules whose peers are every identity and whose ports do not depend on the
    # destination: (sender bits, atoms), shared by every destination.
    egress_to_all: list[Contribution] = field(default_factory=list)
    egress_to: list[list[Contribution]] = field(default_factory=list)  # per destination
    ingress_of: list[list[Contribution] | None] = field(default_factory=list)  # None: open
    # Every contribution in the lists above is the one object of its value here, so a list's
    # contributions are told apart by `id()`: a destination's rules are keyed by small ints
    # instead of hashing each (bits, mask) pair of big ints again per destination. A pair of
    # snapshots shares one table (`compile_rules(interned=)`), so keys agree across sides.
    interned: dict[Contribution, Contribution] = field(default_factory=dict)
    policies: tuple[NetworkPolicy, ...] = ()  # those compiled, for `compile_rules(earlier=)`
    ingress_isolated: int = 0  # the identities some policy isolates for ingress

    def key_of(self, contributions: list[Contribution] | None) -> tuple[int, ...] | None:
        """A key equal for two lists of the same contributions in the same order."""
        return None if contributions is None else tuple(map(id, contributions))


def compile_rules(
    cluster: Cluster,
    selectors: SelectorCache,
    cuts: Iterable[Cut] = (),
    interned: dict[Contribution, Contribution] | None = None,
    earlier: RuleSet | None = None,
) -> RuleSet:
    """The rules of the snapshot's policies; `selectors` follows that snapshot. Ports also
    split at `cuts` (the ClusterNetworkPolicies' ports); `interned` is the other side's
    table of a pair (see `RuleSet.interned`).

    `earlier` is the other side's rules over these very identities (its pods were placed
    alike, `selectors` has not moved since). When its atoms already cut at every port the
    policies only this side has name, only the policies that differ are compiled
    (`_patched`), over its atoms: finer than this side alone needs where a policy it lacks
    named ports, which changes no set of ports, only how many atoms spell it."""
    identities = selectors.identities
    cuts = list(cuts)
    if earlier is not None and len(earlier.egress_to) == len(identities.items):
        gone, new = _difference(earlier.policies, cluster.policies)
        if all(earlier.atoms.cut_along(*cut) for cut in (*_policy_cuts(new), *cuts)):
            return _patched(earlier, cluster.policies, gone, new, selectors)
    atoms = Atoms([*_policy_cuts(cluster.policies), *_named_cuts(identities), *cuts])
    rules = _empty(atoms, identities, interned)
    _compile_into(rules, selectors, cluster.policies)
    return rules


def _empty(
    atoms: Atoms, identities: Identities, interned: dict[Contribution, Contribution] | None
) -> RuleSet:
    n = len(identities.items)
    rules = RuleSet(atoms=atoms, all_bits=identities.all_bits)
    rules.egress_to = [[] for _ in range(n)]
    rules.ingress_of = [None] * n
    if interned is not None:
        rules.interned = interned
    return rules


def _compile_into(
    rules: RuleSet, selectors: SelectorCache, policies: tuple[NetworkPolicy, ...]
) -> None:
    egress_isolated = 0
    for policy in policies:
        selected = selectors.selected(policy.namespace, policy.pod_selector)
        if not selected:
            continue
        if PolicyType.INGRESS in policy.policy_types:
            rules.ingress_isolated |= selected
            _add_ingress(rules, selectors, policy, selected)
        if PolicyType.EGRESS in policy.policy_types:
            egress_isolated |= selected
            _add_egress(rules, selectors, policy, selected)
    rules.not_egress_isolated = rules.all_bits & ~egress_isolated
    rules.policies = policies


def _patched(
    earlier: RuleSet,
    policies: tuple[NetworkPolicy, ...],
    gone: tuple[NetworkPolicy, ...],
    new: tuple[NetworkPolicy, ...],
    selectors: SelectorCache,
) -> RuleSet:
    """`earlier` less the contributions of the policies it has and `policies` lacks, plus
    those of the policies only `policies` has. The two sides of a review differ in a few
    policies; copying the other side's lists (only those that change) costs far less than
    compiling every rule again. The lists' order may differ from a full compile's; what a
    destination is allowed does not depend on it."""
    rules = RuleSet(
        atoms=earlier.atoms,
        all_bits=earlier.all_bits,
        egress_to_all=list(earlier.egress_to_all),
        egress_to=list(earlier.egress_to),  # the lists themselves are copied when changed
        ingress_of=list(earlier.ingress_of),
        interned=earlier.interned,
        policies=policies,
    )
    isolated = egress_isolated = 0
    for policy in policies:
        selected = selectors.selected(policy.namespace, policy.pod_selector)
        if PolicyType.INGRESS in policy.policy_types:
            isolated |= selected
        if PolicyType.EGRESS in policy.policy_types:
            egress_isolated |= selected
    rules.ingress_isolated = isolated
    rules.not_egress_isolated = rules.all_bits & ~egress_isolated
    for dst in selectors.indices(earlier.ingress_isolated & ~isolated):
        rules.ingress_of[dst] = None  # no policy isolates it any more
    for dst in selectors.indices(isolated & ~earlier.ingress_isolated):
        rules.ingress_of[dst] = []
    for delta, removing in ((gone, True), (new, False)):
        if delta:
            part = _empty(rules.atoms, selectors.identities, rules.interned)
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
    for entry in part.egress_to_all:
        if removing:
            rules.egress_to_all.remove(entry)
        else:
            rules.egress_to_all.append(entry)
    for table, changes in ((rules.egress_to, part.egress_to), (rules.ingress_of, part.ingress_of)):
        # Only the destinations `part` has contributions for, found at C speed.
        for dst, entries in compress(enumerate(changes), changes):
            current = table[dst]
            if current is None or entries is None:  # ingress: no longer isolated, or never
                continue
            table[dst] = _without(current, entries) if removing else [*current, *entries]


def _without(entries: list[Contribution], gone: list[Contribution]) -> list[Contribution]:
    """`entries` less one occurrence of each of `gone`."""
    kept = list(entries)
    for entry in gone:
        kept.remove(entry)  # the interned object itself: found by identity as it is reached
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


def _named_cuts(identities: Identities) -> list[Cut]:
    """The ports the identities' named ports stand for."""
    cuts: list[Cut] = []
    for ident in identities.items:
        cuts += [(port.protocol, port.number, port.number) for port in ident.named_ports]
    return cuts


def _intern(rules: RuleSet, contribution: Contribution) -> Contribution:
    return rules.interned.setdefault(contribution, contribution)


def _peer_bits(rules: RuleSet, selectors: SelectorCache, policy: NetworkPolicy, rule: Rule) -> int:
    if not rule.peers:
        return rules.all_bits
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
    for rule in policy.ingress:
        sources = _peer_bits(rules, selectors, policy, rule)
        static, named = _static_mask(rules.atoms, rule)
        if not named:  # the same ports for every destination: one entry, shared
            if static and sources:
                shared = _intern(rules, (sources, static))
                for dst in dsts:
                    entry = rules.ingress_of[dst]
                    if entry is not None:
                        entry.append(shared)
            continue
        for dst in dsts:
            mask = _mask_for(rules, selectors.identities, dst, static, named)
            entry = rules.ingress_of[dst]
            if mask and sources and entry is not None:
                entry.append(_intern(rules, (sources, mask)))


def _add_egress(
    rules: RuleSet, selectors: SelectorCache, policy: NetworkPolicy, selected: int
) -> None:
    for rule in policy.egress:
        static, named = _static_mask(rules.atoms, rule)
        if not rule.peers and not named:
            rules.egress_to_all.append((selected, static))
            continue
        dsts = selectors.indices(_peer_bits(rules, selectors, policy, rule))
        if not named:  # the same ports for every destination: one entry, shared
            if static:
                egress_to, shared = rules.egress_to, _intern(rules, (selected, static))
                for dst in dsts:
                    egress_to[dst].append(shared)
            continue
        for dst in dsts:
            mask = _mask_for(rules, selectors.identities, dst, static, named)
            if mask:
                rules.egress_to[dst].append(_intern(rules, (selected, mask)))
