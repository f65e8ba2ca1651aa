"""Reconciling the bootstrap policy: what is expected and missing is added, nothing an
administrator added is removed, a protected object is left alone, a changed roleRef means
recreate — kube-apiserver's ReconcileClusterRole(Binding) with no removal."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podwall.apiserver.defaultroles import aggregated_role, cluster_role, group_binding, rule
from podwall.apiserver.rbacreconcile import (
    AUTOUPDATE,
    RECREATE,
    reconciled_binding,
    reconciled_role,
)

Obj = dict[str, Any]
LEASES = rule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"])
PODS = rule(["get", "list", "watch"], [""], ["pods"])
CNPS = rule(["list", "watch"], ["policy.networking.k8s.io"], ["clusternetworkpolicies"])
EVERYTHING = rule(["*"], ["*"], ["*"])


def role(*rules: Obj, **annotations: str) -> Obj:
    made = cluster_role("system:podwall-node", list(rules))
    made["metadata"]["annotations"].update(annotations)
    return made


def with_rules(obj: Obj, *rules: Obj) -> Obj:
    changed = copy.deepcopy(obj)
    changed["rules"] = list(rules)
    return changed


ROLE_CASES = [
    ("up to date", role(PODS, CNPS), role(PODS, CNPS), None),
    ("a missing rule is added", role(PODS, CNPS), role(PODS), role(PODS, CNPS)),
    ("a rule covered by a wider one is not", role(PODS), role(EVERYTHING), None),
    ("an administrator's extra rule stays", role(PODS), role(PODS, LEASES), None),
    ("extra and missing", role(PODS, CNPS), role(LEASES), role(LEASES, PODS, CNPS)),
    (
        "protected: left alone",
        role(PODS, CNPS),
        role(PODS, **{AUTOUPDATE: "false"}),
        None,
    ),
]


@pytest.mark.parametrize(
    ("expected", "stored", "wanted"), [c[1:] for c in ROLE_CASES], ids=[c[0] for c in ROLE_CASES]
)
def test_roles(expected: Obj, stored: Obj, wanted: Obj | None) -> None:
    before = copy.deepcopy(stored)
    assert reconciled_role(expected, stored) == wanted
    assert stored == before  # never changed in place


def test_labels_and_annotations_are_added_and_the_stored_values_win() -> None:
    expected = role(PODS)
    stored = copy.deepcopy(expected)
    stored["metadata"]["labels"] = {"team": "net", "kubernetes.io/bootstrapping": "mine"}
    del stored["metadata"]["annotations"]
    got = reconciled_role(expected, stored)
    assert got is not None
    assert got["metadata"]["labels"] == {"team": "net", "kubernetes.io/bootstrapping": "mine"}
    assert got["metadata"]["annotations"] == {AUTOUPDATE: "true"}


def test_an_aggregated_role_gets_its_selectors_and_leaves_its_rules_to_the_controller() -> None:
    expected = with_rules(aggregated_role("view"), PODS, CNPS)
    stored = with_rules(aggregated_role("view"), PODS)
    stored["aggregationRule"]["clusterRoleSelectors"] = [{"matchLabels": {"mine": "true"}}]
    got = reconciled_role(expected, stored)
    assert got is not None
    assert got["rules"] == [PODS]
    assert got["aggregationRule"]["clusterRoleSelectors"] == [
        {"matchLabels": {"mine": "true"}},
        *expected["aggregationRule"]["clusterRoleSelectors"],
    ]


def test_a_role_no_longer_aggregated_by_its_owner_gets_the_missing_rules() -> None:
    expected = with_rules(aggregated_role("view"), PODS)
    stored = with_rules(cluster_role("view", []), LEASES)
    got = reconciled_role(expected, stored)
    assert got is not None
    assert got["rules"] == [LEASES, PODS]


SELF = "system:podwall-node"


def binding(role_name: str = SELF, *groups: str, **annotations: str) -> Obj:
    made = group_binding(SELF, role_name, *(groups or ("system:nodes",)))
    made["metadata"]["annotations"].update(annotations)
    return made


NODES = binding()
BINDING_CASES = [
    ("up to date", NODES, binding(), None),
    ("a missing subject is added", binding(SELF, "a", "b"), binding(SELF, "a"),
     binding(SELF, "a", "b")),
    ("an administrator's extra subject stays", NODES, binding(SELF, "system:nodes", "ops"), None),
    ("another roleRef: recreate", NODES, binding("view"), RECREATE),
    ("protected: left alone", NODES, binding("view", **{AUTOUPDATE: "false"}), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("expected", "stored", "wanted"),
    [c[1:] for c in BINDING_CASES],
    ids=[c[0] for c in BINDING_CASES],
)
def test_bindings(expected: Obj, stored: Obj, wanted: Obj | str | None) -> None:
    assert reconciled_binding(expected, stored) == wanted
