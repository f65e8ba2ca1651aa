"""ClusterRole aggregation computed as kube-controller-manager's controller does."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.apiserver import defaultroles
from podwall.controllers import Update
from podwall.controllers.clusterroleaggregation import (
    aggregated_rules,
    reconcile_aggregation,
)

Obj = dict[str, Any]
VIEW_LABEL = "rbac.authorization.k8s.io/aggregate-to-view"


def role(name: str, rules: list[Obj], labels: dict[str, str] | None = None,
         selectors: list[Obj] | None = None) -> Obj:  # fmt: skip
    obj: Obj = {"kind": "ClusterRole", "metadata": {"name": name, "labels": labels or {}},
                "rules": rules}  # fmt: skip
    if selectors is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return obj


def verbs(*names: str) -> Obj:
    return {"verbs": list(names), "apiGroups": [""], "resources": ["pods"]}


A, B, C = verbs("get"), verbs("list"), verbs("watch")
BY_VIEW = [{"matchLabels": {VIEW_LABEL: "true"}}]


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([], []),
        ([role("x", [A], {VIEW_LABEL: "true"})], [A]),
        ([role("x", [A], {VIEW_LABEL: "false"})], []),
        ([role("x", [A])], []),
        ([role("b", [B], {VIEW_LABEL: "true"}), role("a", [A], {VIEW_LABEL: "true"})], [A, B]),
        ([role("a", [A, B], {VIEW_LABEL: "true"}), role("b", [B, C], {VIEW_LABEL: "true"})],
         [A, B, C]),
        ([role("agg", [C], {VIEW_LABEL: "true"})], []),
    ],
    ids=[
        "nothing to aggregate",
        "a labelled role's rules",
        "a label with another value is not selected",
        "an unlabelled role is not selected",
        "roles taken by name",
        "a rule seen twice is kept once",
        "the role never aggregates itself",
    ],
)  # fmt: skip
def test_aggregated_rules(roles: list[Obj], expected: list[Obj]) -> None:
    assert aggregated_rules(role("agg", [C], selectors=BY_VIEW), roles) == expected


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ([{"matchLabels": {"x": "1"}}, {"matchLabels": {"y": "1"}}], [B, A]),
        ([{"matchExpressions": [{"key": "x", "operator": "Exists"}]}], [B]),
        ([{}], [B, A, C]),
        ([{"matchExpressions": [{"key": "x", "operator": "Bogus"}]}], []),
        ([], []),
    ],
    ids=[
        "selectors in order, each role by name",
        "match expressions",
        "an empty selector selects every other role",
        "a selector that does not parse selects nothing",
        "no selectors",
    ],
)  # fmt: skip
def test_selectors(selectors: list[Obj], expected: list[Obj]) -> None:
    roles = [role("b", [A], {"y": "1"}), role("a", [B], {"x": "1"}), role("c", [C])]
    assert aggregated_rules(role("agg", [], selectors=selectors), roles) == expected


def test_reconcile_updates_only_what_differs() -> None:
    labelled = role("mine", [A], {VIEW_LABEL: "true"})
    stale = role("agg", [B], selectors=BY_VIEW)
    assert reconcile_aggregation(stale, [stale, labelled]) == [Update({**stale, "rules": [A]})]
    current = role("agg", [A], selectors=BY_VIEW)
    assert reconcile_aggregation(current, [current, labelled]) == []
    assert reconcile_aggregation(None, [labelled]) == []
    assert reconcile_aggregation(labelled, [labelled]) == []  # no aggregationRule: not ours


def by_name() -> dict[str, Obj]:
    return {r["metadata"]["name"]: r for r in defaultroles.CLUSTER_ROLES}


@pytest.mark.parametrize("name", ["admin", "edit", "view"])
def test_the_bootstrap_user_roles_start_as_aggregation_leaves_them(name: str) -> None:
    roles = by_name()
    assert reconcile_aggregation(roles[name], roles.values()) == []


def test_view_is_in_edit_and_edit_in_admin_as_upstream() -> None:
    roles = by_name()
    view, edit, admin = (roles[n]["rules"] for n in ("view", "edit", "admin"))
    assert view
    assert all(r in edit for r in view)
    assert all(r in admin for r in edit)
    assert len(view) < len(edit) < len(admin)
    assert view == roles["system:aggregate-to-view"]["rules"]
