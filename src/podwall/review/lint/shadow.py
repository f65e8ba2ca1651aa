"""Checks for rules that add nothing: another rule already allows all they allow.

Rule R (of policy P) is shadowed by rule O (of P, or of a policy that applies to every pod P
selects, in the same direction) when O's peers cover R's and O's ports cover R's. Peers are
compared by the pods they match in the snapshot (selectors, and ipBlocks by pod address) and,
for addresses outside the cluster, by ipBlock containment; ports by protocol and range, named
ports by name. Two rules that cover each other report the later one only. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.model.policy import Direction, IPBlock, IPNetwork, NetworkPolicy, Rule
from podwall.model.ports import PolicyPort
from podwall.model.record import Record
from podwall.review.lint.context import Context, rules
from podwall.review.lint.finding import Raw

DOC = """\
Another rule already allows everything this rule allows, so removing it changes nothing:
often a leftover after a broader rule was added, or a narrower rule that was meant to
restrict (rules and policies only ever add up; a narrower rule cannot take anything away).

    ingress:
    - from: [{podSelector: {}}]                  # every pod of the namespace, every port
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 80}]                        # adds nothing

The other rule may be in another policy that applies to all the pods this one does. Pods are
compared as the manifests (or cluster) given have them, so the rule may add something for
pods that are not there yet. Needs pods: skipped without.
"""


# A result read field by field, never compared or hashed: identity equality is enough.
class _Reach(Record, kw_only=False, eq=False):
    """What one rule allows: its peers (pods by key, ipBlocks) and its ports."""

    everyone: bool  # no peers: every source or destination
    pods: frozenset[str]
    blocks: tuple[IPBlock, ...]
    ports: tuple[PolicyPort, ...]  # empty: every port

    @property
    def empty(self) -> bool:
        return not self.everyone and not self.pods and not self.blocks


def _reach(ctx: Context, policy: NetworkPolicy, rule: Rule) -> _Reach:
    return _Reach(
        everyone=not rule.peers,
        pods=frozenset(p.key for p in ctx.rule_pods(policy, rule)) if rule.peers else frozenset(),
        blocks=tuple(p.ip_block for p in rule.peers if p.ip_block is not None),
        ports=rule.ports,
    )


def shadowed_rule(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        subjects = {p.key for p in ctx.selected(policy)}
        if not subjects:
            continue
        for direction, i, rule, path in rules(policy):
            if not policy.affects(direction):
                continue  # ignored rules: PW008
            mine = _reach(ctx, policy, rule)
            if mine.empty:
                continue  # it allows nothing at all: PW002
            found = _shadowing(ctx, policy, subjects, direction, i, mine)
            if found is not None:
                other, k = found
                where = "this policy's" if other is policy else f"{other.key}'s"
                yield (
                    policy,
                    path,
                    f"adds nothing: {where} {direction.value}[{k}] already allows everything "
                    "it allows",
                )


def _shadowing(
    ctx: Context,
    policy: NetworkPolicy,
    subjects: set[str],
    direction: Direction,
    index: int,
    mine: _Reach,
) -> tuple[NetworkPolicy, int] | None:
    for other in ctx.cluster.policies_by_namespace.get(policy.namespace, ()):
        if not other.affects(direction):
            continue
        if other is not policy and not subjects <= {p.key for p in ctx.selected(other)}:
            continue
        for k, other_rule in enumerate(other.rules(direction)):
            if other is policy and k == index:
                continue
            theirs = _reach(ctx, other, other_rule)
            if not _covers(theirs, mine):
                continue
            mutual = _covers(mine, theirs)
            if not mutual or (other.key, k) < (policy.key, index):
                return other, k
    return None


def _covers(outer: _Reach, inner: _Reach) -> bool:
    return _peers_cover(outer, inner) and _ports_cover(outer.ports, inner.ports)


def _peers_cover(outer: _Reach, inner: _Reach) -> bool:
    if outer.everyone:
        return True
    if inner.everyone:
        return False
    if not inner.pods <= outer.pods:
        return False
    return all(any(_block_within(b, o) for o in outer.blocks) for b in inner.blocks)


def _block_within(inner: IPBlock, outer: IPBlock) -> bool:
    """Every address of `inner` (cidr minus excepts) is in `outer` (cidr minus excepts)."""
    cidr = inner.cidr
    if cidr.version != outer.cidr.version or not _subnet(cidr, outer.cidr):
        return False
    for excluded in outer.except_:
        if excluded.version != cidr.version or not excluded.overlaps(cidr):
            continue
        if _subnet(cidr, excluded):
            return False
        if not any(
            _subnet(excluded, mine) for mine in inner.except_ if mine.version == cidr.version
        ):
            return False
    return True


def _subnet(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]


def _ports_cover(outer: tuple[PolicyPort, ...], inner: tuple[PolicyPort, ...]) -> bool:
    if not outer:
        return True
    if not inner:
        return False
    return all(_port_covered(outer, port) for port in inner)


def _port_covered(outer: tuple[PolicyPort, ...], port: PolicyPort) -> bool:
    same = [o for o in outer if o.protocol is port.protocol]
    if any(o.port is None for o in same):
        return True
    if port.port is None:
        return False
    if isinstance(port.port, str):
        return any(o.port == port.port for o in same)
    lo, hi = port.port, port.end_port or port.port
    ranges = sorted((o.port, o.end_port or o.port) for o in same if isinstance(o.port, int))
    for start, end in ranges:
        if start <= lo <= end:
            lo = end + 1
        if lo > hi:
            return True
    return False
