"""Decisions rendered as text and JSON: the words a user reads for "why".

`brief()` names what decided each side; `full()` walks every isolating policy, rule, peer and
port. Pure: no I/O here; callers print the lines.
"""

from __future__ import annotations

from typing import Any

from podwall.engine.decision import Decision, DirectionVerdict, PolicyCheck, RuleCheck, Status
from podwall.model.policy import Direction

_PEERS = {Direction.INGRESS: "from", Direction.EGRESS: "to"}


def verdict_word(allowed: bool) -> str:
    return "ALLOWED" if allowed else "DENIED"


def headline(decision: Decision) -> str:
    return f"{verdict_word(decision.allowed)}  {decision.traffic.render()}"


def brief(decision: Decision) -> list[str]:
    return [
        headline(decision),
        *_side(decision.egress, full=False),
        *_side(decision.ingress, full=False),
    ]


def full(decision: Decision) -> list[str]:
    return [
        headline(decision),
        *_side(decision.egress, full=True),
        *_side(decision.ingress, full=True),
    ]


def _label(v: DirectionVerdict) -> str:
    return f"{v.direction.value:<7} {v.subject.key}"


def _consulted_tiers(v: DirectionVerdict) -> bool:
    """Whether ClusterNetworkPolicy tiers were consulted: only then is `tierexplain` (and the
    ClusterNetworkPolicy model it reads) imported."""
    return v.admin is not None or v.baseline is not None


def _side(v: DirectionVerdict, *, full: bool) -> list[str]:
    if _consulted_tiers(v):
        from podwall.engine import tierexplain

        if tierexplain.has_tiers(v):
            # ClusterNetworkPolicy tiers took part: they say how, around this NetworkPolicy text.
            return tierexplain.side(v, full=full, networkpolicy=lambda np: _side(np, full=full))
    head = _label(v)
    d = v.direction.value
    if v.status is Status.OUTSIDE:
        return [f"  {head}: allowed: outside the cluster, no NetworkPolicy applies to its {d}"]
    if v.status is Status.HOST_NETWORK:
        return [f"  {head}: allowed: host-network pods are not subject to NetworkPolicy"]
    if v.status is Status.SELF:
        return [f"  {head}: allowed: a pod cannot block traffic to itself"]
    if v.status is Status.LOCAL_NODE:
        return [f"  {head}: allowed: traffic from a pod's own node is always allowed in"]
    if v.status is Status.NOT_ISOLATED:
        return [
            f"  {head}: allowed: not isolated for {d} "
            f"(no NetworkPolicy selects it with policyType {v.direction.policy_type})"
        ]
    names = ", ".join(p.policy.key for p in v.policies)
    isolated = f"isolated for {d} by {names}"
    if v.audit:
        isolated = f"isolated for {d} only by {names} in audit mode, which decides nothing"
    if v.status is Status.ALLOWED:
        lines = [f"  {head}: allowed by {_admission(v)} ({isolated})"]
        return lines + (_policies(v, admitted=True) if full else [])
    if v.status is Status.AUDITED:
        lines = [
            f"  {head}: allowed (audit mode): would be denied by the default deny of {names}"
            f" ({isolated}; no rule allows it)"
        ]
        return lines + _policies(v, admitted=full)
    lines = [f"  {head}: denied: {isolated}; no rule allows it"]
    return lines + _policies(v, admitted=full)


def _admission(v: DirectionVerdict) -> str:
    parts = []
    for policy, rule in v.admitted_by:
        where = f"{policy.policy.key} {v.direction.value}[{rule.index}]"
        peer = rule.admitting_peer
        if peer is not None:
            where += f" {_PEERS[v.direction]}[{peer.index}] ({peer.reason})"
        else:
            where += f" (every {'source' if v.direction is Direction.INGRESS else 'destination'})"
        parts.append(where)
    return "; ".join(parts)


def _policies(v: DirectionVerdict, *, admitted: bool) -> list[str]:
    lines: list[str] = []
    for check in v.policies:
        if check.allowed and not admitted:
            continue
        lines += _policy(v, check)
    return lines


def _policy(v: DirectionVerdict, check: PolicyCheck) -> list[str]:
    key, d = check.policy.key, v.direction.value
    selector = check.policy.pod_selector.render_braces()
    if not check.rules:
        return [
            f"    {key}: selects it by podSelector {selector} and has no {d} rules: default deny"
        ]
    lines = [f"    {key}: selects it by podSelector {selector}; {len(check.rules)} {d} rule(s):"]
    for rule in check.rules:
        lines += _rule(v, key, rule)
    return lines


def _rule(v: DirectionVerdict, key: str, rule: RuleCheck) -> list[str]:
    mark = "matches" if rule.matched else "does not match"
    lines = [f"      {v.direction.value}[{rule.index}] {mark}:"]
    ports = "ports: " + rule.ports_reason
    lines.append(f"        {'ok' if rule.ports_matched else 'no'}  {ports}")
    if not rule.peers:
        lines.append(
            f"        ok  {_PEERS[v.direction]}: every peer (no {_PEERS[v.direction]} list)"
        )
    for peer in rule.peers:
        flag = "ok" if peer.matched else "no"
        lines.append(f"        {flag}  {_PEERS[v.direction]}[{peer.index}]: {peer.reason}")
    return lines


def to_json(decision: Decision) -> dict[str, Any]:
    t = decision.traffic
    return {
        "allowed": decision.allowed,
        "from": t.src.key,
        "to": t.dst.key,
        "port": t.port,
        "protocol": t.protocol.value,
        "egress": _side_json(decision.egress),
        "ingress": _side_json(decision.ingress),
    }


def _side_json(v: DirectionVerdict) -> dict[str, Any]:
    return {
        "endpoint": v.subject.key,
        "allowed": v.allowed,
        "status": v.status.value,
        "audit": v.audit,
        "policies": [
            {
                "policy": p.policy.key,
                "audit": p.policy.audit,
                "allowed": p.allowed,
                "defaultDeny": not p.rules,
                "rules": [
                    {
                        "index": r.index,
                        "matched": r.matched,
                        "ports": {"matched": r.ports_matched, "reason": r.ports_reason},
                        "peers": [
                            {"index": pc.index, "matched": pc.matched, "reason": pc.reason}
                            for pc in r.peers
                        ],
                    }
                    for r in p.rules
                ],
            }
            for p in v.policies
        ],
        **_tiers_json(v),
    }


def _tiers_json(v: DirectionVerdict) -> dict[str, Any]:
    if not _consulted_tiers(v):
        return {}
    from podwall.engine import tierexplain

    return tierexplain.to_json(v)
