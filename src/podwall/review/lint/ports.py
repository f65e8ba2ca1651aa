"""Checks that a named port in a rule is declared by a pod the rule is about.

A named port resolves on each destination pod (`containers[].ports[].name` with the same
protocol); where no destination declares it, the rule opens nothing. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from podwall.model.cluster import Pod
from podwall.model.policy import Direction
from podwall.model.ports import Protocol
from podwall.review.lint.context import Context, rules
from podwall.review.lint.finding import Raw

DOC = """\
A rule's port is a name (`port: http`) that no destination pod declares with that protocol,
so the rule allows nothing on it. For an ingress rule the destinations are the pods the
policy selects; for an egress rule, the pods its `to` peers select (every pod without `to`).
A named port resolves on each destination pod through `spec.containers[].ports[].name`, and
the protocol must match too (`protocol` defaults to TCP on both sides).

    ingress:
    - ports:
      - port: metrics        # the pods declare `name: metric`, or `protocol: UDP`

Fix: use the name the pods declare, the protocol they declare it with, or the number. The
check needs pods: with none given it is skipped.
"""


def named_port_undeclared(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        for direction, _, rule, path in rules(policy):
            if direction is Direction.INGRESS:
                dsts, whose = ctx.selected(policy), "no pod this policy selects"
            else:
                dsts, whose = ctx.rule_pods(policy, rule), "no pod the rule's peers select"
            if not dsts:
                continue  # nothing is selected: reported by PW001/PW002
            for k, port in enumerate(rule.ports):
                if not isinstance(port.port, str):
                    continue
                if any(p.named_port(port.port, port.protocol) is not None for p in dsts):
                    continue
                yield (
                    policy,
                    f"{path}.ports[{k}].port",
                    f'named port "{port.port}" ({port.protocol}) is declared by {whose}'
                    f"{_elsewhere(dsts, port.port, port.protocol)}, so it allows nothing",
                )


def _elsewhere(dsts: Sequence[Pod], name: str, protocol: Protocol) -> str:
    for pod in dsts:
        for declared in pod.ports:
            if declared.name == name and declared.protocol is not protocol:
                return f" ({pod.key} declares it for {declared.protocol})"
    return ""
