"""Checks on rules as a whole: rules that are ignored, and policies that isolate but allow
nothing without saying so.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.model.policy import Direction, NetworkPolicy, PolicyType
from podwall.review.lint.context import Context
from podwall.review.lint.finding import Raw

IGNORED_DOC = """\
The policy has ingress rules but its policyTypes does not list Ingress (or egress rules
without Egress), so those rules are ignored: a policy only affects the directions its
policyTypes lists.

    spec:
      policyTypes: [Egress]
      ingress:                 # ignored
      - from: [{podSelector: {matchLabels: {app: frontend}}}]

Fix: add the direction to policyTypes, or remove the rules (or the whole policyTypes field:
left out, it lists Ingress always and Egress when there are egress rules).
"""

ALLOWS_NOTHING_DOC = """\
The policy isolates its pods for a direction and has no rules for it, so it denies all of
that direction's traffic, and nothing in the policy says a default deny was meant. A deny
says so when the policy lists policyTypes and has no rules at all (the documented
default-deny shape), or when its name says `deny`.

The two usual accidents:

    spec:                            spec:
      podSelector: {...}               podSelector: {...}
      egress: [...]                    policyTypes: [Ingress, Egress]
    # no policyTypes: it defaults      ingress: [...]
    # to [Ingress, Egress] and, with   # Egress listed, no egress rules:
    # no ingress rules, denies all     # all egress is denied, DNS included
    # ingress to these pods

Fix: if the deny is intended, write it as its own policy (`policyTypes: [Egress]`, no rules,
or a name with `deny`); if not, set policyTypes to the directions the rules are for.
"""


def ignored_rules(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        for direction in (Direction.INGRESS, Direction.EGRESS):
            count = len(policy.rules(direction))
            if count and not policy.affects(direction):
                yield (
                    policy,
                    f"spec.{direction.value}",
                    f"{count} {direction.value} rule(s) are ignored: policyTypes is "
                    f"{_types(policy)}, so the policy does not affect {direction.value}",
                )


def allows_nothing(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        if ctx.has_pods and not ctx.selected(policy):
            continue  # it isolates nothing: PW001 says so
        if _says_deny(policy):
            continue
        for direction in (Direction.INGRESS, Direction.EGRESS):
            if policy.affects(direction) and not policy.rules(direction):
                yield _unsaid(policy, direction)


def _says_deny(policy: NetworkPolicy) -> bool:
    pure = policy.types_declared and not policy.ingress and not policy.egress
    return pure or "deny" in policy.name.lower()


def _unsaid(policy: NetworkPolicy, direction: Direction) -> Raw:
    d = direction.value
    if policy.types_declared:
        return (
            policy,
            "spec.policyTypes",
            f"isolates its pods for {d} and allows no {d} (policyTypes lists "
            f"{direction.policy_type}, there are no {d} rules): a default deny; intended? say "
            f"so in a policy of its own, or remove {direction.policy_type} from policyTypes",
        )
    return (
        policy,
        "spec",
        f"isolates its pods for {d} and allows no {d}: policyTypes is not set, so it defaults "
        f"to {_types(policy)}, a default deny for {d}; intended? say so with policyTypes",
    )


def _types(policy: NetworkPolicy) -> str:
    listed = [t.value for t in (PolicyType.INGRESS, PolicyType.EGRESS) if t in policy.policy_types]
    return f"[{', '.join(listed)}]"
