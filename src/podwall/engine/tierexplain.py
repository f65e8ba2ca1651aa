"""Explanations of sides that ClusterNetworkPolicy tiers took part in.

One line says how the side was decided, tier by tier: "passed by admin/allow-monitoring rule
'pass-dns' (priority 10, ingress[0]: ...), then allowed by default/np ingress[0] ...". The
NetworkPolicy part is `explain`'s own text, passed in; a side no ClusterNetworkPolicy selects
is explained by `explain` alone, word for word as before. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podwall.engine.decision import DirectionVerdict, Status
from podwall.engine.tierdecision import ClusterPolicyCheck, ClusterRuleCheck, TierCheck
from podwall.model.clusterpolicy import Action, ClusterNetworkPolicy
from podwall.model.policy import Direction
from podwall.model.record import replace

_VERB = {Action.ACCEPT: "accepted", Action.DENY: "denied", Action.PASS: "passed"}
_PEERS = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
_ADMIN_FINAL = (Status.ADMIN_ACCEPTED, Status.ADMIN_DENIED)
_NP_FINAL = (Status.ALLOWED, Status.DENIED)
_BASELINE_FINAL = (Status.BASELINE_ACCEPTED, Status.BASELINE_DENIED)

NetworkPolicyLines = Callable[[DirectionVerdict], list[str]]


def has_tiers(v: DirectionVerdict) -> bool:
    """Whether some ClusterNetworkPolicy selected this side's pod."""
    return any(t is not None and t.policies for t in (v.admin, v.baseline))


def side(v: DirectionVerdict, *, full: bool, networkpolicy: NetworkPolicyLines) -> list[str]:
    """The lines of one side: how each tier decided, then (if `full`) every rule checked."""
    head = f"  {v.direction.value:<7} {v.subject.key}: "
    chain = [] if v.admin is None else _tier_steps(v.admin, v.direction)
    more: list[str] = []
    if v.status not in _ADMIN_FINAL:
        np_lines = networkpolicy(_without_tiers(v))
        if v.status in _NP_FINAL:
            chain.append(np_lines[0].removeprefix(head))
            more = np_lines[1:]
        else:
            chain.append(f"no NetworkPolicy isolates it for {v.direction.value}")
            chain += _baseline_steps(v.baseline, v.direction)
    lines = [head + ", then ".join(chain)]
    if full:
        for tier in (v.admin, v.baseline):
            if tier is not None and tier.policies:
                lines += _tier_lines(tier, v.direction)
    return lines + more


def final_phrase(v: DirectionVerdict) -> str | None:
    """`denied by admin/guard rule 'deny-x' (priority 5, k8s/guard.yaml:1)` when a tier's
    Accept or Deny decided the side; None otherwise."""
    if v.status in _ADMIN_FINAL:
        tier = v.admin
    elif v.status in _BASELINE_FINAL:
        tier = v.baseline
    else:
        return None
    found = None if tier is None else tier.decision
    if found is None:
        return None
    policy, rule = found[0].policy, found[1]
    where = ", ".join(w for w in (policy.ranking, _line(policy)) if w)
    return f"{_verb(policy, rule.rule.action)} by {policy.title} {rule.label} ({where})"


def _verb(policy: ClusterNetworkPolicy, action: Action) -> str:
    """`accepted`, or `allowed` for the v1alpha1 kinds, whose action is called Allow."""
    return "allowed" if policy.action_name(action) == "Allow" else _VERB[action]


def _line(policy: ClusterNetworkPolicy) -> str:
    return policy.source.render() if policy.source.line else ""


def _without_tiers(v: DirectionVerdict) -> DirectionVerdict:
    status = v.status if v.status in _NP_FINAL else Status.NOT_ISOLATED
    return replace(v, status=status, admin=None, baseline=None)


def _tier_steps(tier: TierCheck, direction: Direction) -> list[str]:
    found = tier.decision
    if found is None:
        if not tier.policies:
            return []
        names = ", ".join(c.policy.title for c in tier.policies)
        return [f"no {tier.tier} rule matches ({names})"]
    return [_decided(found[0], found[1], direction)]


def _baseline_steps(tier: TierCheck | None, direction: Direction) -> list[str]:
    steps = [] if tier is None else _tier_steps(tier, direction)
    if tier is None or tier.action in (None, Action.PASS):
        steps.append("allowed by default")
    return steps


def _decided(policy: ClusterPolicyCheck, rule: ClusterRuleCheck, direction: Direction) -> str:
    """`denied by admin/x rule 'r' (priority 3, ingress[0]: from[1] ... ; TCP 80)`."""
    where = policy.policy.ranking
    if rule.rule.name:
        where = ", ".join(w for w in (where, f"{direction.value}[{rule.index}]") if w)
    peer = rule.matching_peer
    why = "" if peer is None else f"{_PEERS[direction]}[{peer.index}] {peer.reason}"
    why = f": {why}" if where and why else why
    action = _verb(policy.policy, rule.rule.action)
    return f"{action} by {policy.policy.title} {rule.label} ({where}{why}; {rule.ports_reason})"


def _tier_lines(tier: TierCheck, direction: Direction) -> list[str]:
    lines = [f"    {tier.tier} tier:"]
    for check in tier.policies:
        policy = check.policy
        count = len(policy.rules(direction))
        ranking = f" ({policy.ranking})" if policy.ranking else ""
        lines.append(
            f"      {policy.title}{ranking} selects it by "
            f"{policy.subject.render()}; {len(check.rules)} of {count} {direction.value} "
            "rule(s) checked:"
        )
        for rule in check.rules:
            lines += _rule_lines(policy, rule, direction)
    return lines


def _rule_lines(
    policy: ClusterNetworkPolicy, rule: ClusterRuleCheck, direction: Direction
) -> list[str]:
    mark = "matches" if rule.matched else "does not match"
    name = f" '{rule.rule.name}'" if rule.rule.name else ""
    action = policy.action_name(rule.rule.action)
    lines = [f"        {direction.value}[{rule.index}]{name} {action}: {mark}:"]
    lines.append(f"          {'ok' if rule.ports_matched else 'no'}  ports: {rule.ports_reason}")
    for peer in rule.peers:
        flag = "ok" if peer.matched else "no"
        lines.append(f"          {flag}  {_PEERS[direction]}[{peer.index}]: {peer.reason}")
    return lines


def to_json(v: DirectionVerdict) -> dict[str, Any]:
    """The tiers of a side, keyed `admin` and `baseline`; empty when no tier took part."""
    out: dict[str, Any] = {}
    for key, tier in (("admin", v.admin), ("baseline", v.baseline)):
        if tier is not None and tier.policies:
            out[key] = {
                "action": None if tier.action is None else tier.action.value,
                "policies": [_policy_json(c) for c in tier.policies],
            }
    return out


def _policy_json(check: ClusterPolicyCheck) -> dict[str, Any]:
    return {
        "policy": check.policy.name,
        "kind": check.policy.kind,
        "tier": check.policy.tier.value,
        "priority": check.policy.priority,
        "rules": [
            {
                "index": r.index,
                "name": r.rule.name,
                "action": check.policy.action_name(r.rule.action),
                "matched": r.matched,
                "ports": {"matched": r.ports_matched, "reason": r.ports_reason},
                "peers": [
                    {"index": p.index, "matched": p.matched, "reason": p.reason} for p in r.peers
                ],
            }
            for r in check.rules
        ],
    }
