"""The connectivity map's destinations when ClusterNetworkPolicy tiers take part.

Per destination identity, the sources are partitioned by what each side's tiers left them:
Admin accepted and denied atoms (first matching entry wins; Pass and no match fall through),
the NetworkPolicy tier's allowed atoms when that side is isolated, and Baseline's denied
atoms otherwise (Baseline Accept, Pass and no match all end in the default allow). A side's
allowed atoms are then `accepted | (undecided & lower)`, and a connection needs both sides'.
This is `tiers.tiered` over bitsets; the property tests hold the two equal. Pure: no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from podwall.engine.identities import Identity
from podwall.engine.rulesets import Contribution, RuleSet
from podwall.engine.tierrules import Entry, TierRules
from podwall.model.clusterpolicy import Action, Tier
from podwall.model.policy import Direction

# What one side's tiers left a set of sources: Admin undecided, accepted and denied atoms;
# whether the NetworkPolicy tier isolates that side (1 or 0) and the atoms it allows; Baseline
# undecided and denied atoms.
State = tuple[int, int, int, int, int, int, int]
Parts = dict[State, int]  # state -> the source bits in it
Sides = dict[int, int]  # allowed atom mask -> the source bits allowed them
_UND_A, _UND_B = 0, 5  # the fields of each tier's undecided atoms


def destinations(
    rules: RuleSet, tiers: TierRules, identities: Iterable[Identity]
) -> list[list[Contribution]]:
    """For each destination identity, (source bits, allowed atoms) pairs."""
    everything = rules.atoms.all_mask
    isolated = rules.all_bits & ~rules.not_egress_isolated
    egress_base: Parts = {}
    for bits, iso in ((isolated, 1), (rules.not_egress_isolated, 0)):
        if bits:
            egress_base[_fresh(everything, iso)] = bits
    egress_base = _refine_np(egress_base, rules.to_all())
    # The two sides of a destination are computed once per distinct set of rules about it,
    # then combined once per distinct pair: many destinations share either side.
    egress_memo: dict[tuple[object, ...], Sides] = {}
    ingress_memo: dict[tuple[object, ...], Sides] = {}
    memo: dict[tuple[int, int], list[Contribution]] = {}
    out = []
    for dst in identities:
        d = dst.index
        ingress_key = (
            rules.key_of(rules.ingress_of[d]),
            *(tuple(tiers.of(t, Direction.INGRESS, d)) for t in Tier),
        )
        ingress = ingress_memo.get(ingress_key)
        if ingress is None:
            parts = _ingress(rules, tiers, d, everything)
            ingress = ingress_memo[ingress_key] = _by_mask(parts, everything)
        egress_key = (
            rules.key_of(rules.egress_to[d]),
            *(tuple(tiers.of(t, Direction.EGRESS, d)) for t in Tier),
        )
        egress = egress_memo.get(egress_key)
        if egress is None:
            parts = _egress(rules, tiers, d, egress_base, everything)
            egress = egress_memo[egress_key] = _by_mask(parts, everything)
        pair = (id(egress), id(ingress))
        found = memo.get(pair)
        if found is None:
            found = memo[pair] = _both(egress, ingress)
        out.append(found)
    return out


def _fresh(everything: int, iso: int) -> State:
    return (everything, 0, 0, iso, 0, everything, 0)


def _ingress(rules: RuleSet, tiers: TierRules, d: int, everything: int) -> Parts:
    np = rules.ingress(d)
    parts: Parts = {_fresh(everything, 0 if np is None else 1): rules.all_bits}
    parts = _refine_tier(parts, tiers.of(Tier.ADMIN, Direction.INGRESS, d), _admin, _UND_A)
    parts = _refine_np(parts, np or ())
    return _refine_tier(parts, tiers.of(Tier.BASELINE, Direction.INGRESS, d), _baseline, _UND_B)


def _egress(rules: RuleSet, tiers: TierRules, d: int, base: Parts, everything: int) -> Parts:
    parts = _refine_tier(base, tiers.of(Tier.ADMIN, Direction.EGRESS, d), _admin, _UND_A)
    parts = _refine_np(parts, rules.egress(d))
    return _refine_tier(parts, tiers.of(Tier.BASELINE, Direction.EGRESS, d), _baseline, _UND_B)


def _admin(state: State, *, mask: int, action: Action) -> State:
    und, acc, deny, iso, np, und_b, deny_b = state
    hits = mask & und
    if not hits:
        return state
    if action is Action.ACCEPT:
        acc |= hits
    elif action is Action.DENY:
        deny |= hits
    return (und & ~hits, acc, deny, iso, np, und_b, deny_b)


def _baseline(state: State, *, mask: int, action: Action) -> State:
    und, acc, deny, iso, np, und_b, deny_b = state
    hits = mask & und_b
    if not hits:
        return state
    if action is Action.DENY:
        deny_b |= hits
    return (und, acc, deny, iso, np, und_b & ~hits, deny_b)


def _refine_tier(
    parts: Parts, entries: list[Entry], update: Callable[..., State], index: int
) -> Parts:
    """Entries in order; `index` is the state's field of the tier's undecided atoms."""
    for bits, mask, action in entries:
        parts = _refine(parts, bits, functools.partial(update, mask=mask, action=action))
        if not any(state[index] for state in parts):
            break  # every source is decided in this tier: later entries change nothing
    return parts


def _refine_np(parts: Parts, contributions: Iterable[Contribution]) -> Parts:
    for bits, mask in contributions:
        parts = _refine(parts, bits, functools.partial(_allow, mask=mask))
    return parts


def _allow(state: State, mask: int) -> State:
    """The NetworkPolicy tier allows `mask` too."""
    und, acc, deny, iso, np, und_b, deny_b = state
    if np | mask == np:
        return state
    return (und, acc, deny, iso, np | mask, und_b, deny_b)


def _refine(parts: Parts, bits: int, update: Callable[[State], State]) -> Parts:
    """Apply `update` to the sources inside `bits`; equal states merge again. Parts the
    update leaves as they are (already decided there) are not split at all."""
    out: Parts | None = None
    for state, part in parts.items():
        inside = part & bits
        if not inside:
            continue
        new = update(state)
        if new is state:
            continue
        if out is None:
            out = dict(parts)
        out[state] &= ~inside
        if not out[state]:
            del out[state]
        out[new] = out.get(new, 0) | inside
    return parts if out is None else out


def _allowed(state: State, everything: int) -> int:
    _, acc, deny, iso, np, _, deny_b = state
    lower = np if iso else everything & ~deny_b
    return acc | (everything & ~(acc | deny) & lower)


def _by_mask(parts: Parts, everything: int) -> Sides:
    """The sources of each allowed atom mask (none: never allowed)."""
    out: Sides = {}
    for state, bits in parts.items():
        mask = _allowed(state, everything)
        if mask:
            out[mask] = out.get(mask, 0) | bits
    return out


def _both(egress: Sides, ingress: Sides) -> list[Contribution]:
    """A connection needs both sides: intersect the two partitions."""
    result: dict[int, int] = {}
    for mask_e, bits_e in egress.items():
        for mask_i, bits_i in ingress.items():
            bits, mask = bits_e & bits_i, mask_e & mask_i
            if bits and mask:
                result[mask] = result.get(mask, 0) | bits
    return [(bits, mask) for mask, bits in result.items()]
