"""The Authorizer over the Store: RBAC's decisions, remembered only until the next RBAC change.

Each case first asks a question (so its answer is cached), then makes one RBAC write, of each
kind, and asks again: the answer follows the write. Aggregation is a ClusterRole write made by
the clusterrole-aggregation controller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.authorization import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    ROLES,
    Authorizer,
    StorePolicy,
)
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.requestinfo import request_info
from podwall.apiserver.store import Store
from podwall.apiserver.userinfo import MASTERS, UserInfo

RBAC = "rbac.authorization.k8s.io/v1"
ALICE = UserInfo("alice", groups=("devs", "system:authenticated"))
GET_POD = request_info("GET", "/api/v1/namespaces/default/pods/web")
VIEW_LABEL = "rbac.authorization.k8s.io/aggregate-to-view"


def role(kind: str, name: str, verbs: list[str], **meta: Any) -> dict[str, Any]:
    rules = [{"verbs": verbs, "apiGroups": [""], "resources": ["pods"]}]
    return {"apiVersion": RBAC, "kind": kind, "metadata": {"name": name, **meta}, "rules": rules}


def binding(kind: str, name: str, role_kind: str, role_name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": RBAC, "kind": kind, "metadata": {"name": name, **meta},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                    "name": role_name},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                      "name": "devs"}],
    }  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


def _rules(verbs: list[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "rules": [{"verbs": verbs, "apiGroups": [""], "resources": ["pods"]}]}

    return change


def _role_granted(store: Store) -> None:
    store.create(ROLES, role("Role", "reader", ["get"], namespace="default"))
    store.create(ROLE_BINDINGS, binding("RoleBinding", "r", "Role", "reader", namespace="default"))


def _cluster_role_granted(store: Store) -> None:
    store.create(CLUSTER_ROLES, role("ClusterRole", "reader", ["get"]))
    store.create(CLUSTER_ROLE_BINDINGS, binding("ClusterRoleBinding", "r", "ClusterRole", "reader"))


CASES = [
    # (id, setup, the RBAC write, allowed before, allowed after)
    ("role-changed", _role_granted,
     lambda s: s.mutate(ROLES, "default", "reader", _rules(["list"])), True, False),
    ("role-deleted", _role_granted, lambda s: s.delete(ROLES, "default", "reader"), True, False),
    ("role-created", lambda s: s.create(ROLE_BINDINGS, binding(
        "RoleBinding", "r", "Role", "reader", namespace="default")),
     lambda s: s.create(ROLES, role("Role", "reader", ["get"], namespace="default")), False, True),
    ("rolebinding-deleted", _role_granted,
     lambda s: s.delete(ROLE_BINDINGS, "default", "r"), True, False),
    ("rolebinding-created", lambda s: s.create(ROLES, role(
        "Role", "reader", ["get"], namespace="default")),
     lambda s: s.create(ROLE_BINDINGS, binding(
         "RoleBinding", "r", "Role", "reader", namespace="default")), False, True),
    ("clusterrole-changed", _cluster_role_granted,
     lambda s: s.mutate(CLUSTER_ROLES, "", "reader", _rules(["list"])), True, False),
    ("clusterrole-created", lambda s: s.create(CLUSTER_ROLE_BINDINGS, binding(
        "ClusterRoleBinding", "r", "ClusterRole", "reader")),
     lambda s: s.create(CLUSTER_ROLES, role("ClusterRole", "reader", ["get"])), False, True),
    ("clusterrolebinding-deleted", _cluster_role_granted,
     lambda s: s.delete(CLUSTER_ROLE_BINDINGS, "", "r"), True, False),
    ("clusterrolebinding-created", lambda s: s.create(CLUSTER_ROLES, role(
        "ClusterRole", "reader", ["get"])),
     lambda s: s.create(CLUSTER_ROLE_BINDINGS, binding(
         "ClusterRoleBinding", "r", "ClusterRole", "reader")), False, True),
    ("namespace-deleted", _role_granted, lambda s: s.delete("namespaces", "", "default"),
     True, False),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "write", "before", "after"),
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])  # fmt: skip
def test_a_decision_follows_every_rbac_write(
    store: Store,
    setup: Callable[[Store], object],
    write: Callable[[Store], object],
    before: bool,
    after: bool,
) -> None:
    authorizer = Authorizer(StorePolicy(store))
    setup(store)
    assert authorizer.allowed(ALICE, GET_POD) is before
    assert authorizer.allowed(ALICE, GET_POD) is before  # now from the cache
    write(store)
    assert authorizer.allowed(ALICE, GET_POD) is after


def test_decisions_are_per_user_groups_and_request(store: Store) -> None:
    authorizer = Authorizer(StorePolicy(store))
    _role_granted(store)
    outsider = UserInfo("alice", groups=("system:authenticated",))  # same name, not in devs
    delete = request_info("DELETE", "/api/v1/namespaces/default/pods/web")
    elsewhere = request_info("GET", "/api/v1/namespaces/other/pods/web")
    asked = [(ALICE, GET_POD), (outsider, GET_POD), (ALICE, delete), (ALICE, elsewhere)]
    answers = [authorizer.allowed(user, attrs) for user, attrs in asked]
    assert answers == [True, False, False, False]


def test_masters_need_no_rbac(store: Store) -> None:
    root = UserInfo("root", groups=(MASTERS,))
    assert Authorizer(StorePolicy(store)).allowed(root, GET_POD)


def test_aggregation_reaches_a_cached_decision(store: Store) -> None:
    reconciler = Reconciler(store, controllers=["clusterrole-aggregation"])
    reconciler.install()
    try:
        authorizer = Authorizer(StorePolicy(store))
        store.create(
            CLUSTER_ROLE_BINDINGS, binding("ClusterRoleBinding", "v", "ClusterRole", "view")
        )
        assert reconciler.wait_idle()
        exec_pods = request_info("POST", "/api/v1/namespaces/default/pods/web/exec")
        assert not authorizer.allowed(ALICE, exec_pods)
        extra = role("ClusterRole", "exec-view", ["create"], labels={VIEW_LABEL: "true"})
        extra["rules"][0]["resources"] = ["pods/exec"]
        store.create(CLUSTER_ROLES, extra)
        assert reconciler.wait_idle()  # the controller has written `view` anew
        assert authorizer.allowed(ALICE, exec_pods)
    finally:
        reconciler.remove()
