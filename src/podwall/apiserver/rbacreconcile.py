"""Bringing the stored bootstrap roles up to date at start, as kube-apiserver does.

A cluster's state outlives the podwall that wrote it: after an upgrade, a default ClusterRole
stored by the older release may lack a permission the newer one needs (the node agent's
`system:podwall-node`, say, once it watches a new kind), and the agents would be refused.
kube-apiserver reconciles its bootstrap policy at every start (`ReconcileClusterRole`,
`ReconcileClusterRoleBinding`, with `RemoveExtraPermissions` and `RemoveExtraSubjects` off);
these functions decide the same, given what is expected and what is stored:

- an object annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is protected: the
  administrator owns it, it is left exactly as it is;
- labels and annotations the expected object has and the stored one lacks are added (the
  stored values win where both have a key);
- a role gets the expected rules the stored rules do not cover (nothing is removed); an
  aggregated role gets the expected `clusterRoleSelectors` it lacks, and its rules are the
  aggregation controller's to fill;
- a binding gets the expected subjects it lacks; a binding whose `roleRef` differs must be
  recreated, since `roleRef` cannot be changed.

Pure functions over plain objects: `bootstrap` reads and writes the store.
"""

from __future__ import annotations

import copy
from typing import Any

from podwall.apiserver.escalation import atoms
from podwall.apiserver.rbac import rule_allows

Obj = dict[str, Any]
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
RECREATE = "recreate"


def protected(stored: Obj) -> bool:
    """Whether the administrator has taken the object over (autoupdate "false")."""
    return bool((stored.get("metadata") or {}).get("annotations", {}).get(AUTOUPDATE) == "false")


def _covered(rule: Obj, rules: list[Obj]) -> bool:
    return all(any(rule_allows(a, r) for r in rules) for a in atoms(rule, ""))


def _merge_meta(expected: Obj, result: Obj) -> None:
    meta = result.setdefault("metadata", {})
    for key in ("labels", "annotations"):
        wanted = (expected.get("metadata") or {}).get(key) or {}
        if wanted:
            meta[key] = {**wanted, **(meta.get(key) or {})}


def reconciled_role(expected: Obj, stored: Obj) -> Obj | None:
    """The stored ClusterRole brought up to date, or None if nothing is to change."""
    if protected(stored):
        return None
    result = copy.deepcopy(stored)
    _merge_meta(expected, result)
    wanted_rule = expected.get("aggregationRule")
    if wanted_rule is not None:
        have = result.setdefault("aggregationRule", {})
        selectors = have.setdefault("clusterRoleSelectors", [])
        selectors += [
            s for s in wanted_rule.get("clusterRoleSelectors") or [] if s not in selectors
        ]
    if wanted_rule is None or stored.get("aggregationRule") is None:
        rules = result.setdefault("rules", [])
        rules += [r for r in expected.get("rules") or [] if not _covered(r, rules)]
    return None if result == stored else result


def reconciled_binding(expected: Obj, stored: Obj) -> Obj | str | None:
    """The stored ClusterRoleBinding brought up to date, `RECREATE` when its roleRef must
    change (delete it, create the expected), or None if nothing is to change."""
    if protected(stored):
        return None
    if stored.get("roleRef") != expected.get("roleRef"):
        return RECREATE
    result = copy.deepcopy(stored)
    _merge_meta(expected, result)
    subjects = result.setdefault("subjects", [])
    subjects += [s for s in expected.get("subjects") or [] if s not in subjects]
    return None if result == stored else result
