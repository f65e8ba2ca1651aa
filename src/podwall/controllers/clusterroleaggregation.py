"""ClusterRole aggregation, as kube-controller-manager's clusterrole-aggregation controller
computes it: a ClusterRole with an `aggregationRule` holds the rules of every other ClusterRole
whose labels one of its `clusterRoleSelectors` matches.

The matching roles are taken by name, each rule once (the first time it is seen), the role's own
rules replaced by the result. Pure: the caller reads the roles and writes the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from podwall.controllers.actions import Obj, Update
from podwall.model.labelselectors import SelectorError, as_selector


def is_aggregated(role: Mapping[str, Any]) -> bool:
    return isinstance(role.get("aggregationRule"), Mapping)


def _labels(role: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (role.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def _name(role: Mapping[str, Any]) -> str:
    return str((role.get("metadata") or {}).get("name") or "")


def aggregated_rules(role: Mapping[str, Any], roles: Iterable[Mapping[str, Any]]) -> list[Obj]:
    """The rules `role` aggregates from `roles`: by selector, then by role name, each once.

    A selector that does not parse selects nothing (upstream skips the role with an error)."""
    rule = role.get("aggregationRule") or {}
    others = sorted((r for r in roles if _name(r) != _name(role)), key=_name)
    found: list[Obj] = []
    for raw in rule.get("clusterRoleSelectors") or ():
        try:
            selector = as_selector(raw if isinstance(raw, Mapping) else {})
        except SelectorError:
            continue
        if selector is None:
            continue
        for other in others:
            if not selector.matches(_labels(other)):
                continue
            for each in other.get("rules") or ():
                if each not in found:
                    found.append(dict(each))
    return found


def reconcile_aggregation(
    role: Mapping[str, Any] | None, roles: Iterable[Mapping[str, Any]]
) -> list[Update]:
    """The Update that makes `role`'s rules its aggregation (none when they already are, or when
    `role` is gone or aggregates nothing by rule)."""
    if role is None or not is_aggregated(role):
        return []
    rules = aggregated_rules(role, roles)
    if rules == list(role.get("rules") or []):
        return []
    return [Update({**role, "rules": rules})]
